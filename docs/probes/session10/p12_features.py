# Does the 4x4 base network underfit for want of third-order features or multiplicative blocks?
# Level-0 network only (levels=1), trained in memory on session 7's 10^6 boundary-biased 4x4
# lattices (disorder x U[0, 2]), Adam 0.006 per-step cosine, batch 1024, symmetry augmentation;
# scored on session 7's fresh seed-11 uniform 4x4 set (20,000) and on 50,000 training lattices.
# argv: variant (base | bispec | glu | bispec_glu | canon (translation canonicalized), canon64 (also mu >= 0 with the
# class axis reversed, t_minus >= 0 by the transpose), '+noaug' to train without symmetry augmentation), epochs, [lattices per epoch], [Adam peak rate],
# [pool: train only on the first this many lattices (the memorization test)]
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import *  # noqa: E402,F401,F403  (fresh, report, np, time)
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402
from rgtopo.models import (DisorderFeatures, ConditionedShifts, compile_model, feature_scales,  # noqa: E402
                           CHERN_CLASSES, HEAD_WIDTHS)
from rgtopo.symmetries import augment  # noqa: E402

variant, epochs = sys.argv[1], int(sys.argv[2])
per_epoch = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
rate = float(sys.argv[4]) if len(sys.argv) > 4 else 0.006
pool = int(sys.argv[5]) if len(sys.argv) > 5 else None
keras.utils.set_random_seed(5)


class Bispectrum(layers.Layer):
    """Re and Im of V(q1) V(q2) V*(q1 + q2) of the standardized mu deviations, q1 <= q2."""

    def __init__(self, disorder_scale, **kwargs):
        super().__init__(**kwargs)
        self.disorder_scale = float(disorder_scale)
        n = 4
        qs = [(a, b) for a in range(n) for b in range(n)]
        idx = {q: i for i, q in enumerate(qs)}
        pairs = [(i, j) for i in range(n * n) for j in range(i, n * n)]
        self.i = np.array([p[0] for p in pairs])
        self.j = np.array([p[1] for p in pairs])
        self.k = np.array([idx[((qs[i][0] + qs[j][0]) % n, (qs[i][1] + qs[j][1]) % n)] for i, j in pairs])

    def call(self, x):
        mu = x[..., 0]
        dev = (mu - ops.mean(mu, axis=(1, 2), keepdims=True)) / self.disorder_scale
        re, im = ops.fft2((dev, ops.zeros_like(dev)))
        re, im = ops.reshape(re, (-1, 16)), ops.reshape(im, (-1, 16))
        g = lambda t, ix: ops.take(t, ix, axis=1)  # noqa: E731
        a, b, c, d = g(re, self.i), g(im, self.i), g(re, self.j), g(im, self.j)
        e, f = g(re, self.k), g(im, self.k)
        pr, pi = a * c - b * d, a * d + b * c
        return ops.concatenate([pr * e + pi * f, pi * e - pr * f], axis=-1) / 64.0


class Canonical(layers.Layer):
    """Cyclic translation that puts the largest mu on site (0, 0): one representative per orbit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        n = 4
        self.perm = np.array([[((x + s // n) % n) * n + (y + s % n) % n for x in range(n) for y in range(n)]
                              for s in range(n * n)])

    def call(self, x):
        flat = ops.reshape(x, (-1, 16, 3))
        shift = ops.argmax(flat[..., 0], axis=1)
        idx = ops.take(ops.convert_to_tensor(self.perm), shift, axis=0)
        out = ops.take_along_axis(flat, ops.repeat(idx[..., None], 3, axis=-1), axis=1)
        return ops.reshape(out, (-1, 4, 4, 3))


class SignCanonical(layers.Layer):
    """mu -> -mu where the average mu < 0 (returns the sign: the Chern number flips), then the
    transpose with t_minus -> -t_minus where the average t_minus < 0."""

    def call(self, x):
        mean = ops.mean(x, axis=(1, 2))
        sign = ops.where(mean[:, 0] < 0, -1.0, 1.0)
        ones = ops.ones_like(sign)
        x = x * ops.stack([sign, ones, ones], axis=-1)[:, None, None, :]
        swapped = ops.transpose(x, (0, 2, 1, 3)) * ops.convert_to_tensor([1.0, -1.0, 1.0])
        x = ops.where((mean[:, 1] < 0)[:, None, None, None], swapped, x)
        return x, sign


def build(variant, scales, width=256, shifts=4):
    inp = keras.Input((4, 4, 3))
    lattice, sign = inp, None
    if "canon64" in variant:
        lattice, sign = SignCanonical()(inp)
    x = DisorderFeatures(**scales)(Canonical()(lattice) if "canon" in variant else lattice)
    means = x[:, :3]
    if "bispec" in variant:
        x = layers.Concatenate()([x, Bispectrum(scales["disorder_scale"][0])(inp)])
    m = layers.Dense(64, activation="relu")(means)
    m = layers.Dense(64, activation="relu")(m)
    weights = layers.Dense(x.shape[-1] * shifts,
                           kernel_initializer=keras.initializers.VarianceScaling(1.0 / x.shape[-1]))(m)
    x = layers.Concatenate()([x, ConditionedShifts(shifts)([weights, x])])
    x = layers.Dense(width, activation="relu")(x)
    for _ in range(3 if "glu" in variant else 4):
        skip = x
        if "glu" in variant:
            h = layers.Multiply()([layers.Dense(width, activation="relu")(x), layers.Dense(width)(x)])
            x = layers.Dense(width)(h)
        else:
            x = layers.Dense(width)(layers.Dense(width, activation="relu")(x))
        x = layers.ReLU()(layers.Add()([x, skip]))
    logits = layers.Dense(HEAD_WIDTHS["cross_entropy"])(x)
    if sign is not None:  # classes -2..2: C -> -C reverses the class axis
        logits = ops.where((sign < 0)[:, None], ops.flip(logits, axis=1), logits)
    return keras.Model(inp, logits)


x4, y4, _ = fresh(4, 1000000, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0))
x4, y4 = x4[:pool], y4[:pool]
xe, ye, _ = fresh(4, 20000)
model = build(variant, feature_scales(x4[:4096]))
steps = epochs * (per_epoch // 1024)
compile_model(model, keras.optimizers.schedules.CosineDecay(rate, steps, alpha=1e-5 / rate), 0.9, True,
              chern=True, optimizer="adam", loss="cross_entropy")
print(f"{variant} rate {rate}: {model.count_params()} parameters", flush=True)
rng = np.random.default_rng(0)
t0 = time.perf_counter()
for e in range(epochs):
    idx = rng.choice(len(x4), size=per_epoch, replace=per_epoch > len(x4))
    xa, ya = (x4[idx], y4[idx]) if "noaug" in variant else augment(x4[idx], y4[idx], rng)
    model.fit(xa, ya, batch_size=1024, epochs=1, verbose=0, shuffle=True)
    for name, (x, y) in {"fresh": (xe, ye), "train50k": (x4[:50000], y4[:50000])}.items():
        pred = np.argmax(model.predict(x, batch_size=4096, verbose=0), 1) + min(CHERN_CLASSES)
        report(f"{variant} epoch {e + 1}/{epochs} ({time.perf_counter() - t0:.0f}s) {name}", pred, y, x)
