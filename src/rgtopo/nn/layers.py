"""The custom Keras layers of the networks, registered under the package name "rgtopo".

Saved networks name these classes "rgtopo>ClassName": the names and ``get_config`` keys are
part of every ``.keras`` file (the shipped bundle's too), so they must not change.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from ..errors import SpecError
from ..physics.lattice import level_code
from ..physics.symmetries import NEGATE_T_MINUS

PACKAGE = "rgtopo"


@keras.saving.register_keras_serializable(package=PACKAGE)
class LatticePad(layers.Layer):
    """Pad a (B, N, N, C) lattice by ``width`` sites on every side, periodically or with zeros."""

    def __init__(self, width=1, mode="periodic", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("periodic", "zero"):
            raise SpecError(f"padding mode must be 'periodic' or 'zero', got {mode!r}")
        self.width = int(width)
        self.mode = mode

    def call(self, x):
        w = self.width
        if self.mode == "zero":
            return ops.pad(x, [[0, 0], [w, w], [w, w], [0, 0]])
        x = ops.concatenate([x[:, -w:], x, x[:, :w]], axis=1)
        return ops.concatenate([x[:, :, -w:], x, x[:, :, :w]], axis=2)

    def compute_output_shape(self, shape):
        grow = lambda n: None if n is None else n + 2 * self.width  # noqa: E731
        return (shape[0], grow(shape[1]), grow(shape[2]), shape[3])

    def get_config(self):
        return {**super().get_config(), "width": self.width, "mode": self.mode}


def conv2d(width, kernel, name, stride=1, activation="relu", init_scale=0.01):
    """A 'valid' Conv2D with small fan-in-scaled normal initial weights (pad before it)."""
    return layers.Conv2D(
        width,
        kernel,
        strides=stride,
        padding="valid",
        activation=activation,
        kernel_initializer=keras.initializers.VarianceScaling(
            scale=init_scale, mode="fan_in", distribution="normal"
        ),
        name=name,
    )


@keras.saving.register_keras_serializable(package=PACKAGE)
class DisorderFeatures(layers.Layer):
    """Translation-invariant view of a 4x4 lattice that makes the disorder visible.

    The lattice average of each channel (what the clean phase diagram reads) is
    standardized with the training set's spread of averages; the deviations
    from it (100x smaller than the averages' range) are standardized with the
    disorder's own spread. Besides the deviations, their power spectra and
    cross spectra per momentum are given: second-order perturbation theory
    shifts the gap-closing points by sums of exactly these products (real and
    imaginary parts of the cross spectra: bond disorder enters with phases).
    """

    def __init__(self, mean_center, mean_scale, disorder_scale, **kwargs):
        super().__init__(**kwargs)
        self.mean_center = [float(v) for v in mean_center]
        self.mean_scale = [float(v) for v in mean_scale]
        self.disorder_scale = [float(v) for v in disorder_scale]

    def call(self, x):
        n = x.shape[1]
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        dev = (x - mean) / ops.convert_to_tensor(self.disorder_scale, x.dtype)
        mean = (mean[:, 0, 0] - ops.convert_to_tensor(self.mean_center, x.dtype)) / ops.convert_to_tensor(
            self.mean_scale, x.dtype)
        channels_first = ops.transpose(dev, (0, 3, 1, 2))
        re, im = ops.fft2((channels_first, ops.zeros_like(channels_first)))
        flat = lambda t: ops.reshape(t, (-1, n * n))  # noqa: E731
        spectra = [flat(re[:, c] * re[:, c] + im[:, c] * im[:, c]) / (n * n) for c in range(3)]
        pairs = ((0, 1), (0, 2), (1, 2))
        spectra += [flat(re[:, a] * re[:, b] + im[:, a] * im[:, b]) / (n * n) for a, b in pairs]
        spectra += [flat(im[:, a] * re[:, b] - re[:, a] * im[:, b]) / (n * n) for a, b in pairs]
        return ops.concatenate([mean, ops.reshape(dev, (-1, 3 * n * n)), *spectra], axis=-1)

    def compute_output_shape(self, shape):
        return (shape[0], 3 + 12 * shape[1] * shape[2])

    def get_config(self):
        return {**super().get_config(), "mean_center": self.mean_center,
                "mean_scale": self.mean_scale, "disorder_scale": self.disorder_scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConditionedShifts(layers.Layer):
    """``units`` sums of the features, each weighted by a function of the lattice averages.

    In second-order perturbation theory a phase boundary moves by
    sum_q w_q(mu, t_minus) |V_q|^2: spectra weighted by energy denominators of
    the averages. A ReLU network approximates such products poorly, so they
    are formed explicitly: inputs [weights (B, F * units), features (B, F)].
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def call(self, inputs):
        weights, features = inputs
        weights = ops.reshape(weights, (-1, features.shape[-1], self.units))
        return ops.einsum("bfj,bf->bj", weights, features)

    def compute_output_shape(self, shapes):
        return (shapes[1][0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CanonicalLattice(layers.Layer):
    """One representative of each 4x4 lattice's orbit under its 64 exact symmetries.

    mu -> -mu where the average mu is negative (the Chern number flips: the sign
    is returned for ``SignedChern``), then the transpose with t_minus -> -t_minus
    where the average t_minus is negative, then the cyclic translation that puts
    the largest mu on site (0, 0) (rgtopo.physics.symmetries). The network behind it is
    exactly invariant and fits one lattice per orbit instead of learning the
    copies from augmentation.
    """

    def call(self, x):
        n = x.shape[1]
        mean = ops.mean(x, axis=(1, 2))
        sign = ops.where(mean[:, 0] < 0, -1.0, 1.0)
        ones = ops.ones_like(sign)
        x = x * ops.stack([sign, ones, ones], axis=-1)[:, None, None, :]
        swapped = ops.transpose(x, (0, 2, 1, 3)) * ops.convert_to_tensor(NEGATE_T_MINUS, x.dtype)
        x = ops.where((mean[:, 1] < 0)[:, None, None, None], swapped, x)
        flat = ops.reshape(x, (-1, n * n, 3))
        site = ops.argmax(flat[..., 0], axis=1)
        index = ops.take(ops.convert_to_tensor(_translations(n)), site, axis=0)
        flat = ops.take_along_axis(flat, ops.repeat(index[..., None], 3, axis=-1), axis=1)
        return ops.reshape(flat, (-1, n, n, 3)), sign[:, None]

    def compute_output_shape(self, shape):
        return shape, (shape[0], 1)


def _translations(n: int) -> np.ndarray:
    """Row s: the site order that translates site s = x * n + y to (0, 0)."""
    return np.array([[((x + s // n) % n) * n + (y + s % n) % n for x in range(n) for y in range(n)]
                     for s in range(n * n)], dtype=np.int32)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SignedChern(layers.Layer):
    """The head's output for the original lattice from the canonical one's: C -> -C where
    ``CanonicalLattice`` negated mu (a scalar changes sign; logits over -2 ... 2 reverse)."""

    def call(self, inputs):
        out, sign = inputs
        if out.shape[-1] == 1:
            return out * sign
        return ops.where(sign < 0, ops.flip(out, axis=1), out)

    def compute_output_shape(self, shapes):
        return shapes[0]


@keras.saving.register_keras_serializable(package=PACKAGE)
class LevelCode(layers.Layer):
    """The one-hot ``level`` (of ``levels``) for every lattice of a batch: a compound network's
    constant second input to a level-conditioned base network."""

    def __init__(self, level, levels, **kwargs):
        super().__init__(**kwargs)
        self.level, self.levels = int(level), int(levels)

    def call(self, x):
        code = ops.convert_to_tensor(level_code(self.levels, self.level, 1))
        return ops.ones((ops.shape(x)[0], 1), dtype=code.dtype) * code

    def compute_output_shape(self, shape):
        return (shape[0], self.levels)

    def get_config(self):
        return {**super().get_config(), "level": self.level, "levels": self.levels}
