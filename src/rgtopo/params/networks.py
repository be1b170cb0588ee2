"""Each network's shape parameters, declared once: the base architectures by name and the RG
network. ``rgtopo.nn`` builds from these classes; the training stages hold them
(``BaseNetworkParams.network``, ``DecimationParams.network``, ``RGTrainingParams.network``).

A new base architecture is one class here with its name in ``BASE_NETWORK_PARAMS``, and one
module ``rgtopo.nn.<name>`` with ``build`` and ``describe`` (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

from ..errors import SpecError
from .core import NetworkParams

LOSS_HEADS = {"abs_square": "value", "cross_entropy": "classes", "expected_error": "classes"}
"""The Chern losses by name, with the head each needs: one value (Eq. A2) or logits over the
Chern numbers (``rgtopo.nn.heads.LOSSES`` holds their functions)."""


def check_loss(where: str, loss: str) -> None:
    if loss not in LOSS_HEADS:
        raise SpecError(f"{where}: unknown loss {loss!r}; known: {', '.join(LOSS_HEADS)}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvParams(NetworkParams):
    """The paper's convolutional base network (``rgtopo.nn.conv``). ``blocks`` residual blocks of
    two convolutions follow the first (the paper's 4: nine convolutions). ``shifts`` and
    ``levels`` belong to the spectral network: here anything but 0 and 1 is a SpecError, not
    silently ignored."""

    WHERE: ClassVar[str] = "base_network"
    width: int
    blocks: int
    loss: str
    canonical: bool
    shifts: int
    levels: int

    def __post_init__(self):
        super().__post_init__()
        check_loss(f"{self.WHERE}.loss", self.loss)
        if self.levels != 1:
            raise SpecError(f"{self.WHERE}.levels: levels > 1 needs a level-conditioned "
                            f"architecture (spectral); the 'conv' base network has 1, got "
                            f"{self.levels}")
        if self.shifts:
            raise SpecError(f"{self.WHERE}.shifts: the 'conv' base network has no shifts (a "
                            f"spectral network's); must be 0, got {self.shifts}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpectralParams(NetworkParams):
    """The default base network (``rgtopo.nn.spectral``): disorder spectra, shifts conditioned on
    the lattice averages, and one-hot coarse-graining levels."""

    WHERE: ClassVar[str] = "base_network"
    width: int
    blocks: int
    shifts: int
    levels: int
    loss: str
    canonical: bool

    def __post_init__(self):
        super().__post_init__()
        check_loss(f"{self.WHERE}.loss", self.loss)
        if self.levels < 1:
            raise SpecError(f"{self.WHERE}.levels must be >= 1, got {self.levels}")


BASE_NETWORK_PARAMS: dict[str, type[NetworkParams]] = {"conv": ConvParams,
                                                       "spectral": SpectralParams}
"""The base architectures by name (``base_network.architecture``); ``rgtopo.nn.registry``
finds each one's module by the same name."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RGParams(NetworkParams):
    """The RG network (``rgtopo.nn.rg``): the ``rg_network`` section and a run's padding."""

    WHERE: ClassVar[str] = "rg_network"
    width: int
    padding: Literal["periodic", "zero"]
    linear_path: bool


def base_network_params(architecture: str) -> type[NetworkParams]:
    """The parameter class of a base architecture; SpecError for an unknown name."""
    if architecture not in BASE_NETWORK_PARAMS:
        raise SpecError(f"base_network.architecture: unknown base architecture "
                        f"{architecture!r}; known: {', '.join(BASE_NETWORK_PARAMS)}")
    return BASE_NETWORK_PARAMS[architecture]
