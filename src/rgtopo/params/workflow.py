"""Every section of a resolved config at once, with the rules that join sections."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..errors import SpecError
from .core import BASE_SIZE, FIXED_DISORDER, _section, _top
from .data import DatasetSpec, LabelingParams
from .figures import FigureParams
from .networks import LOSS_HEADS
from .size_study import (
    SizeStudyParams,
    SizeStudyTraining,
    size_study_sets,
    size_study_training_sets,
)
from .stages import (
    BaseNetworkParams,
    DecimationParams,
    EvaluationParams,
    ResourcesParams,
    RGTrainingParams,
    StatisticsBaselineParams,
    TimingParams,
    TrainingParams,
)


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

    shard_size: int  # lattices per dataset shard
    reference_dir: str  # the authors' reference data, relative to the checkout unless absolute
    datasets: Mapping[str, DatasetSpec]
    counts: Mapping[str, int]
    training: TrainingParams
    base: BaseNetworkParams
    decimation: Mapping[str, DecimationParams]  # per padding of a decimation-initialized run
    check_sizes: tuple[int, ...]
    runs: Mapping[str, RGTrainingParams]
    inits: Mapping[str, str]  # each run's start: decimation or random
    statistics_baseline: StatisticsBaselineParams
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
        shard_size, reference_dir = _top(config, "shard_size"), _top(config, "reference_dir")
        if not isinstance(shard_size, int) or isinstance(shard_size, bool) or shard_size < 1:
            raise SpecError(f"shard_size: expected a positive integer, got {shard_size!r}")
        if not isinstance(reference_dir, str):
            raise SpecError(f"reference_dir: expected a path, got {reference_dir!r}")
        params = cls(
            shard_size=shard_size, reference_dir=reference_dir,
            datasets=datasets, counts={name: e["count"] for name, e in entries.items()},
            training=TrainingParams.from_config(config),
            base=BaseNetworkParams.from_config(config),
            decimation={p: DecimationParams.from_config(config, padding=p) for p in paddings},
            check_sizes=tuple(_top(_section(config, "decimation"), "check_sizes")),
            runs={run: RGTrainingParams.from_config(config, run=run) for run in run_entries},
            inits=inits,
            statistics_baseline=StatisticsBaselineParams.from_config(config),
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
        for size in self.statistics_baseline.train_sizes:
            for role in ("train", "validation"):
                _dataset(self.datasets, f"{role}_{size}", "statistics_baseline.train_sizes",
                         "the statistics baseline is fitted on train_N and chosen on "
                         "validation_N")
        for size in self.check_sizes:
            _dataset(self.datasets, f"validation_{size}", "decimation.check_sizes")
        for size in self.base.coarse_sizes():
            _dataset(self.datasets, f"train_{size}", "base_network.levels",
                     f"its {size}x{size} level needs it to learn from")
        if any(p.tied_epochs for p in self.runs.values()):
            _dataset(self.datasets, "train_16", "rg_training.tied_epochs",
                     "the tied 16x16 phase trains on it")
        head = LOSS_HEADS[self.base.network.loss]
        for run, params in self.runs.items():
            key = f"rg_training.runs.{run}.loss" if "loss" in run_entries[run] else \
                "rg_training.loss"
            if LOSS_HEADS[params.loss] != head:
                raise SpecError(f"{key}: {params.loss} trains a {LOSS_HEADS[params.loss]} head; "
                                f"base_network.loss {self.base.network.loss} builds a {head} head")
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
