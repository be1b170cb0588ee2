# The level-conditioned base network (rgtopo.models.base_network(levels=2)) trained in memory:
# 4x4 lattices at level 0 and 8x8 lattices decimated once (factor f) at level 1.
# argv: n8 (8x8 training labels), share of level-1 draws, epochs, f, [n4 drawn per epoch],
# [residual blocks, ConditionedShifts sums] (default 4 and 4; session 9 ran 2 and 16)
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import *  # noqa: E402,F401,F403  (fresh, report, np, time)
import keras  # noqa: E402
from rgtopo.models import base_network, compile_model, feature_scales, level_code, CHERN_CLASSES  # noqa: E402
from rgtopo.lattice import decimate  # noqa: E402
from rgtopo.symmetries import augment  # noqa: E402
n8, share1, epochs, f = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
per_epoch = int(sys.argv[5]) if len(sys.argv) > 5 else 1000000
blocks, shifts = (int(a) for a in sys.argv[6:8]) if len(sys.argv) > 7 else (4, 4)
keras.utils.set_random_seed(5)
def coarse(x):
    while x.shape[1] > 4: x = decimate(x, f)
    return np.asarray(x, dtype="float32")
x4, y4, _ = fresh(4, 1000000, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0))
x8, y8, _ = fresh(8, 200000, distribution="boundary_biased", stream="probe_train8", disorder_scale=(0.0, 2.0))
x8, y8 = coarse(x8[:n8]), y8[:n8]
xt = np.concatenate([x4, x8]); yt = np.concatenate([y4, y8]); lt = np.concatenate([np.zeros(len(y4), int), np.ones(len(y8), int)])
w = np.concatenate([np.full(len(y4), (1 - share1) / len(y4)), np.full(len(y8), share1 / len(y8))])
model = base_network(256, architecture="spectral", blocks=blocks, shifts=shifts, loss="cross_entropy",
                     scales=feature_scales(x4[:4096]), levels=2)
steps = epochs * (per_epoch // 1024)
compile_model(model, keras.optimizers.schedules.CosineDecay(0.006, steps, alpha=1e-5 / 0.006), 0.9, True,
              chern=True, optimizer="adam", loss="cross_entropy")
rng = np.random.default_rng(0); t0 = time.perf_counter()
evals = {4: fresh(4, 20000), 8: fresh(8, 4000), 16: fresh(16, 1000)}
for e in range(epochs):
    idx = rng.choice(len(xt), size=per_epoch, p=w)
    xa, ya = augment(xt[idx], yt[idx], rng)
    model.fit([xa, np.eye(2, dtype="float32")[lt[idx]]], ya, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    if e >= epochs - 1:
        for n, (x, y, g) in evals.items():
            for level in ({4: [0], 8: [1], 16: [0, 1]}[n]):
                logits = model.predict([coarse(x), level_code(2, level, len(x))], batch_size=4096, verbose=0)
                pred = np.argmax(logits, 1) + min(CHERN_CLASSES)
                report(f"blocks={blocks} shifts={shifts} n8={n8} share1={share1} f={f} per_epoch={per_epoch} epoch {e+1} "
                       f"({time.perf_counter()-t0:.0f}s) N={n} level {level}", pred, y, x)
