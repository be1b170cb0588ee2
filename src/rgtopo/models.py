"""The networks of Appendices A and B in Keras 3: base ResNet, RG ResNet, compound network.

* base network: 4x4x3 lattice -> Chern number. Nine 3x3 convolutions of width W
  (ReLU, zero padding), skips around layers (2, 3), (4, 5), (6, 7), (8, 9), max
  pooling over the lattice, one linear output.
* RG network: 2Nx2Nx3 -> NxNx3, fully convolutional. Layer 1 is a 3x3, stride 2
  convolution of width W; layers 2-9 have width 2W; the skip around (2, 3) is a
  stride-2 1x1 projection of the input lattice, the other skips are identities;
  a final 1x1 convolution gives the 3 channels. Before every 3x3 convolution
  the lattice is padded by one site, periodically (default) or with zeros (the
  ablation of Fig. 6), and the convolution is 'valid', so output site i is
  centred on input site 2i in both modes.
* compound network: RG applied k times, then the frozen base network.

Custom pieces are registered with Keras, so ``rgtopo.load_model`` (or
``keras.saving.load_model`` after ``import rgtopo.models``) needs no
custom_objects.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from .errors import LatticeError, ModelError, SpecError
from .lattice import BASE_SIZE, rg_steps  # noqa: F401  (rg_steps: part of this module's API)
from .params import LOSS_HEADS
from .symmetries import NEGATE_T_MINUS, positive_delta

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


@keras.saving.register_keras_serializable(package=PACKAGE)
def abs_square_loss(y_true, y_pred):
    """Eq. (A2): |e| + e^2, summed over sites and channels, averaged over the batch."""
    e = ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")
    per = ops.abs(e) + ops.square(e)
    if len(per.shape) > 1:
        per = ops.sum(ops.reshape(per, (ops.shape(per)[0], -1)), axis=-1)
    return per


CHERN_CLASSES = (-2, -1, 0, 1, 2)


def chern_value(output):
    """Real-valued Chern number from a network output.

    A scalar head (the paper's) is the value itself; a class head holds logits
    over CHERN_CLASSES and its value is the expected Chern number.
    """
    if output.shape[-1] == 1:
        return ops.reshape(output, (-1,))
    probs = ops.softmax(ops.cast(output, "float32"), axis=-1)
    return ops.sum(probs * ops.convert_to_tensor(CHERN_CLASSES, "float32"), axis=-1)


def _class_index(y_true):
    """Integer Chern labels as indices into CHERN_CLASSES (clipped to its range)."""
    lo = CHERN_CLASSES[0]
    return ops.clip(ops.reshape(ops.cast(y_true, "int32"), (-1,)) - lo, 0, len(CHERN_CLASSES) - 1)


@keras.saving.register_keras_serializable(package=PACKAGE)
def chern_cross_entropy(y_true, y_pred):
    """Cross-entropy of class logits against integer Chern labels (classes -2 ... 2)."""
    return keras.losses.sparse_categorical_crossentropy(_class_index(y_true), y_pred,
                                                        from_logits=True)


@keras.saving.register_keras_serializable(package=PACKAGE)
def chern_expected_error(y_true, y_pred):
    """1 - p(label) of class logits: the expected error rate, bounded per lattice.

    Cross-entropy lets the few lattices a network is confidently wrong on
    dominate; an RG network trained through a frozen base then learns to hedge
    (coarse lattices the base is unsure of), which lowers the loss but costs
    accuracy and does not compose. This loss only pays for getting labels right.
    """
    probs = ops.softmax(ops.cast(y_pred, "float32"), axis=-1)
    return 1.0 - ops.sum(probs * ops.one_hot(_class_index(y_true), len(CHERN_CLASSES)), axis=-1)


LOSSES = {"abs_square": abs_square_loss, "cross_entropy": chern_cross_entropy,
          "expected_error": chern_expected_error}
HEAD_WIDTHS = {loss: {"value": 1, "classes": len(CHERN_CLASSES)}[LOSS_HEADS[loss]] for loss in LOSSES}
"""Outputs of the Chern head each loss trains: one value (Eq. A2) or logits over CHERN_CLASSES."""


def _check_known_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise SpecError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")


def head_loss(model: keras.Model) -> str:
    """The first loss (in LOSSES' order) that fits a network's Chern head, from its width."""
    width = model.output_shape[-1]
    for loss, outputs in HEAD_WIDTHS.items():
        if outputs == width:
            return loss
    raise ModelError(f"{model.name}: a Chern head of {width} outputs matches no loss")


def check_head_loss(model: keras.Model, loss: str) -> None:
    """SpecError unless ``loss`` trains a Chern head like ``model``'s (RG stage: the base's)."""
    _check_known_loss(loss)
    if HEAD_WIDTHS[loss] != model.output_shape[-1]:
        raise SpecError(f"loss {loss!r} needs a Chern head of {HEAD_WIDTHS[loss]} outputs; "
                        f"{model.name} has {model.output_shape[-1]} (a {LOSS_HEADS[head_loss(model)]}"
                        " head)")


@keras.saving.register_keras_serializable(package=PACKAGE)
def chern_accuracy(y_true, y_pred):
    """Per lattice 1 if the rounded predicted Chern number equals the label (Keras averages)."""
    y_true = ops.reshape(ops.cast(y_true, "float32"), (-1,))
    y_pred = ops.cast(chern_value(y_pred), "float32")
    return ops.cast(ops.equal(ops.round(y_pred), y_true), "float32")


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


def feature_scales(lattices) -> dict:
    """DisorderFeatures' standardization constants, measured on a sample of training lattices."""
    x = np.asarray(lattices, dtype=np.float64)
    mean = x.mean(axis=(1, 2))
    dev = (x - mean[:, None, None, :]).reshape(-1, 3)
    tiny = np.finfo(np.float32).eps
    return {"mean_center": mean.mean(axis=0).tolist(),
            "mean_scale": np.maximum(mean.std(axis=0), tiny).tolist(),
            "disorder_scale": np.maximum(dev.std(axis=0), tiny).tolist()}


def _conv(width, kernel, name, stride=1, activation="relu", init_scale=0.01):
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


BASE_ARCHITECTURES = ("conv", "spectral")


@keras.saving.register_keras_serializable(package=PACKAGE)
class CanonicalLattice(layers.Layer):
    """One representative of each 4x4 lattice's orbit under its 64 exact symmetries.

    mu -> -mu where the average mu is negative (the Chern number flips: the sign
    is returned for ``SignedChern``), then the transpose with t_minus -> -t_minus
    where the average t_minus is negative, then the cyclic translation that puts
    the largest mu on site (0, 0) (rgtopo.symmetries). The network behind it is
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


def level_code(levels: int, level: int, count: int) -> np.ndarray:
    """``count`` one-hot rows (float32) saying a lattice was coarse-grained ``level`` times."""
    if not 0 <= level < levels:
        raise SpecError(f"level {level} outside the base network's levels 0..{levels - 1}")
    return np.tile(np.eye(levels, dtype=np.float32)[level], (int(count), 1))


def base_levels(base: keras.Model) -> int:
    """How many coarse-graining levels a base network tells apart (1: the paper's, no level input)."""
    return 1 if len(base.inputs) == 1 else int(base.inputs[1].shape[-1])


def base_level(base: keras.Model, steps: int) -> int:
    """The level a base network reads a lattice at after ``steps`` RG steps: the deepest it knows."""
    return min(int(steps), base_levels(base) - 1)


def base_network(width: int, *, architecture: str = "conv", blocks: int = 4, shifts: int = 0,
                 loss: str = "abs_square", scales: dict | None = None, levels: int = 1,
                 canonical: bool = False, name: str = "base_network") -> keras.Model:
    """The 4x4 base network.

    'conv' is the paper's convolutional ResNet (Appendix A, zero padding).
    'spectral' is a residual network of dense layers on DisorderFeatures
    (needs ``scales`` from ``feature_scales``), about 3x cheaper per lattice
    on a CPU, with ``shifts`` ConditionedShifts sums beside the features. The head is one scalar for the
    paper's loss and logits over CHERN_CLASSES for 'cross_entropy' and 'expected_error'.
    With ``levels`` > 1 (spectral only) a second input, the one-hot level (how many
    times the lattice was coarse-grained), joins the features: a coarse-grained
    lattice's label is the larger lattice's, not the one its own 4x4 invariant gives.
    With ``canonical`` the lattice first goes to its orbit's representative
    (``CanonicalLattice``), and the head's answer back through ``SignedChern``.
    """
    if architecture not in BASE_ARCHITECTURES:
        raise SpecError(f"unknown base architecture {architecture!r}; known: {BASE_ARCHITECTURES}")
    _check_known_loss(loss)
    if int(levels) < 1 or (levels > 1 and architecture != "spectral"):
        raise SpecError(f"levels must be >= 1, and 1 for the {architecture!r} base network; "
                        f"got {levels}")
    outputs = HEAD_WIDTHS[loss]
    inp = keras.Input((BASE_SIZE, BASE_SIZE, 3), name="lattice")
    lattice, sign = inp, None
    if canonical:
        lattice, sign = CanonicalLattice(name="canonical")(inp)

    def head(x):
        out = layers.Dense(outputs, name="chern")(x)
        return out if sign is None else SignedChern(name="signed_chern")([out, sign])

    if architecture == "spectral":
        if scales is None:
            raise SpecError("the spectral base network needs feature scales")
        x = DisorderFeatures(**scales, name="disorder_features")(lattice)
        means = x[:, :3]
        inputs = inp
        if levels > 1:
            level = keras.Input((levels,), name="level")
            inputs = [inp, level]
            x = layers.Concatenate(name="features_and_level")([x, level])
            means = layers.Concatenate(name="means_and_level")([means, level])
        if shifts:
            means = layers.Dense(64, activation="relu", name="means_hidden1")(means)
            means = layers.Dense(64, activation="relu", name="means_hidden2")(means)
            weights = layers.Dense(
                x.shape[-1] * shifts, name="shift_weights",
                kernel_initializer=keras.initializers.VarianceScaling(1.0 / x.shape[-1]))(means)
            x = layers.Concatenate(name="features_and_shifts")(
                [x, ConditionedShifts(shifts, name="shifts")([weights, x])])
        x = layers.Dense(width, activation="relu", name="dense1")(x)
        for block in range(blocks):
            skip = x
            x = layers.Dense(width, activation="relu", name=f"dense{2 * block + 2}")(x)
            x = layers.Dense(width, name=f"dense{2 * block + 3}")(x)
            x = layers.ReLU(name=f"relu{2 * block + 3}")(layers.Add(name=f"skip{block}")([x, skip]))
        return keras.Model(inputs, head(x), name=name)
    pad = lambda i: LatticePad(1, "zero", name=f"pad{i}")  # noqa: E731
    x = _conv(width, 3, "conv1")(pad(1)(lattice))
    for layer in (2, 4, 6, 8):
        skip = x
        x = _conv(width, 3, f"conv{layer}")(pad(layer)(x))
        x = _conv(width, 3, f"conv{layer + 1}")(pad(layer + 1)(x))
        x = layers.ReLU(name=f"relu{layer + 1}")(layers.Add(name=f"skip{layer}")([x, skip]))
    x = layers.MaxPooling2D(BASE_SIZE, name="max_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inp, head(x), name=name)


def rg_network(width: int, *, padding: str = "periodic", linear_path: bool = False,
               disorder_factor: float | None = None, name: str = "rg_network") -> keras.Model:
    """The RG ResNet (Appendix B): any 2N x 2N lattice -> N x N with one set of weights.

    ``linear_path`` adds a linear branch to the output: 2x2 average pooling, then
    a 3x3 convolution (same padding as the rest). With ``disorder_factor`` that
    branch starts as exactly ``lattice.decimate(x, disorder_factor)`` and the
    ResNet's output layer at zero, so the network *is* the decimation before any
    training and learns corrections to it; without, everything starts random
    (the uninitialized ablation). The paper's network has no such branch: it
    must learn pooling through ReLUs, which it does only approximately.
    """
    inp = keras.Input((None, None, 3), name="lattice")
    pad = lambda i: LatticePad(1, padding, name=f"pad{i}")  # noqa: E731
    x = _conv(width, 3, "conv1", stride=2)(pad(1)(inp))
    skip = _conv(2 * width, 1, "skip_projection", stride=2, activation=None)(inp)
    for layer in (2, 4, 6, 8):
        x = _conv(2 * width, 3, f"conv{layer}")(pad(layer)(x))
        x = _conv(2 * width, 3, f"conv{layer + 1}")(pad(layer + 1)(x))
        x = layers.ReLU(name=f"relu{layer + 1}")(layers.Add(name=f"skip{layer}")([x, skip]))
        skip = x
    exact = linear_path and disorder_factor is not None
    out = layers.Conv2D(3, 1, name="to_lattice",
                        kernel_initializer="zeros" if exact else "glorot_uniform")(x)
    if linear_path:
        kernel = "glorot_uniform"
        if exact:
            kernel = keras.initializers.Constant(decimation_kernel(disorder_factor))
        pooled = layers.AveragePooling2D(2, name="average_pool")(inp)
        linear = layers.Conv2D(3, 3, padding="valid", name="decimation",
                               kernel_initializer=kernel)(pad("_decimation")(pooled))
        out = layers.Add(name="decimation_and_correction")([linear, out])
    return keras.Model(inp, out, name=name)


def decimation_kernel(disorder_factor: float) -> np.ndarray:
    """3x3 kernel (3 -> 3 channels) of box mean + factor * (site - box mean), per channel."""
    per_channel = np.full((3, 3), (1.0 - disorder_factor) / 9.0)
    per_channel[1, 1] += disorder_factor
    return np.einsum("ij,cd->ijcd", per_channel, np.eye(3)).astype(np.float32)


def compound_network(base: keras.Model, rg: keras.Model, size: int) -> keras.Model:
    """RG applied k times to a size x size lattice, then the frozen base network (at level k)."""
    base.trainable = False
    inp = keras.Input((size, size, 3), name="lattice")
    x = inp
    steps = rg_steps(size)
    for _ in range(steps):
        x = rg(x)
    levels = base_levels(base)
    if levels > 1:
        x = [x, LevelCode(base_level(base, steps), levels, name="level_code")(x)]
    return keras.Model(inp, base(x), name=f"compound_{size}")


OPTIMIZERS = ("sgd", "adam")


def compile_model(model: keras.Model, learning_rate: float, momentum: float, nesterov: bool,
                  *, chern: bool, optimizer: str = "sgd", loss: str = "abs_square") -> keras.Model:
    """The loss of Eq. (A2) with SGD and (Nesterov) momentum as in the paper.

    optimizer 'adam' (momentum and nesterov ignored) is offered for small CPU
    runs, where SGD at the paper's rates converges too slowly.
    """
    if optimizer == "sgd":
        opt = keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov)
    elif optimizer == "adam":
        opt = keras.optimizers.Adam(learning_rate)
    else:
        raise SpecError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    _check_known_loss(loss)
    model.compile(
        optimizer=opt,
        loss=LOSSES[loss] if chern else abs_square_loss,
        metrics=[chern_accuracy] if chern else None,
        jit_compile=False,
    )
    return model


def load_model(path, *, compile: bool = False) -> keras.Model:
    """Load a saved base, RG or compound network (no custom_objects needed)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such saved model or checkpoint")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a saved Keras model (not a .keras zip archive)")
    try:
        return keras.saving.load_model(path, compile=compile)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a loadable Keras model ({exc})") from None


def apply_rg(rg: keras.Model, lattices, steps: int, batch_size: int = 256) -> np.ndarray:
    """The lattice after ``steps`` applications of the RG network, shape (B, N/2^k, N/2^k, 3)."""
    x = np.asarray(lattices, dtype=np.float32)
    for _ in range(steps):
        if x.shape[1] % 2:
            raise LatticeError(f"the RG network needs an even lattice size, got {x.shape[1]}")
        x = _predict(rg, x, batch_size)
    return x


def _predict(model, x, batch_size, code=None):
    """model(x) batch by batch; with ``code`` (one row per lattice), model([x, code])."""
    def part(i):
        chunk = x[i : i + batch_size]
        return chunk if code is None else [chunk, code[i : i + batch_size]]

    out = [np.asarray(model(part(i), training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, *model.output_shape[1:]), np.float32)


def predict_chern(lattices, base=None, rg: keras.Model | None = None,
                  batch_size: int = 256, *, level: int | None = None) -> np.ndarray:
    """Predicted (real-valued) Chern numbers of lattices of size 4 * 2^k.

    base: a base network (with ``rg`` its RG network, None only for 4x4 input),
    a ``Bundle`` from ``rgtopo.load_bundle`` or a bundle directory, or None for
    the bundle shipped with the package. Lattices with a negative average Delta
    are read as their Delta -> -Delta images (the same Chern number; the
    networks were trained on Delta > 0). Round the result to get integer
    labels. ``level``: how many times 4x4 input was coarse-grained elsewhere
    (default: the RG steps taken here), for a level-conditioned base network.
    """
    from .lattice import as_lattice_batch

    if base is None or not isinstance(base, keras.Model):
        from .bundle import Bundle, load_bundle

        if level is not None:
            raise SpecError("predict_chern: level= needs a base network, not a bundle")
        if base is None or isinstance(base, (str, os.PathLike)):
            base = load_bundle(base)
        if not isinstance(base, Bundle):
            raise SpecError(f"predict_chern: base must be a Keras model, a Bundle or a bundle "
                            f"directory, got {type(base).__name__}")
        return base.predict(lattices, batch_size=batch_size)
    x = positive_delta(as_lattice_batch(lattices)).astype(np.float32)
    steps = rg_steps(x.shape[1])
    if steps and rg is None:
        raise LatticeError(f"{x.shape[1]}x{x.shape[1]} lattices need an RG network")
    x = apply_rg(rg, x, steps, batch_size) if steps else x
    levels, code = base_levels(base), None
    if levels > 1:
        code = level_code(levels, base_level(base, steps if level is None else level), len(x))
    return np.asarray(chern_value(_predict(base, x, batch_size, code)), dtype=np.float64)
