"""The paper's convolutional base network (Appendix A): 4x4x3 lattice -> Chern number.

Nine 3x3 convolutions of width W (ReLU, zero padding) with skips around layers (2, 3),
(4, 5), (6, 7), (8, 9), max pooling over the lattice and one linear output. ``config/paper.yaml``
trains it; the default config trains the spectral network (``rgtopo.nn.spectral``).
"""

from __future__ import annotations

import keras
from keras import layers

from ..params import ConvParams
from ..physics.lattice import BASE_SIZE
from .heads import chern_head, lattice_input
from .layers import LatticePad, conv2d


def build(params: ConvParams, *, scales=None, name: str = "base_network") -> keras.Model:
    """The network; ``scales`` is unused (the convolutions read the raw lattice)."""
    inp, lattice, sign = lattice_input(params.canonical)
    pad = lambda i: LatticePad(1, "zero", name=f"pad{i}")  # noqa: E731
    x = conv2d(params.width, 3, "conv1")(pad(1)(lattice))
    for layer in range(2, 2 * params.blocks + 2, 2):
        skip = x
        x = conv2d(params.width, 3, f"conv{layer}")(pad(layer)(x))
        x = conv2d(params.width, 3, f"conv{layer + 1}")(pad(layer + 1)(x))
        x = layers.ReLU(name=f"relu{layer + 1}")(layers.Add(name=f"skip{layer}")([x, skip]))
    x = layers.MaxPooling2D(BASE_SIZE, name="max_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inp, chern_head(x, params.loss, sign), name=name)


def describe(model: keras.Model) -> dict | None:
    """The shape of a network this module built (the bundle card's record), None for another's."""
    names = {layer.name for layer in model.layers}
    if "conv1" not in names or "max_pool" not in names:
        return None
    return {"architecture": "conv", "width": int(model.get_layer("conv1").filters),
            "blocks": sum(name.startswith("skip") for name in names),
            "canonical": "canonical" in names}
