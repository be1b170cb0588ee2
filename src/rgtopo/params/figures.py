"""The figures' parameters: one class per figure or table with keys of its own
(``rgtopo.figures.registry`` names each figure's class)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import ClassVar

from ..errors import SpecError
from .core import Params, _section, _top


@dataclasses.dataclass(frozen=True, kw_only=True)
class FigureParams(Params):
    """What every figure and table gets (``rgtopo.figures.registry``): the seed, TensorFlow's for
    a figure that loads a network. A figure with keys of its own subclasses it and reads them
    in ``own``; the registry names each figure's class."""

    WHERE: ClassVar[str] = "figures"
    seed: int

    @classmethod
    def from_config(cls, config: Mapping, *, config_files: str = "") -> FigureParams:
        """The figure's parameters; ``config_files``: the config files as a reader names them."""
        return cls.from_dict({"seed": _top(config, "seed"), **cls.own(config, config_files)})

    @classmethod
    def own(cls, config: Mapping, config_files: str) -> dict:
        return {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PhaseDiagramParams(FigureParams):
    """Fig. 2: points per axis of the phase diagrams and the clean lattices' Delta."""

    grid: int
    delta0: float

    @classmethod
    def own(cls, config: Mapping, config_files: str) -> dict:
        figures = _section(config, "figures")
        return {"grid": _top(figures, "phase_diagram_grid"), "delta0": _top(figures, "delta0")}


@dataclasses.dataclass(frozen=True, kw_only=True)
class SelectionParams(FigureParams):
    """Figs. 3 and training curves: the validation size RG epochs are chosen on."""

    select_size: int

    @classmethod
    def own(cls, config: Mapping, config_files: str) -> dict:
        return {"select_size": _top(_section(config, "rg_training"), "select_size")}


@dataclasses.dataclass(frozen=True, kw_only=True)
class DensityParams(FigureParams):
    """Fig. 4: the boundary bias the training set was drawn with and the histogram's bins."""

    alpha: float
    bins: int

    @classmethod
    def own(cls, config: Mapping, config_files: str) -> dict:
        return {"alpha": _top(_section(config, "sampling"), "alpha"),
                "bins": _top(_section(config, "figures"), "fig4_bins")}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PointsMappingParams(FigureParams):
    """Fig. 7 (``figures.points_mapping``): clean lattices on a grid, RG applied ``steps`` times."""

    WHERE: ClassVar[str] = "figures.points_mapping"
    grid: int
    steps: int
    lattice_size: int
    delta0: float

    @classmethod
    def own(cls, config: Mapping, config_files: str) -> dict:
        figures = _section(config, "figures")
        return {**_top(figures, "points_mapping"), "delta0": _top(figures, "delta0")}

    def __post_init__(self):
        super().__post_init__()
        if self.lattice_size % 2:
            raise SpecError(f"figures.points_mapping: RG input size must be even, "
                            f"got {self.lattice_size}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImpurityParams(FigureParams):
    """Fig. 8 (``figures.impurity``): one impurity of each strength on a clean lattice."""

    WHERE: ClassVar[str] = "figures.impurity"
    size: int
    site: tuple[int, int]
    mu0: float
    t_minus0: float
    delta0: float
    strengths: tuple[float, ...]

    @classmethod
    def own(cls, config: Mapping, config_files: str) -> dict:
        return dict(_top(_section(config, "figures"), "impurity"))

    def __post_init__(self):
        super().__post_init__()
        if self.size % 2:
            raise SpecError(f"figures.impurity: RG input size must be even, got {self.size}")
        if max(self.site) >= self.size:
            raise SpecError(f"figures.impurity.site: {list(self.site)} lies outside the lattice")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableParams(FigureParams):
    """Table 1: the config files it was made with, named in its title."""

    config_name: str

    @classmethod
    def own(cls, config: Mapping, config_files: str) -> dict:
        return {"config_name": config_files}
