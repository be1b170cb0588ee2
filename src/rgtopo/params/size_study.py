"""The size study's parameters: its conventions, its sets, and its own RG run."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import ClassVar, Literal

from ..errors import SpecError
from .core import BASE_SIZE, Params, _section, _top
from .data import DatasetSpec
from .stages import RGTrainingParams


@dataclasses.dataclass(frozen=True, kw_only=True)
class Convention(Params):
    """One disorder convention of the size study: the mu width at N is mu * (N / reference
    size) ** exponent (``sampling.mu_disorder_scaling``'s reference size), the other widths
    those of ``sampling.disorder``. Its own ``counts`` serve a convention whose accuracy is far
    from 100 %, which needs more lattices for the same interval."""

    WHERE: ClassVar[str] = "size_study.conventions"
    exponent: float
    mu: float
    counts: tuple[int, ...] | None  # this convention's own counts per size, else size_study's


@dataclasses.dataclass(frozen=True, kw_only=True)
class SizeStudyParams(Params):
    """The size study's analysis (``rgtopo.evaluation.size_study``): ``size_study`` less what the rules
    read (which sets to draw, which bundle), with the labels' certificate threshold."""

    WHERE: ClassVar[str] = "size_study"
    RULE_KEYS: ClassVar[tuple] = ("counts", "conventions", "label_method", "auto_min_size",
                                  "bundle", "in_all", "training")
    seed: int
    sizes: tuple[int, ...]
    accuracy_conventions: tuple[str, ...]
    accuracy_min_size: int
    batch_size: int

    @classmethod
    def from_config(cls, config: Mapping) -> SizeStudyParams:
        return cls.from_dict(_section(config, cls.WHERE, cls.RULE_KEYS))

    def __post_init__(self):
        super().__post_init__()
        for n in self.sizes:
            k = n // BASE_SIZE
            if n % BASE_SIZE or k & (k - 1):
                raise SpecError(f"size_study.sizes: {n}: sizes must be 4 * 2^k so the RG chain "
                                "halves them to 4")
        if list(self.sizes) != sorted(set(self.sizes)):
            raise SpecError("size_study.sizes: must be increasing, without repeats")

    def accuracy_sizes(self) -> list[int]:
        """The sizes the chain's accuracy is measured at."""
        return [n for n in self.sizes if n >= self.accuracy_min_size]


def size_study_set(convention: str, size: int) -> str:
    """The name of one size-study set (its shards' folder and its sampler stream's tail)."""
    return f"{convention}_{size}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SizeStudyTraining(Params):
    """The size study's own RG training (``size_study.training``): the measured bundle's RG
    network trained on in one convention, on the smallest training size and then in tied
    phases on each larger one, selected on the largest validation size. What it does not
    name comes from ``rg_training`` and the evaluated run (``evaluation.run``)."""

    WHERE: ClassVar[str] = "size_study.training"
    in_study: bool
    convention: str
    distribution: Literal["uniform", "boundary_biased"]
    train_sizes: tuple[int, ...]
    train_counts: tuple[int, ...]
    validation_sizes: tuple[int, ...]
    validation_counts: tuple[int, ...]
    epochs: int
    tied_epochs: int
    learning_rate: float
    tied_learning_rate: float
    tied_batch_size: int
    certified_only: bool

    def __post_init__(self):
        super().__post_init__()
        for key in ("train", "validation"):
            sizes, counts = getattr(self, f"{key}_sizes"), getattr(self, f"{key}_counts")
            if len(sizes) != len(counts) or not sizes:
                raise SpecError(f"{self.WHERE}.{key}_counts: {len(counts)} counts for "
                                f"{len(sizes)} sizes")
            if list(sizes) != sorted(set(sizes)) or sizes[0] < 2 * BASE_SIZE:
                raise SpecError(f"{self.WHERE}.{key}_sizes: must be increasing, from 8")
            for n in sizes:
                k = n // BASE_SIZE
                if n % BASE_SIZE or k & (k - 1):
                    raise SpecError(f"{self.WHERE}.{key}_sizes: {n}: sizes must be 4 * 2^k so "
                                    "the RG chain halves them to 4")
        for smaller, size in zip(self.train_sizes, self.train_sizes[1:]):
            if size != 2 * smaller:
                raise SpecError(f"{self.WHERE}.train_sizes: each must double the one before "
                                "(every tied phase adds one RG step)")
        if (len(self.train_sizes) > 1) != bool(self.tied_epochs):
            raise SpecError(f"{self.WHERE}.tied_epochs: must be > 0 exactly when train_sizes "
                            f"has more than one size (got {self.tied_epochs} for "
                            f"{list(self.train_sizes)})")
        if self.epochs < 1:
            raise SpecError(f"{self.WHERE}.epochs: must be >= 1 (each tied phase starts from "
                            "an epoch of the first)")

    def set_names(self) -> dict[str, tuple[str, str, int]]:
        """{set name: (role, distribution, size)} of the training and validation sets."""
        return {**{f"train-{self.convention}_{n}": ("train", self.distribution, n)
                   for n in self.train_sizes},
                **{f"validation-{self.convention}_{n}": ("validation", "uniform", n)
                   for n in self.validation_sizes}}

    def rg_params(self, config: Mapping, run: str, seed: int) -> RGTrainingParams:
        """The study run's stage-3 parameters: ``run``'s, with this section's keys. Its RG
        network is the measured bundle's, loaded whole: ``width``, ``padding`` and
        ``linear_path`` here are the run's, recorded but not used to build it."""
        own = {k: getattr(self, k) for k in ("epochs", "tied_epochs", "learning_rate",
                                             "tied_learning_rate", "tied_batch_size",
                                             "certified_only")}
        return dataclasses.replace(RGTrainingParams.from_config(config, run=run), **own,
                                   seed=seed, select_size=max(self.validation_sizes))


def _convention(config: Mapping, name: str) -> Convention:
    entries = _top(_section(config, SizeStudyParams.WHERE), "conventions")
    if name not in entries:
        raise SpecError(f"size_study: no convention '{name}' in size_study.conventions "
                        f"({', '.join(sorted(entries))})")
    mu = _top(_section(config, "sampling"), "disorder")["mu"]
    return Convention.from_dict({"mu": mu, "counts": None, **entries[name]},
                                f"size_study.conventions.{name}")


def _convention_config(config: Mapping, name: str) -> dict:
    """The config with ``sampling`` set to one size-study convention's disorder."""
    sampling = _section(config, "sampling")
    convention = _convention(config, name)
    return {**config, "sampling": {
        **sampling, "disorder": {**sampling["disorder"], "mu": convention.mu},
        "mu_disorder_scaling": {**sampling["mu_disorder_scaling"],
                                "exponent": convention.exponent}}}


def size_study_training_sets(config: Mapping, training: SizeStudyTraining
                             ) -> tuple[dict[str, DatasetSpec], dict[str, int]]:
    """({set name: DatasetSpec}, {set name: count}) of the study run's training and validation
    sets, in its convention, from streams of their own under the study's seed."""
    conventions = _top(_section(config, SizeStudyParams.WHERE), "conventions")
    if training.convention not in conventions:
        raise SpecError(f"size_study.training.convention: no convention "
                        f"'{training.convention}' in size_study.conventions "
                        f"({', '.join(sorted(conventions))})")
    overlaid = _convention_config(config, training.convention)
    seed = _top(_section(config, SizeStudyParams.WHERE), "seed")
    counts = dict(zip(training.train_sizes, training.train_counts))
    validation = dict(zip(training.validation_sizes, training.validation_counts))
    specs, totals = {}, {}
    for name, (role, distribution, size) in training.set_names().items():
        specs[name] = DatasetSpec.from_config(overlaid, distribution=distribution, size=size,
                                              stream=f"size_study/{name}", seed=seed)
        totals[name] = (counts if role == "train" else validation)[size]
    return specs, totals


def size_study_sets(config: Mapping) -> tuple[dict[str, DatasetSpec], dict[str, int]]:
    """({set name: DatasetSpec}, {set name: count}) of every convention and size of
    ``size_study``: uniform lattices from streams ``size_study/<convention>_<N>`` under the
    study's own seed, so they never coincide with the workflow's sets."""
    study = _section(config, SizeStudyParams.WHERE)
    sizes, counts = list(_top(study, "sizes")), list(_top(study, "counts"))
    if len(sizes) != len(counts):
        raise SpecError(f"size_study.counts: {len(counts)} counts for {len(sizes)} sizes")
    specs, totals = {}, {}
    for name in _top(study, "conventions"):
        overlaid = _convention_config(config, name)
        own = _convention(config, name).counts
        if own is not None and len(own) != len(sizes):
            raise SpecError(f"size_study.conventions.{name}.counts: {len(own)} counts for "
                            f"{len(sizes)} sizes")
        for size, count in zip(sizes, own or counts):
            key = size_study_set(name, size)
            specs[key] = DatasetSpec.from_config(overlaid, distribution="uniform", size=size,
                                                 stream=f"size_study/{key}",
                                                 seed=_top(study, "seed"))
            totals[key] = count
    return specs, totals
