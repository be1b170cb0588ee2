"""The training stages, the evaluation, the timing benchmark and the job resources."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import ClassVar, Literal

from ..errors import SpecError
from .core import BASE_SIZE, NetworkParams, Params, SectionParams, _section, _top
from .networks import RGParams, base_network_params, check_loss


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
        """The optimizer keyword arguments of ``training.optimizers.compile_model``."""
        return dict(learning_rate=float(self.learning_rate), momentum=float(self.momentum),
                    nesterov=self.nesterov, optimizer=self.optimizer)


class _HoldsNetwork:
    """A stage that holds its network's shape (a class of ``params.networks``) as ``network``.
    Its JSON (the rules' ``--params``, the training fingerprints) stays the flat section the
    config writes: the network's keys beside the stage's own."""

    @classmethod
    def network_class(cls, values: Mapping) -> type[NetworkParams]:
        return RGParams

    @classmethod
    def from_dict(cls, values: Mapping, where: str | None = None):
        if isinstance(values, Mapping) and "network" not in values:
            for f in dataclasses.fields(cls):  # the stage's own keys first, as Params does
                if f.name != "network" and f.name not in values:
                    raise SpecError(f"{where or cls.WHERE} is missing '{f.name}'")
            network = cls.network_class(values)
            names = {f.name for f in dataclasses.fields(network)}
            values = {**{k: v for k, v in values.items() if k not in names},
                      "network": network.from_dict({k: v for k, v in values.items()
                                                    if k in names}, where or cls.WHERE)}
        return super().from_dict(values, where)

    def as_dict(self) -> dict:
        flat = super().as_dict()
        return {**{k: v for k, v in flat.items() if k != "network"}, **flat["network"]}


RUN_KEYS = ("init", "padding", "loss")
"""What one entry of rg_training.runs may set: its start, its padding and, optionally, its loss."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaseNetworkParams(_HoldsNetwork, Optimizer):
    """Stage 1 (``training.stages.train_base``): the config's ``base_network`` section (its
    architecture's keys held as ``network``), the seed, and the decimation the RG network
    starts as (which coarse-grains the base network's coarse levels)."""

    WHERE: ClassVar[str] = "base_network"
    architecture: str
    network: NetworkParams
    coarse_share: float
    disorder_factor: float
    feature_scale_lattices: int
    augment: bool
    lr_schedule: Literal["plateau", "cosine"]
    patience: int
    lr_factor: float
    lr_floor: float
    max_epochs: int

    @classmethod
    def network_class(cls, values: Mapping) -> type[NetworkParams]:
        return base_network_params(values.get("architecture"))

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
        if not 0 < self.coarse_share < 1:
            raise SpecError(f"{self.WHERE}.coarse_share: must be between 0 and 1, got "
                            f"{self.coarse_share}")
        if not isinstance(self.network, base_network_params(self.architecture)):
            raise SpecError(f"{self.WHERE}: network parameters of another architecture than "
                            f"{self.architecture!r}")

    def coarse_sizes(self) -> list[int]:
        """Lattice sizes of the coarse levels 1 .. levels - 1 (8, 16, ...)."""
        return [BASE_SIZE * 2**level for level in range(1, self.network.levels)]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecimationParams(_HoldsNetwork, Optimizer):
    """Stage 2 (``training.stages.init_decimation``): ``decimation`` and the RG network's shape
    (``network``)."""

    WHERE: ClassVar[str] = "decimation"
    RULE_KEYS: ClassVar[tuple] = ("check_sizes",)  # which shards the rule passes, not a parameter
    epochs: int
    lr_decay: float
    disorder_factor: float
    network: RGParams

    @classmethod
    def from_config(cls, config: Mapping, *, padding: str) -> DecimationParams:
        return cls.from_dict({**_section(config, cls.WHERE, cls.RULE_KEYS),
                              **_section(config, "rg_network"),
                              "seed": _top(config, "seed"), "padding": padding})


@dataclasses.dataclass(frozen=True, kw_only=True)
class RGTrainingParams(_HoldsNetwork, Optimizer):
    """Stage 3 (``training.stages.train_rg``) for one run: ``rg_training``, the run's padding (and
    its ``loss``, where the run sets one) and the RG network's shape (``network``)."""

    WHERE: ClassVar[str] = "rg_training"
    RULE_KEYS: ClassVar[tuple] = ("eval_sizes", "runs")
    epochs: int
    loss: str
    augment: bool
    tied_epochs: int
    tied_learning_rate: float
    tied_batch_size: int
    certified_only: bool
    network: RGParams
    select_size: int

    def __post_init__(self):
        super().__post_init__()
        check_loss(f"{self.WHERE}.loss", self.loss)

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


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluationParams(Params):
    """Stage 5 (``evaluation.accuracy.evaluate``): ``evaluation``, the sizes the RG runs were judged on,
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
class StatisticsBaselineParams(Params):
    """The statistics baseline (``training.statistics_baseline.fit``): the config's ``statistics_baseline``
    section and the seed. train_sizes: one classifier per size, fitted on ``train_<N>`` and chosen
    on ``validation_<N>``; max_train_lattices: the first lattices of each training set (None:
    all); max_leaf_nodes: the leaf counts compared on validation, each boosted up to max_iter
    iterations; pool_above: average-pool a lattice larger than the largest training size down
    to it before reading its statistics."""

    WHERE: ClassVar[str] = "statistics_baseline"
    train_sizes: tuple[int, ...]
    max_train_lattices: int | None
    quantiles: tuple[float, ...]
    max_leaf_nodes: tuple[int, ...]
    max_iter: int
    learning_rate: float
    importance_repeats: int
    pool_above: bool
    seed: int

    @classmethod
    def from_config(cls, config: Mapping) -> StatisticsBaselineParams:
        return cls.from_dict({**_section(config, cls.WHERE), "seed": _top(config, "seed")})

    def __post_init__(self):
        super().__post_init__()
        if not self.train_sizes or not self.max_leaf_nodes:
            raise SpecError(f"{self.WHERE}: train_sizes and max_leaf_nodes need a value each")
        if any(not 0 < q < 1 for q in self.quantiles) or len(set(self.quantiles)) < len(
                self.quantiles):
            raise SpecError(f"{self.WHERE}.quantiles: distinct values in (0, 1), got "
                            f"{list(self.quantiles)}")
        if self.max_train_lattices is not None and self.max_train_lattices < 1:
            raise SpecError(f"{self.WHERE}.max_train_lattices: must be positive or null")
        if self.max_iter < 1 or self.importance_repeats < 1 or min(self.max_leaf_nodes) < 2:
            raise SpecError(f"{self.WHERE}: need max_iter >= 1, importance_repeats >= 1 and "
                            "max_leaf_nodes >= 2")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimingParams(Params):
    """The run-time benchmark (``evaluation.timing.measure_timing``): ``figures.timing`` and the seed."""

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
