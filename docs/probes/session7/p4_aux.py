# Base network: does an auxiliary signed-gap regression head help the class head learn the boundary?
import os, sys
from common import *
import keras
from rgtopo.models import base_network, feature_scales, CHERN_CLASSES
from rgtopo.symmetries import augment
lam = float(sys.argv[1]); epochs = int(sys.argv[2]); ntrain = int(sys.argv[3]); gscale = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
keras.utils.set_random_seed(5)
xt, yt, gt = fresh(4, ntrain, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0))
xv, yv, gv = fresh(4, 20000)
base = base_network(256, architecture="spectral", blocks=4, shifts=4, loss="cross_entropy", scales=feature_scales(xt[:4096]))
h = base.get_layer("chern").input
aux = keras.layers.Dense(1, name="signed_gap")(h)
model = keras.Model(base.input, [base.output, aux])
steps = epochs * (ntrain // 1024)
opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.006, steps, alpha=1e-5 / 0.006))
kmin = min(CHERN_CLASSES)
model.compile(opt, loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True), keras.losses.Huber(0.1)], loss_weights=[1.0, lam])
rng = np.random.default_rng(0)
t0 = time.perf_counter()
for e in range(epochs):
    xa, ya = augment(xt, yt, rng)
    r = np.clip(np.where(yt != 0, gt, -gt) / gscale, -1, 1).astype("float32")
    model.fit(xa, [ya - kmin, r], batch_size=1024, epochs=1, verbose=0, shuffle=True)
    logits = base.predict(xv, batch_size=4096, verbose=0)
    pred = np.argmax(logits, 1) + kmin
    report(f"lam={lam} epoch {e+1} ({time.perf_counter()-t0:.0f}s)", pred, yv, xv)
