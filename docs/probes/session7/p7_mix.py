# A base network trained on 4x4 labels, on pooled 8x8 labels, or on both; the chain = plain pooling.
from common import *
import keras
from rgtopo.models import base_network, feature_scales, CHERN_CLASSES
from rgtopo.lattice import average_pool
from rgtopo.symmetries import augment
n4, n8, epochs, tag = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
keras.utils.set_random_seed(5)
parts_x, parts_y = [], []
if n4:
    x4, y4, _ = fresh(4, 1000000 if n4 <= 1000000 else n4, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0))
    parts_x.append(x4[:n4]); parts_y.append(y4[:n4])
if n8:
    x8, y8, _ = fresh(8, 200000, distribution="boundary_biased", stream="probe_train8", disorder_scale=(0.0, 2.0))
    parts_x.append(average_pool(x8[:n8]).astype("float32")); parts_y.append(y8[:n8])
xt, yt = np.concatenate(parts_x), np.concatenate(parts_y)
base = base_network(256, architecture="spectral", blocks=4, shifts=4, loss="cross_entropy", scales=feature_scales(xt[:: max(1, len(xt)//4096)]))
steps = epochs * (len(xt) // 1024)
base.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.006, steps, alpha=1e-5 / 0.006)),
             loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0); t0 = time.perf_counter(); kmin = min(CHERN_CLASSES)
evals = {4: fresh(4, 20000), 8: fresh(8, 4000), 16: fresh(16, 1000), 32: fresh(32, 64)}
def pooled(x):
    while x.shape[1] > 4: x = average_pool(x)
    return x.astype("float32")
for e in range(epochs):
    xa, ya = augment(xt, yt, rng)
    base.fit(xa, ya - kmin, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    if e >= epochs - 2:
        for n, (x, y, g) in evals.items():
            pred = np.argmax(base.predict(pooled(x), batch_size=4096, verbose=0), 1) + kmin
            report(f"{tag} epoch {e+1} ({time.perf_counter()-t0:.0f}s) N={n}", pred, y, x)
base.save(f"/tmp/base_{tag}.keras")
