# How much of an 8x8 label can a 4x4 network read from the 2x2-pooled lattice, trained directly on 8x8 labels?
from common import *
import keras
from rgtopo.models import base_network, feature_scales, CHERN_CLASSES
from rgtopo.lattice import average_pool
from rgtopo.symmetries import augment
ntrain, epochs = int(sys.argv[1]), int(sys.argv[2])
keras.utils.set_random_seed(5)
xt, yt, gt = fresh(8, ntrain, distribution="boundary_biased", stream="probe_train8", disorder_scale=(0.0, 2.0))
xv, yv, gv = fresh(8, 4000)
pt, pv = average_pool(xt).astype("float32"), average_pool(xv).astype("float32")
base = base_network(256, architecture="spectral", blocks=4, shifts=4, loss="cross_entropy", scales=feature_scales(pt[:4096]))
steps = epochs * (ntrain // 1024)
base.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.006, steps, alpha=1e-5 / 0.006)),
             loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0); t0 = time.perf_counter(); kmin = min(CHERN_CLASSES)
for e in range(epochs):
    xa, ya = augment(pt, yt, rng)
    base.fit(xa, ya - kmin, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    pred = np.argmax(base.predict(pv, batch_size=4096, verbose=0), 1) + kmin
    report(f"pooled-8x8 net {ntrain} epoch {e+1} ({time.perf_counter()-t0:.0f}s)", pred, yv, xv)
