# Is the 8x8 chain limited by the 4x4 bottleneck? A spectral network on the whole 8x8 lattice (no RG,
# no decimation: canonical lattice, DisorderFeatures of all 64 sites, 4 conditioned shifts, dense
# ResNet width 256 x 4 blocks, cross-entropy, Adam 0.006 per-step cosine, batch 1024), trained on
# session 7's 200,000 boundary-biased 8x8 lattices (disorder x U[0, 2]) or the first COUNT of them,
# scored on session 7's fresh seed-11 uniform 8x8 set (4,000; clean formula 94.80 %).
# argv: epochs [count]
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import *  # noqa: E402,F401,F403
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402
from rgtopo.models import (DisorderFeatures, ConditionedShifts, compile_model, feature_scales,  # noqa: E402
                           CanonicalLattice, CHERN_CLASSES, HEAD_WIDTHS)

epochs = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
keras.utils.set_random_seed(5)
x8, y8, _ = fresh(8, 200000, distribution="boundary_biased", stream="probe_train8", disorder_scale=(0.0, 2.0))
x8, y8 = x8[:count], y8[:count]
xe, ye, _ = fresh(8, 4000)
scales = feature_scales(x8[:4096])
inp = keras.Input((8, 8, 3))
lattice, sign = CanonicalLattice()(inp)
x = DisorderFeatures(**scales)(lattice)
m = layers.Dense(64, activation="relu")(x[:, :3])
m = layers.Dense(64, activation="relu")(m)
w = layers.Dense(x.shape[-1] * 4, kernel_initializer=keras.initializers.VarianceScaling(1.0 / x.shape[-1]))(m)
x = layers.Concatenate()([x, ConditionedShifts(4)([w, x])])
x = layers.Dense(256, activation="relu")(x)
for _ in range(4):
    skip = x
    x = layers.Dense(256)(layers.Dense(256, activation="relu")(x))
    x = layers.ReLU()(layers.Add()([x, skip]))
logits = layers.Dense(HEAD_WIDTHS["cross_entropy"])(x)
model = keras.Model(inp, ops.where(sign < 0, ops.flip(logits, axis=1), logits))
steps = epochs * (len(x8) // 1024)
compile_model(model, keras.optimizers.schedules.CosineDecay(0.006, steps, alpha=1e-5 / 0.006), 0.9, True,
              chern=True, optimizer="adam", loss="cross_entropy")
t0 = time.perf_counter()
for e in range(epochs):
    model.fit(x8, y8, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    if e % 2 == 1 or e == epochs - 1:
        pred = np.argmax(model.predict(xe, batch_size=4096, verbose=0), 1) + min(CHERN_CLASSES)
        report(f"direct 8x8 ({count}) epoch {e + 1}/{epochs} ({time.perf_counter() - t0:.0f}s) fresh", pred, ye, xe)
        pred = np.argmax(model.predict(x8[:20000], batch_size=4096, verbose=0), 1) + min(CHERN_CLASSES)
        report(f"direct 8x8 ({count}) epoch {e + 1}/{epochs} train20k", pred, y8[:20000], x8[:20000])
