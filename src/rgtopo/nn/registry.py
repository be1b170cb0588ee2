"""Base-network architectures by name: the config's ``base_network.architecture`` picks one.

A new architecture is its parameter class in ``rgtopo.params.networks`` (named in
``BASE_NETWORK_PARAMS``) and one module here of the same name with ``build`` and ``describe``;
tests/test_nn.py holds the config schema's list of names to this mapping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from importlib import import_module

import keras

from ..errors import SpecError
from ..params import BASE_NETWORK_PARAMS, NetworkParams


@dataclasses.dataclass(frozen=True)
class BaseArchitecture:
    """One base network: its parameters (``rgtopo.params.networks``), its builder, the reader of
    a built network's shape (the bundle card's record) and, where its inputs are standardized,
    the function that measures the constants on training lattices (passed as ``scales``)."""

    params: type[NetworkParams]
    build: Callable[..., keras.Model]
    describe: Callable[[keras.Model], dict | None]
    scales: Callable[..., dict] | None = None


def _architecture(name: str) -> BaseArchitecture:
    module = import_module(f"{__package__}.{name}")
    return BaseArchitecture(BASE_NETWORK_PARAMS[name], module.build, module.describe,
                            getattr(module, "feature_scales", None))


BASE_NETWORKS: dict[str, BaseArchitecture] = {name: _architecture(name)
                                              for name in BASE_NETWORK_PARAMS}
"""Each architecture named in ``rgtopo.params.BASE_NETWORK_PARAMS``, from the module
``rgtopo.nn.<name>`` (``build``, ``describe`` and, if it standardizes, ``feature_scales``)."""


def architecture(name: str) -> BaseArchitecture:
    """The architecture called ``name``; SpecError for an unknown one."""
    if name not in BASE_NETWORKS:
        raise SpecError(f"unknown base architecture {name!r}; known: {tuple(BASE_NETWORKS)}")
    return BASE_NETWORKS[name]


def describe_base(model: keras.Model) -> dict:
    """The architecture and shape of a built base network, as its own module reads it ({} for a
    network none of them built)."""
    for arch in BASE_NETWORKS.values():
        found = arch.describe(model)
        if found is not None:
            return found
    return {}


def build_base(name: str, section: Mapping, *, scales: dict | None = None,
               network: str = "base_network") -> keras.Model:
    """Architecture ``name`` from a ``base_network`` section (or a stage's parameters)."""
    arch = architecture(name)
    return arch.build(arch.params.from_section(section), scales=scales, name=network)


def base_network(width: int, *, architecture: str = "conv", blocks: int = 4, shifts: int = 0,
                 loss: str = "abs_square", scales: dict | None = None, levels: int = 1,
                 canonical: bool = False, name: str = "base_network") -> keras.Model:
    """The 4x4 base network from keyword arguments (defaults: the paper's convolutional network;
    the default config's is 'spectral'). The head is one scalar for the paper's loss and logits
    over CHERN_CLASSES for 'cross_entropy' and 'expected_error'. With ``canonical`` the lattice
    first goes to its orbit's representative (``CanonicalLattice``), and the head's answer back
    through ``SignedChern``."""
    section = dict(width=width, blocks=blocks, shifts=shifts, loss=loss, levels=levels,
                   canonical=canonical)
    return build_base(architecture, section, scales=scales, network=name)
