# Does the 4x4 base network lack precision near the clean phase boundaries?
# session 10's canon64 recipe (level 0 only, in memory, session 7's 10^6 boundary-biased lattices,
# Adam 0.006 per-step cosine, batch 1024) with optional "boundary coordinates": the lattice-averaged
# mu's signed distances to the clean boundaries mu = +-2 and mu = +-2 t_minus, in units of the mu
# disorder's spread and clipped, fed beside the features (and to the shift weights with '+edgeshift').
# '+ln' normalizes each residual block's input (LayerNormalization).
# '+fresh3': every epoch after the first on its own new boundary-biased lattices.
# '+mix' trains on 500,000 of the boundary-biased lattices and 500,000 uniform ones.
# argv: variant (canon64[+edge][+edgeshift][+fixed][+mix][+ln][+fresh3]) epochs [lattices per epoch] [rate] [width] [blocks]
import os
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session10"))
from common import *  # noqa: E402,F401,F403
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402
from rgtopo.models import (DisorderFeatures, ConditionedShifts, compile_model, feature_scales,  # noqa: E402
                           CanonicalLattice, CHERN_CLASSES, HEAD_WIDTHS)

variant, epochs = sys.argv[1], int(sys.argv[2])
per_epoch = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
rate = float(sys.argv[4]) if len(sys.argv) > 4 else 0.006
width = int(sys.argv[5]) if len(sys.argv) > 5 else 256
blocks = int(sys.argv[6]) if len(sys.argv) > 6 else 4
SEED = int(os.environ.get("PROBE_SEED", 5))  # '+save' keeps the fresh-set probabilities per seed
keras.utils.set_random_seed(SEED)


class BoundaryCoordinates(layers.Layer):
    def __init__(self, scale, clip=8.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.clip = float(scale), float(clip)

    def call(self, x):
        mean = ops.mean(x, axis=(1, 2))
        mu, tm = mean[:, 0:1], mean[:, 1:2]
        d = ops.concatenate([mu - 2.0, mu + 2.0, mu - 2.0 * tm, mu + 2.0 * tm], axis=-1)
        return ops.clip(d / self.scale, -self.clip, self.clip)


def build(variant, scales, shifts=4):
    inp = keras.Input((4, 4, 3))
    lattice, sign = CanonicalLattice()(inp)
    x = DisorderFeatures(**scales)(lattice)
    means = x[:, :3]
    if "edge" in variant:
        edge = BoundaryCoordinates(scales["disorder_scale"][0])(lattice)
        x = layers.Concatenate()([x, edge])
        if "edgeshift" in variant:
            means = layers.Concatenate()([means, edge])
    m = layers.Dense(64, activation="relu")(means)
    m = layers.Dense(64, activation="relu")(m)
    weights = layers.Dense(x.shape[-1] * shifts,
                           kernel_initializer=keras.initializers.VarianceScaling(1.0 / x.shape[-1]))(m)
    x = layers.Concatenate()([x, ConditionedShifts(shifts)([weights, x])])
    x = layers.Dense(width, activation="relu")(x)
    for _ in range(blocks):
        skip = x
        h = layers.LayerNormalization()(x) if "ln" in variant else x
        x = layers.Dense(width)(layers.Dense(width, activation="relu")(h))
        x = layers.ReLU()(layers.Add()([x, skip]))
    logits = layers.Dense(HEAD_WIDTHS["cross_entropy"])(x)
    logits = ops.where((sign < 0), ops.flip(logits, axis=1), logits)
    return keras.Model(inp, logits)


over = {"disorder_scale": (1.0, 1.0)} if "fixed" in variant else {"disorder_scale": (0.0, 2.0)}
stream = "probe_train_fixed" if "fixed" in variant else "probe_train"
x4, y4, _ = fresh(4, 1000000, distribution="boundary_biased", stream=stream, **over)
if "mix" in variant:  # half the boundary-biased lattices replaced by uniform ones (same disorder range)
    xu, yu, _ = fresh(4, 500000, distribution="uniform", stream="probe_train_uniform", **over)
    x4, y4 = np.concatenate([x4[:500000], xu]), np.concatenate([y4[:500000], yu])
    order = np.random.default_rng(1).permutation(len(x4))
    x4, y4 = x4[order], y4[order]
xe, ye, _ = fresh(4, 20000)
model = build(variant, feature_scales(x4[:4096]))
steps = epochs * (per_epoch // 1024)
compile_model(model, keras.optimizers.schedules.CosineDecay(rate, steps, alpha=1e-5 / rate), 0.9, True,
              chern=True, optimizer="adam", loss="cross_entropy")
print(f"{variant} rate {rate} width {width} blocks {blocks}: {model.count_params()} parameters", flush=True)
rng = np.random.default_rng(SEED - 5)
t0 = time.perf_counter()
for e in range(epochs):
    if "fresh3" in variant and e:  # epochs after the first on new lattices, each seen once
        xs, ys, _ = fresh(4, per_epoch, distribution="boundary_biased", stream=f"probe_train_e{e}", **over)
        model.fit(xs, ys, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    else:
        idx = rng.choice(len(x4), size=per_epoch, replace=per_epoch > len(x4))
        model.fit(x4[idx], y4[idx], batch_size=1024, epochs=1, verbose=0, shuffle=True)
    for name, (x, y) in {"fresh": (xe, ye), "train50k": (x4[:50000], y4[:50000])}.items():
        pred = np.argmax(model.predict(x, batch_size=4096, verbose=0), 1) + min(CHERN_CLASSES)
        report(f"{variant} epoch {e + 1}/{epochs} ({time.perf_counter() - t0:.0f}s) {name}", pred, y, x)
if "save" in variant:
    np.save(f"prob_{variant}_seed{SEED}.npy", keras.activations.softmax(model.predict(xe, batch_size=4096, verbose=0)))
