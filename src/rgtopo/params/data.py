"""What the sampler and the labelers read: the dataset streams and the ``labeling`` section."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import ClassVar, Literal

from ..errors import SpecError
from .core import FIXED_DISORDER, Params, SectionParams, _section, _top

LABEL_METHODS = ("bott", "localizer", "auto")
"""The labeling methods, by name: ``labeling.method``, a dataset's ``label_method`` and
``rgtopo chern --method`` take one (``rgtopo.physics.hamiltonian`` runs them)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Disorder(Params):
    """Full widths of the uniform on-site disorder per channel (mu before its size scaling)."""

    WHERE: ClassVar[str] = "disorder"
    mu: float
    t_minus: float
    Delta: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class DisorderScaling(Params):
    """The mu disorder width grows as (N / reference_size) ** exponent."""

    WHERE: ClassVar[str] = "mu_disorder_scaling"
    reference_size: float
    exponent: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetSpec(Params):
    """Everything the sampler needs for one dataset stream (``rgtopo.physics.sampling``).

    The config's ``sampling`` section plus the dataset's distribution, size,
    seed and stream name; ``decimation_range`` is the wide set's ``value_range``.
    """

    WHERE: ClassVar[str] = "dataset spec"
    distribution: str
    size: int
    seed: int
    stream: str
    mu_range: tuple[float, float]
    t_minus_range: tuple[float, float]
    delta_range: tuple[float, float]
    alpha: float
    density_grid: int
    disorder: Disorder
    mu_disorder_scaling: DisorderScaling
    value_range: tuple[float, float]
    disorder_scale: tuple[float, float]

    @classmethod
    def from_config(cls, config: Mapping, *, distribution: str, size: int, stream: str,
                    seed: int | None = None,
                    disorder_scale: tuple[float, float] = FIXED_DISORDER) -> DatasetSpec:
        """One dataset stream of a resolved config (the workflow's sets and the tests' ad hoc sets)."""
        sampling = dict(_section(config, "sampling"))
        if "decimation_range" in sampling:
            sampling["value_range"] = sampling.pop("decimation_range")
        return cls.from_dict({**sampling, "distribution": distribution, "size": size,
                              "stream": stream, "disorder_scale": tuple(disorder_scale),
                              "seed": _top(config, "seed") if seed is None else seed})

    def __post_init__(self):
        super().__post_init__()
        for key, config_key in (("mu_range", "mu_range"), ("t_minus_range", "t_minus_range"),
                                ("delta_range", "delta_range"),
                                ("value_range", "decimation_range")):
            low, high = getattr(self, key)
            if not low < high:
                raise SpecError(f"sampling.{config_key}: need low < high, got [{low}, {high}]")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LocalizerParams(Params):
    """The spectral-localizer labeler's rule (``rgtopo.physics.localizer``; defaults: config/config.yaml).

    min_tiled_size: the lattice is tiled M x M until M N reaches this; below
    min_certified_size no label is certified (on smaller tori the Bott index and the
    tiled lattice's Chern number differ even where gapped); kappa =
    kappa_scale / (M N); a label is certified when its views agree and no view's
    localizer has an eigenvalue within min_gap_ratio * kappa of 0; views: centres compared
    (1 or 2); solver: the sparse LDL^T; max_memory_gb bounds the factors held at once;
    bdg_gap: also compute the torus BdG gap (one more factorization per lattice).
    """

    WHERE: ClassVar[str] = "labeling.localizer"
    min_tiled_size: int = 48
    min_certified_size: int = 16
    kappa_scale: float = 0.32
    min_gap_ratio: float = 0.1
    views: Literal[1, 2] = 1
    solver: Literal["auto", "pardiso", "superlu"] = "auto"
    max_memory_gb: float = 8.0
    bdg_gap: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class LabelingParams(SectionParams):
    """The config's ``labeling`` section: how datasets and ``rgtopo chern`` label lattices.

    method: bott, localizer or auto (the default of a dataset without its own
    ``label_method``); auto_min_size: from this N up, ``auto`` uses the localizer;
    auto_max_states: ``rgtopo.hamiltonian_chern``'s ``auto`` uses the dense Bott index on
    tori of fewer states (1,024: the measured crossover of the generic dense Bott index,
    which has no p+ip fast path, and the localizer).
    A label of either method is certified only on a lattice whose torus BdG gap is
    at least min_gap (below it the Bott label can flip under noise far smaller
    than the disorder, and the localizer need not agree with it); a Bott label
    also needs its raw sum within max_bott_deviation of the integer.
    """

    WHERE: ClassVar[str] = "labeling"
    threads: int = 2
    progress_every: int = 2000
    method: Literal[LABEL_METHODS] = "auto"
    auto_min_size: int = 48
    auto_max_states: int = 1024
    min_gap: float = 0.05
    max_bott_deviation: float = 0.1
    localizer: LocalizerParams = dataclasses.field(default_factory=LocalizerParams)
