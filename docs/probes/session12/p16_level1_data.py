# Is level 1 of the base network short of 8x8 lattices? The default base network (canonical, levels 2,
# width 256, 4 blocks, 4 shifts, cross-entropy, Adam 0.006 per-step cosine, batch 1024) trained in
# memory on session 7's 10^6 boundary-biased 4x4 lattices (level 0) and the first N8 of session 7's
# 200,000 boundary-biased 8x8 lattices (level 1: a random symmetry at 8x8, then the exact decimation
# with the config's disorder_factor), level-1 draws 30 % of each epoch as in the default config.
# Scored on session 7's fresh seed-11 sets: 4x4 at level 0, 8x8 decimated once at level 1.
# argv: n8 epochs
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import *  # noqa: E402,F401,F403
import keras  # noqa: E402
from rgtopo.lattice import decimate  # noqa: E402
from rgtopo.models import base_network, compile_model, feature_scales, level_code, CHERN_CLASSES  # noqa: E402
from rgtopo.symmetries import augment  # noqa: E402

n8, epochs = int(sys.argv[1]), int(sys.argv[2])
factor = CONFIG["decimation"]["disorder_factor"]
share = CONFIG["base_network"]["coarse_share"]
keras.utils.set_random_seed(5)
x4, y4, _ = fresh(4, 1000000, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0))
x8, y8, _ = fresh(8, 200000, distribution="boundary_biased", stream="probe_train8", disorder_scale=(0.0, 2.0))
x8, y8 = x8[:n8], y8[:n8]
e4, f4, _ = fresh(4, 20000)
e8, f8, _ = fresh(8, 4000)
model = base_network(256, architecture="spectral", blocks=4, shifts=4, loss="cross_entropy",
                     scales=feature_scales(x4[:4096]), levels=2, canonical=True)
per_epoch = len(x4) + int(round(share / (1 - share) * len(x4)))
steps = epochs * (per_epoch // 1024)
compile_model(model, keras.optimizers.schedules.CosineDecay(0.006, steps, alpha=1e-5 / 0.006), 0.9, True,
              chern=True, optimizer="adam", loss="cross_entropy")
rng = np.random.default_rng(0)
t0 = time.perf_counter()


def predict(x, level):
    out = model.predict((x, level_code(2, level, len(x))), batch_size=4096, verbose=0)
    return np.argmax(out, 1) + min(CHERN_CLASSES)


for e in range(epochs):
    idx = rng.integers(len(x8), size=per_epoch - len(x4))
    parts = [augment(x8[idx[i:i + 1024]], y8[idx[i:i + 1024]], rng) for i in range(0, len(idx), 1024)]
    c8, l8 = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])  # a translation per batch
    xs = np.concatenate([x4, decimate(c8, factor).astype(np.float32)])
    ys = np.concatenate([y4, l8]).astype(np.float32)[:, None]
    codes = np.concatenate([level_code(2, 0, len(x4)), level_code(2, 1, len(c8))])
    model.fit((xs, codes), ys, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    tag = f"n8 {n8} epoch {e + 1}/{epochs} ({time.perf_counter() - t0:.0f}s)"
    report(f"{tag} 4x4 level 0", predict(e4, 0), f4, e4)
    report(f"{tag} 8x8 level 1", predict(decimate(e8, factor).astype(np.float32), 1), f8, e8)
