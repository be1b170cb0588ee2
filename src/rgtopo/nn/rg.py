"""The RG network (Appendix B): any 2N x 2N x 3 lattice -> N x N x 3 with one set of weights.

Fully convolutional. Layer 1 is a 3x3, stride 2 convolution of width W; layers 2-9 have
width 2W; the skip around (2, 3) is a stride-2 1x1 projection of the input lattice, the
other skips are identities; a final 1x1 convolution gives the 3 channels. Before every 3x3
convolution the lattice is padded by one site, periodically (default) or with zeros (the
ablation of Fig. 6), and the convolution is 'valid', so output site i is centred on input
site 2i in both modes.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ..params import RGParams
from .layers import LatticePad, conv2d


def decimation_kernel(disorder_factor: float) -> np.ndarray:
    """3x3 kernel (3 -> 3 channels) of box mean + factor * (site - box mean), per channel."""
    per_channel = np.full((3, 3), (1.0 - disorder_factor) / 9.0)
    per_channel[1, 1] += disorder_factor
    return np.einsum("ij,cd->ijcd", per_channel, np.eye(3)).astype(np.float32)


def build(params: RGParams, *, disorder_factor: float | None = None,
          name: str = "rg_network") -> keras.Model:
    """The network. ``linear_path`` adds a linear branch to the output: 2x2 average pooling,
    then a 3x3 convolution (same padding as the rest). With ``disorder_factor`` that branch
    starts as exactly ``lattice.decimate(x, disorder_factor)`` and the ResNet's output layer at
    zero, so the network *is* the decimation before any training and learns corrections to it;
    without, everything starts random (the uninitialized ablation). The paper's network has no
    such branch: it must learn pooling through ReLUs, which it does only approximately.
    """
    width, padding = params.width, params.padding
    inp = keras.Input((None, None, 3), name="lattice")
    pad = lambda i: LatticePad(1, padding, name=f"pad{i}")  # noqa: E731
    x = conv2d(width, 3, "conv1", stride=2)(pad(1)(inp))
    skip = conv2d(2 * width, 1, "skip_projection", stride=2, activation=None)(inp)
    for layer in (2, 4, 6, 8):
        x = conv2d(2 * width, 3, f"conv{layer}")(pad(layer)(x))
        x = conv2d(2 * width, 3, f"conv{layer + 1}")(pad(layer + 1)(x))
        x = layers.ReLU(name=f"relu{layer + 1}")(layers.Add(name=f"skip{layer}")([x, skip]))
        skip = x
    exact = params.linear_path and disorder_factor is not None
    out = layers.Conv2D(3, 1, name="to_lattice",
                        kernel_initializer="zeros" if exact else "glorot_uniform")(x)
    if params.linear_path:
        kernel = "glorot_uniform"
        if exact:
            kernel = keras.initializers.Constant(decimation_kernel(disorder_factor))
        pooled = layers.AveragePooling2D(2, name="average_pool")(inp)
        linear = layers.Conv2D(3, 3, padding="valid", name="decimation",
                               kernel_initializer=kernel)(pad("_decimation")(pooled))
        out = layers.Add(name="decimation_and_correction")([linear, out])
    return keras.Model(inp, out, name=name)


def rg_network(width: int, *, padding: str = "periodic", linear_path: bool = False,
               disorder_factor: float | None = None, name: str = "rg_network") -> keras.Model:
    """``build`` from keyword arguments."""
    return build(RGParams(width=width, padding=padding, linear_path=linear_path),
                 disorder_factor=disorder_factor, name=name)


def describe(model: keras.Model) -> dict:
    """The shape of an RG network this module built (the bundle card's record)."""
    names = {layer.name for layer in model.layers}
    return {"width": int(model.get_layer("conv1").filters),
            "padding": model.get_layer("pad2").mode, "linear_path": "decimation" in names}
