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
        return cls.from_dict({**_section(config, cls.WHERE), **sizes,
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
