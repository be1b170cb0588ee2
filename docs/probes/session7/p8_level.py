# A 4x4 network told how many times the lattice was pooled (level 0: 4x4, 1: 8x8, 2: 16x16).
from common import *
import keras
from keras import layers
from rgtopo.models import DisorderFeatures, ConditionedShifts, feature_scales, CHERN_CLASSES
from rgtopo.lattice import average_pool
from rgtopo.symmetries import augment
n4, n8, n16, epochs = (int(v) for v in sys.argv[1:5])
keras.utils.set_random_seed(5)
def pooled(x):
    while x.shape[1] > 4: x = average_pool(x)
    return x.astype("float32")
def level_of(n): return {4: 0, 8: 1, 16: 2, 32: 2}[n]
sets = []
if n4: x, y, _ = fresh(4, 1000000, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0)); sets.append((x[:n4], y[:n4], 0))
if n8: x, y, _ = fresh(8, 200000, distribution="boundary_biased", stream="probe_train8", disorder_scale=(0.0, 2.0)); sets.append((pooled(x[:n8]), y[:n8], 1))
if n16: x, y, _ = fresh(16, n16, distribution="boundary_biased", stream="probe_train16", disorder_scale=(0.0, 2.0)); sets.append((pooled(x), y, 2))
xt = np.concatenate([s[0] for s in sets]); yt = np.concatenate([s[1] for s in sets])
lt = np.concatenate([np.full(len(s[1]), s[2]) for s in sets])
# oversample the small sets so each level is seen often enough
w = np.concatenate([np.full(len(s[1]), 1.0 / len(s[1])) for s in sets]); w /= w.sum()
inp = keras.Input((4, 4, 3)); lev = keras.Input((3,))
f = DisorderFeatures(**feature_scales(xt[::max(1, len(xt)//4096)]))(inp)
f = layers.Concatenate()([f, lev])
m = layers.Dense(64, activation="relu")(layers.Concatenate()([f[:, :3], lev])); m = layers.Dense(64, activation="relu")(m)
wts = layers.Dense(f.shape[-1] * 4, kernel_initializer=keras.initializers.VarianceScaling(1.0 / f.shape[-1]))(m)
h = layers.Concatenate()([f, ConditionedShifts(4)([wts, f])])
h = layers.Dense(256, activation="relu")(h)
for b in range(4):
    s = h; h = layers.Dense(256, activation="relu")(h); h = layers.Dense(256)(h); h = layers.ReLU()(layers.Add()([h, s]))
model = keras.Model([inp, lev], layers.Dense(5)(h))
per_epoch = len(xt)
steps = epochs * (per_epoch // 1024)
model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.006, steps, alpha=1e-5 / 0.006)),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0); t0 = time.perf_counter(); kmin = min(CHERN_CLASSES)
evals = {4: fresh(4, 20000), 8: fresh(8, 4000), 16: fresh(16, 1000), 32: fresh(32, 64)}
for e in range(epochs):
    idx = rng.choice(len(xt), size=per_epoch, p=w)
    xa, ya = augment(xt[idx], yt[idx], rng)
    model.fit([xa, np.eye(3, dtype="float32")[lt[idx]]], ya - kmin, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    if e >= epochs - 2:
        for n, (x, y, g) in evals.items():
            pred = np.argmax(model.predict([pooled(x), np.tile(np.eye(3, dtype="float32")[level_of(n)], (len(x), 1))], batch_size=4096, verbose=0), 1) + kmin
            report(f"level-net epoch {e+1} ({time.perf_counter()-t0:.0f}s) N={n} level {level_of(n)}", pred, y, x)
