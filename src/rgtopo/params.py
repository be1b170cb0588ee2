"""Typed stage parameters: one frozen dataclass per stage, built once from the resolved config.

Each class here is the one list of a stage's keys. ``from_config(config, ...)``
builds it from a resolved config (``rgtopo.config.load_config``, or the
workflow's ``config``); the rules pass ``to_json()`` to the command line, whose
commands rebuild it with ``from_dict``. A missing, unknown or ill-typed key is
one SpecError line naming it. Values are checked, not converted (an integer
stays an integer in a float field), so the JSON the rules pass, and with it
Snakemake's parameter check and the training fingerprints, stays as it was.

Adding a key to a stage: put it in the config (config/config.yaml, its schema
workflow/schemas/config.schema.yaml, config/README.md) and add one line
``name: type`` to the stage's class below. ``from_config`` takes the whole
config section, so nothing else changes; a section key without a field is
rejected, so no key is silently ignored. Field types: int, float, bool, str,
a Literal of choices, an optional one (``float | None``), a tuple (``tuple[float, float]``, ``tuple[int, ...]``) or
another of these classes (a nested mapping).
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

from .errors import SpecError


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _check(where: str, hint, value):
    """value if it has the type ``hint`` (lists become tuples, mappings nested Params)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is types.UnionType and type(None) in args:  # an optional value: ``float | None``
        if value is None:
            return None
        return _check(where, next(a for a in args if a is not type(None)), value)
    if origin is Literal:
        if value in args and type(value) is type(args[args.index(value)]):
            return value
        raise SpecError(f"{where}: must be one of {', '.join(map(repr, args))}, got {value!r}")
    if isinstance(hint, type) and issubclass(hint, Params):
        if not isinstance(value, Mapping | hint):
            raise SpecError(f"{where}: expected a mapping, got {value!r}")
        return hint.of(value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise SpecError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif len(value) != len(args):
            raise SpecError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_check(f"{where}[{i}]", a, v) for i, (a, v) in enumerate(zip(args, value)))
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(hint)
    if ok is None:
        raise SpecError(f"{where}: unsupported parameter type {hint!r} (see rgtopo.params)")
    if not ok:
        raise SpecError(f"{where}: expected {_type_name(hint)}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """Base of the stage parameter classes: checked on construction, JSON round trip."""

    WHERE: ClassVar[str] = "parameters"

    def __post_init__(self):
        hints = get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = _check(f"{self.WHERE}.{f.name}", hints[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    @classmethod
    def from_dict(cls, values: Mapping, where: str | None = None):
        """The parameters in ``values``; one SpecError for a missing or unknown key."""
        where = where or cls.WHERE
        if not isinstance(values, Mapping):
            raise SpecError(f"{where}: expected a mapping of parameters, got {values!r}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise SpecError(f"{where}: unknown key '{unknown[0]}' (a new key needs a field "
                            f"in rgtopo.params.{cls.__name__})")
        for name in names:
            if name not in values:
                raise SpecError(f"{where} is missing '{name}'")
        try:
            return cls(**values)
        except SpecError as exc:  # name the section the caller named
            raise SpecError(str(exc).replace(f"{cls.WHERE}.", f"{where}.", 1)) from None

    @classmethod
    def of(cls, value, where: str | None = None):
        """value itself if it already is one, else ``from_dict(value)``."""
        return value if isinstance(value, cls) else cls.from_dict(value, where)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Compact, key-sorted JSON: what the rules pass as --params (or --spec)."""
        return json.dumps(self.as_dict(), sort_keys=True)



@dataclasses.dataclass(frozen=True, kw_only=True)
class NetworkParams(Params):
    """Base of the networks' parameter classes (``rgtopo.nn``): the keys of a config section that
    shape one network; the section's other keys (its training's) belong to a stage class here."""

    @classmethod
    def from_section(cls, section: Mapping, where: str | None = None):
        """The parameters among a config section's keys (or a stage's ``as_dict()``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls.from_dict({k: v for k, v in section.items() if k in names}, where)

    @classmethod
    def from_config(cls, config: Mapping, **extra):
        """The parameters in the config's own section (``WHERE``), with ``extra`` keys set."""
        return cls.from_section({**_section(config, cls.WHERE), **extra})

FIXED_DISORDER = (1.0, 1.0)  # a dataset's disorder_scale when it names none: the paper's widths
BASE_SIZE = 4  # the base network's lattice; the RG chain halves 4 * 2^k down to it


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
    """Everything the sampler needs for one dataset stream (``rgtopo.sampling``).

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
class Optimizer(Params):
    """The keys every training stage shares: optimizer, batch size and seed."""

    optimizer: str
    batch_size: int
    learning_rate: float
    momentum: float
    nesterov: bool
    seed: int

    def compile_args(self) -> dict:
        """The optimizer keyword arguments of ``training.compile_model``."""
        return dict(learning_rate=float(self.learning_rate), momentum=float(self.momentum),
                    nesterov=self.nesterov, optimizer=self.optimizer)


LOSS_HEADS = {"abs_square": "value", "cross_entropy": "classes", "expected_error": "classes"}
"""The Chern head each training loss needs: one value (Eq. A2) or logits over the Chern numbers."""

RUN_KEYS = ("init", "padding", "loss")
"""What one entry of rg_training.runs may set: its start, its padding and, optionally, its loss."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaseNetworkParams(Optimizer):
    """Stage 1 (``training.train_base``): the config's ``base_network`` section, the seed, and
    the decimation the RG network starts as (which coarse-grains the base network's coarse levels)."""

    WHERE: ClassVar[str] = "base_network"
    architecture: str
    width: int
    blocks: int
    shifts: int
    levels: int
    coarse_share: float
    canonical: bool
    disorder_factor: float
    feature_scale_lattices: int
    loss: str
    augment: bool
    lr_schedule: Literal["plateau", "cosine"]
    patience: int
    lr_factor: float
    lr_floor: float
    max_epochs: int

    @classmethod
    def from_config(cls, config: Mapping) -> BaseNetworkParams:
        own = _section(config, cls.WHERE)
        # the decimation coarse-grains only the coarse levels: with one level a changed
        # decimation must not retrain the base network
        factor = 1.0
        if own.get("levels", 1) > 1:
            factor = _section(config, "decimation").get("disorder_factor")
            if factor is None:
                raise SpecError("base_network.levels > 1 needs decimation.disorder_factor")
        return cls.from_dict({**own, "seed": _top(config, "seed"), "disorder_factor": factor})

    def __post_init__(self):
        super().__post_init__()
        if self.levels < 1 or not 0 < self.coarse_share < 1:
            raise SpecError(f"{self.WHERE}: levels must be >= 1 and 0 < coarse_share < 1, got "
                            f"{self.levels} and {self.coarse_share}")
        if self.levels > 1 and self.architecture != "spectral":
            raise SpecError(f"{self.WHERE}.levels: levels > 1 needs architecture: spectral")

    def coarse_sizes(self) -> list[int]:
        """Lattice sizes of the coarse levels 1 .. levels - 1 (8, 16, ...)."""
        return [BASE_SIZE * 2**level for level in range(1, self.levels)]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecimationParams(Optimizer):
    """Stage 2 (``training.init_decimation``): ``decimation`` and the RG network's shape."""

    WHERE: ClassVar[str] = "decimation"
    RULE_KEYS: ClassVar[tuple] = ("check_sizes",)  # which shards the rule passes, not a parameter
    epochs: int
    lr_decay: float
    disorder_factor: float
    width: int
    linear_path: bool
    padding: str

    @classmethod
    def from_config(cls, config: Mapping, *, padding: str) -> DecimationParams:
        return cls.from_dict({**_section(config, cls.WHERE, cls.RULE_KEYS),
                              **_section(config, "rg_network"),
                              "seed": _top(config, "seed"), "padding": padding})


@dataclasses.dataclass(frozen=True, kw_only=True)
class RGTrainingParams(Optimizer):
    """Stage 3 (``training.train_rg``) for one run: ``rg_training``, the run's padding (and its
    ``loss``, where the run sets one) and the RG network's shape."""

    WHERE: ClassVar[str] = "rg_training"
    RULE_KEYS: ClassVar[tuple] = ("eval_sizes", "runs")
    epochs: int
    loss: str
    augment: bool
    tied_epochs: int
    tied_learning_rate: float
    tied_batch_size: int
    certified_only: bool
    width: int
    linear_path: bool
    padding: str
    select_size: int

    @classmethod
    def from_config(cls, config: Mapping, *, run: str) -> RGTrainingParams:
        runs = _section(config, cls.WHERE).get("runs", {})
        if run not in runs:
            raise SpecError(f"rg_training.runs has no run '{run}'")
        unknown = sorted(set(runs[run]) - set(RUN_KEYS))
        if unknown:
            raise SpecError(f"rg_training.runs.{run}: unknown key(s) {unknown}; known: {RUN_KEYS}")
        own = {k: v for k, v in runs[run].items() if k != "init"}  # init picks the rule's start model
        return cls.from_dict({**_section(config, cls.WHERE, cls.RULE_KEYS),
                              **_section(config, "rg_network"),
                              "seed": _top(config, "seed"), **own})


def _top(config: Mapping, key: str):
    if key not in config:
        raise SpecError(f"config is missing '{key}'")
    return config[key]


def _section(config: Mapping, name: str, leave_out: tuple = ()) -> dict:
    section = _top(config, name)
    if not isinstance(section, Mapping):
        raise SpecError(f"config section '{name}' is not a mapping")
    return {k: v for k, v in section.items() if k not in leave_out}


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluationParams(Params):
    """Stage 5 (``evaluation.evaluate``): ``evaluation``, the sizes the RG runs were judged on,
    and the size the RG network was trained on (the test shards are the rule's inputs)."""

    WHERE: ClassVar[str] = "evaluation"
    RULE_KEYS: ClassVar[tuple] = ("run", "uninitialized_run")  # which runs the rule reads
    batch_size: int
    min_gap: float
    seed: int
    eval_sizes: tuple[int, ...]
    select_size: int
    train_size: int

    @classmethod
    def from_config(cls, config: Mapping, *, train_size: int) -> EvaluationParams:
        rg = _section(config, RGTrainingParams.WHERE)
        sizes = {key: _top(rg, key) for key in ("eval_sizes", "select_size")}
        return cls.from_dict({**_section(config, cls.WHERE, cls.RULE_KEYS), **sizes,
                              "seed": _top(config, "seed"), "train_size": train_size})


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimingParams(Params):
    """The run-time benchmark (``timing.measure_timing``): ``figures.timing`` and the seed."""

    WHERE: ClassVar[str] = "figures.timing"
    bott_sizes: tuple[int, ...]
    network_sizes: tuple[int, ...]
    min_seconds: float
    network_batch: int
    seed: int

    @classmethod
    def from_config(cls, config: Mapping) -> TimingParams:
        timing = _top(_section(config, "figures"), "timing")
        return cls.from_dict({**timing, "seed": _top(config, "seed")})


@dataclasses.dataclass(frozen=True, kw_only=True)
class SectionParams(Params):
    """Parameters that are exactly one config section's keys (``WHERE``)."""

    @classmethod
    def from_config(cls, config: Mapping):
        return cls.from_dict(_section(config, cls.WHERE))


@dataclasses.dataclass(frozen=True, kw_only=True)
class LocalizerParams(Params):
    """The spectral-localizer labeler's rule (``rgtopo.localizer``; defaults: config/config.yaml).

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
    ``label_method``); auto_min_size: from this N up, ``auto`` uses the localizer.
    A label of either method is certified only on a lattice whose torus BdG gap is
    at least min_gap (below it the Bott label can flip under noise far smaller
    than the disorder, and the localizer need not agree with it); a Bott label
    also needs its raw sum within max_bott_deviation of the integer.
    """

    WHERE: ClassVar[str] = "labeling"
    threads: int = 2
    progress_every: int = 2000
    method: Literal["bott", "localizer", "auto"] = "auto"
    auto_min_size: int = 48
    min_gap: float = 0.05
    max_bott_deviation: float = 0.1
    localizer: LocalizerParams = dataclasses.field(default_factory=LocalizerParams)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingParams(SectionParams):
    """The ``training`` section: TensorFlow threads of a GPU job and whether it must see a GPU."""

    WHERE: ClassVar[str] = "training"
    threads: int
    require_gpu: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResourcesParams(SectionParams):
    """The ``resources`` section: what each job asks the scheduler for."""

    WHERE: ClassVar[str] = "resources"
    label_runtime_min: int
    train_runtime_min: int
    train_mem_mb: int
    default_mem_mb: int
    gpu_request: Literal["gpus", "gres"]

    def gpu_job(self) -> dict:
        """Resources of a training, evaluation or timing job: one GPU in the form the cluster
        accepts (the SLURM plugin submits gpu=1 as --gpus=1, gres="gpu:1" as --gres=gpu:1)."""
        gpu = {"gpu": 1} if self.gpu_request == "gpus" else {"gres": "gpu:1"}
        return {**gpu, "mem_mb": self.train_mem_mb, "runtime": self.train_runtime_min}


@dataclasses.dataclass(frozen=True, kw_only=True)
class FigureParams(Params):
    """What every figure and table gets (``rgtopo.figure_registry``): the seed, TensorFlow's for
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
    """The size study's analysis (``rgtopo.size_study``): ``size_study`` less what the rules
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


def _dataset_error(name: str, entry: Mapping) -> str | None:
    """What is wrong with one ``datasets`` entry for its name (``<role>_<size>``), if anything."""
    role, size, distribution = name.rsplit("_", 1)[0], entry["size"], entry["distribution"]
    k = size // BASE_SIZE
    # validation_4 follows the base network's training set (plateau schedule); larger
    # validation sets follow the test sets they stand in for (RG epoch selection)
    wanted = {"train": "boundary_biased", "test": "uniform", "decimation": "wide_uniform",
              "validation": "boundary_biased" if size == BASE_SIZE else "uniform"}
    why = {"train": "training sets are boundary_biased", "test": "test sets are uniform in the paper",
           "decimation": "decimation_* sets must be wide_uniform and no other set may be",
           "validation": "validation_4 is boundary_biased like train_4; larger validation sets"
                         " are uniform like the test sets they stand in for"}
    if int(name.rsplit("_", 1)[1]) != size:
        return f"size: {size} does not match the name"
    if distribution == "wide_uniform" and role != "decimation":
        return f"distribution: {why['decimation']}"
    if distribution != wanted.get(role, distribution):
        return f"distribution: {why[role]}"
    if size % BASE_SIZE or k & (k - 1):
        return f"size: {size}: lattices must be 4 * 2^k so the RG network halves them to 4"
    return None


@dataclasses.dataclass(frozen=True)
class WorkflowParams:
    """Every section of a resolved config built once as its typed class, and the rules that join
    sections: each stage finds the datasets it reads, losses fit the base network's head, the
    evaluated runs exist and start as their rows say. The workflow builds it once
    (``workflow/rules/common.smk``); a SpecError names the offending key."""

    datasets: Mapping[str, DatasetSpec]
    counts: Mapping[str, int]
    training: TrainingParams
    base: BaseNetworkParams
    decimation: Mapping[str, DecimationParams]  # per padding of a decimation-initialized run
    check_sizes: tuple[int, ...]
    runs: Mapping[str, RGTrainingParams]
    inits: Mapping[str, str]  # each run's start: decimation or random
    evaluation: EvaluationParams
    run: str  # evaluated, timed, bundled and drawn (Figs. 3, 5, 7, 8)
    uninitialized_run: str  # the randomly started run evaluated beside it
    timing: TimingParams
    figures: Mapping[str, FigureParams]
    resources: ResourcesParams
    labeling: LabelingParams
    label_methods: Mapping[str, str]  # per dataset: its label_method, else labeling.method
    size_study: SizeStudyParams
    size_study_sets: Mapping[str, DatasetSpec]  # per convention and size (size_study_set)
    size_study_counts: Mapping[str, int]
    size_study_method: str  # the labeling method of every size-study set
    size_study_labeling: LabelingParams  # labeling, with the study's own auto crossover
    size_study_bundle: str  # shipped (the package's bundle) or workflow (results/bundle)
    size_study_in_all: bool  # whether the default target `all` runs the study
    size_study_training: SizeStudyTraining  # the study's own RG run, and its sets
    size_study_training_sets: Mapping[str, DatasetSpec]
    size_study_training_counts: Mapping[str, int]
    size_study_rg: RGTrainingParams  # the study run's stage-3 parameters

    @classmethod
    def from_config(cls, config: Mapping, *,
                    figures: Mapping[str, type[FigureParams]] | None = None,
                    config_files: str = "") -> WorkflowParams:
        """All parameters of a resolved config; ``figures``: each figure's parameter class."""
        entries = _section(config, "datasets")
        for name, entry in entries.items():
            problem = _dataset_error(name, entry)
            if problem:
                raise SpecError(f"datasets.{name}.{problem}")
        datasets = {
            name: DatasetSpec.from_config(config, distribution=e["distribution"], size=e["size"],
                                          stream=name, disorder_scale=e.get("disorder_scale",
                                                                            FIXED_DISORDER))
            for name, e in entries.items()}
        rg = _section(config, RGTrainingParams.WHERE)
        run_entries = _top(rg, "runs")
        inits = {run: _top(entry, "init") for run, entry in run_entries.items()}
        paddings = sorted({e["padding"] for e in run_entries.values() if e["init"] == "decimation"})
        evaluation = _section(config, EvaluationParams.WHERE)
        study_rules = _section(config, SizeStudyParams.WHERE)
        params = cls(
            datasets=datasets, counts={name: e["count"] for name, e in entries.items()},
            training=TrainingParams.from_config(config),
            base=BaseNetworkParams.from_config(config),
            decimation={p: DecimationParams.from_config(config, padding=p) for p in paddings},
            check_sizes=tuple(_top(_section(config, "decimation"), "check_sizes")),
            runs={run: RGTrainingParams.from_config(config, run=run) for run in run_entries},
            inits=inits,
            evaluation=EvaluationParams.from_config(
                config, train_size=_dataset(datasets, "train_8", "evaluation").size),
            run=_top(evaluation, "run"), uninitialized_run=_top(evaluation, "uninitialized_run"),
            timing=TimingParams.from_config(config),
            figures={name: kind.from_config(config, config_files=config_files)
                     for name, kind in (figures or {}).items()},
            resources=ResourcesParams.from_config(config),
            labeling=(labeling := LabelingParams.from_config(config)),
            label_methods={name: e.get("label_method", labeling.method)
                           for name, e in entries.items()},
            size_study=SizeStudyParams.from_config(config),
            size_study_sets=(study := size_study_sets(config))[0], size_study_counts=study[1],
            size_study_method=_top(study_rules, "label_method"),
            size_study_labeling=dataclasses.replace(
                labeling, auto_min_size=_top(study_rules, "auto_min_size")),
            size_study_bundle=_top(study_rules, "bundle"),
            size_study_in_all=_top(study_rules, "in_all"),
            size_study_training=(tuning := SizeStudyTraining.from_dict(
                _top(study_rules, "training"))),
            size_study_training_sets=(tuning_sets := size_study_training_sets(
                config, tuning))[0],
            size_study_training_counts=tuning_sets[1],
            size_study_rg=tuning.rg_params(config, _top(evaluation, "run"),
                                           _top(study_rules, "seed")))
        params._check_joins(run_entries)
        return params

    def _check_joins(self, run_entries: Mapping) -> None:
        ev = self.evaluation
        for size in sorted({*ev.eval_sizes, ev.select_size}):
            _dataset(self.datasets, f"test_{size}", "rg_training.eval_sizes")
            _dataset(self.datasets, f"validation_{size}", "rg_training.eval_sizes",
                     "RG epochs are chosen on validation sets")
        for size in self.check_sizes:
            _dataset(self.datasets, f"validation_{size}", "decimation.check_sizes")
        for size in self.base.coarse_sizes():
            _dataset(self.datasets, f"train_{size}", "base_network.levels",
                     f"its {size}x{size} level needs it to learn from")
        if any(p.tied_epochs for p in self.runs.values()):
            _dataset(self.datasets, "train_16", "rg_training.tied_epochs",
                     "the tied 16x16 phase trains on it")
        head = LOSS_HEADS[self.base.loss]
        for run, params in self.runs.items():
            key = f"rg_training.runs.{run}.loss" if "loss" in run_entries[run] else \
                "rg_training.loss"
            if LOSS_HEADS[params.loss] != head:
                raise SpecError(f"{key}: {params.loss} trains a {LOSS_HEADS[params.loss]} head; "
                                f"base_network.loss {self.base.loss} builds a {head} head")
        if 8 not in ev.eval_sizes:
            raise SpecError("rg_training.eval_sizes: must include 8 (the RG training size)")
        if ev.select_size not in ev.eval_sizes:
            raise SpecError("rg_training.select_size: must be one of rg_training.eval_sizes")
        conventions = {name.rsplit("_", 1)[0] for name in self.size_study_sets}
        for name in self.size_study.accuracy_conventions:
            if name not in conventions:
                raise SpecError(f"size_study.accuracy_conventions: no convention '{name}' in "
                                f"size_study.conventions ({', '.join(sorted(conventions))})")
        own = self.size_study_training
        if own.in_study and own.convention not in self.size_study.accuracy_conventions:
            raise SpecError("size_study.training.convention: must be one of "
                            "size_study.accuracy_conventions (its chain is measured there)")
        for key, run, init in (("run", self.run, "decimation"),
                               ("uninitialized_run", self.uninitialized_run, "random")):
            if self.inits.get(run) != init:
                raise SpecError(f"evaluation.{key}: '{run}' must be a run of rg_training.runs "
                                f"with init: {init} (runs: {', '.join(self.inits)})")


def _dataset(datasets: Mapping[str, DatasetSpec], name: str, key: str,
             why: str = "") -> DatasetSpec:
    """The dataset ``name``; a SpecError at ``key`` when the config has none."""
    if name not in datasets:
        raise SpecError(f"{key}: no dataset {name}" + (f": {why}" if why else ""))
    return datasets[name]
