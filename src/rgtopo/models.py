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

from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from .errors import LatticeError, ShardError, SpecError
from .lattice import BASE_SIZE, rg_steps  # noqa: F401  (rg_steps: part of this module's API)

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


@keras.saving.register_keras_serializable(package=PACKAGE)
def chern_accuracy(y_true, y_pred):
    """Per lattice 1 if the rounded prediction equals the integer label (Keras averages)."""
    y_true = ops.reshape(ops.cast(y_true, "float32"), (-1,))
    y_pred = ops.reshape(ops.cast(y_pred, "float32"), (-1,))
    return ops.cast(ops.equal(ops.round(y_pred), y_true), "float32")


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


def base_network(width: int, *, name: str = "base_network") -> keras.Model:
    """The 4x4 base ResNet (Appendix A); zero padding as in the paper."""
    inp = keras.Input((BASE_SIZE, BASE_SIZE, 3), name="lattice")
    pad = lambda i: LatticePad(1, "zero", name=f"pad{i}")  # noqa: E731
    x = _conv(width, 3, "conv1")(pad(1)(inp))
    for layer in (2, 4, 6, 8):
        skip = x
        x = _conv(width, 3, f"conv{layer}")(pad(layer)(x))
        x = _conv(width, 3, f"conv{layer + 1}")(pad(layer + 1)(x))
        x = layers.ReLU(name=f"relu{layer + 1}")(layers.Add(name=f"skip{layer}")([x, skip]))
    x = layers.MaxPooling2D(BASE_SIZE, name="max_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    out = layers.Dense(1, name="chern")(x)
    return keras.Model(inp, out, name=name)


def rg_network(width: int, *, padding: str = "periodic", name: str = "rg_network") -> keras.Model:
    """The RG ResNet (Appendix B): any 2N x 2N lattice -> N x N with one set of weights."""
    inp = keras.Input((None, None, 3), name="lattice")
    pad = lambda i: LatticePad(1, padding, name=f"pad{i}")  # noqa: E731
    x = _conv(width, 3, "conv1", stride=2)(pad(1)(inp))
    skip = _conv(2 * width, 1, "skip_projection", stride=2, activation=None)(inp)
    for layer in (2, 4, 6, 8):
        x = _conv(2 * width, 3, f"conv{layer}")(pad(layer)(x))
        x = _conv(2 * width, 3, f"conv{layer + 1}")(pad(layer + 1)(x))
        x = layers.ReLU(name=f"relu{layer + 1}")(layers.Add(name=f"skip{layer}")([x, skip]))
        skip = x
    out = layers.Conv2D(3, 1, name="to_lattice")(x)
    return keras.Model(inp, out, name=name)


def compound_network(base: keras.Model, rg: keras.Model, size: int) -> keras.Model:
    """RG applied k times to a size x size lattice, then the frozen base network."""
    base.trainable = False
    inp = keras.Input((size, size, 3), name="lattice")
    x = inp
    for _ in range(rg_steps(size)):
        x = rg(x)
    return keras.Model(inp, base(x), name=f"compound_{size}")


OPTIMIZERS = ("sgd", "adam")


def compile_model(model: keras.Model, learning_rate: float, momentum: float, nesterov: bool,
                  *, chern: bool, optimizer: str = "sgd") -> keras.Model:
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
    model.compile(
        optimizer=opt,
        loss=abs_square_loss,
        metrics=[chern_accuracy] if chern else None,
        jit_compile=False,
    )
    return model


def load_model(path, *, compile: bool = False) -> keras.Model:
    """Load a saved base, RG or compound network (no custom_objects needed)."""
    path = Path(path)
    if not path.is_file():
        raise ShardError(f"{path}: no such saved model or checkpoint")
    try:
        return keras.saving.load_model(path, compile=compile)
    except (OSError, ValueError) as exc:
        raise ShardError(f"{path}: not a loadable Keras model ({exc})") from None


def apply_rg(rg: keras.Model, lattices, steps: int, batch_size: int = 256) -> np.ndarray:
    """The lattice after ``steps`` applications of the RG network, shape (B, N/2^k, N/2^k, 3)."""
    x = np.asarray(lattices, dtype=np.float32)
    for _ in range(steps):
        if x.shape[1] % 2:
            raise LatticeError(f"the RG network needs an even lattice size, got {x.shape[1]}")
        x = _predict(rg, x, batch_size)
    return x


def _predict(model, x, batch_size):
    out = [np.asarray(model(x[i : i + batch_size], training=False))
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, *model.output_shape[1:]), np.float32)


def predict_chern(lattices, base=None, rg: keras.Model | None = None,
                  batch_size: int = 256) -> np.ndarray:
    """Predicted (real-valued) Chern numbers of lattices of size 4 * 2^k.

    base: a base network (with ``rg`` its RG network, None only for 4x4 input),
    a ``Bundle`` from ``rgtopo.load_bundle``, or None for the bundle shipped
    with the package. Round the result to get integer labels.
    """
    from .lattice import as_lattice_batch

    if base is None or not isinstance(base, keras.Model):
        from .bundle import load_bundle

        bundle = load_bundle(None) if base is None else base
        return bundle.predict(lattices, batch_size=batch_size)
    x = as_lattice_batch(lattices).astype(np.float32)
    steps = rg_steps(x.shape[1])
    if steps and rg is None:
        raise LatticeError(f"{x.shape[1]}x{x.shape[1]} lattices need an RG network")
    x = apply_rg(rg, x, steps, batch_size) if steps else x
    return _predict(base, x, batch_size)[:, 0]
