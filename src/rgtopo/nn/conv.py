"""The paper's convolutional base network (Appendix A): 4x4x3 lattice -> Chern number.

Nine 3x3 convolutions of width W (ReLU, zero padding) with skips around layers (2, 3),
(4, 5), (6, 7), (8, 9), max pooling over the lattice and one linear output. ``config/paper.yaml``
trains it; the default config trains the spectral network (``rgtopo.nn.spectral``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import keras
from keras import layers

from ..errors import SpecError
from ..lattice import BASE_SIZE
from ..params import NetworkParams
from .heads import check_known_loss, chern_head, lattice_input
from .layers import LatticePad, conv2d


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvParams(NetworkParams):
    """Its keys of the ``base_network`` section. ``blocks`` residual blocks of two convolutions
    follow the first (the paper's 4: nine convolutions). ``shifts`` and ``levels`` belong to the
    spectral network: here anything but 0 and 1 is a SpecError, not silently ignored."""

    WHERE: ClassVar[str] = "base_network"
    width: int
    blocks: int
    loss: str
    canonical: bool
    shifts: int
    levels: int

    def __post_init__(self):
        super().__post_init__()
        check_known_loss(self.loss)
        if self.levels != 1:
            raise SpecError(f"levels must be >= 1, and 1 for the 'conv' base network; "
                            f"got {self.levels}")
        if self.shifts:
            raise SpecError(f"{self.WHERE}.shifts: the 'conv' base network has no shifts (a "
                            f"spectral network's); must be 0, got {self.shifts}")


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
