"""Typed stage parameters: built from the resolved config, checked key by key, JSON round trips."""

import copy
import dataclasses
import json

import pytest
import yaml

from conftest import REPO
from rgtopo.config import load_config
from rgtopo.errors import SpecError
from rgtopo.params import (
    BaseNetworkParams,
    DatasetSpec,
    DecimationParams,
    EvaluationParams,
    LabelingParams,
    SpectralParams,
    Disorder,
    RUN_KEYS,
    RGTrainingParams,
    TimingParams,
)


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "config" / "config.yaml", REPO)


def test_dataset_spec_reads_the_sampling_section_of_the_resolved_preset():
    cfg = load_config(REPO / "config" / "test.yaml", REPO)
    spec = DatasetSpec.from_config(cfg, distribution="uniform", size=8, stream="test_8")
    assert spec.seed == 7 and spec.density_grid == 201  # the preset's, not the default's
    assert list(spec.value_range) == cfg["sampling"]["decimation_range"]
    assert spec.disorder == Disorder(**cfg["sampling"]["disorder"])
    seeded = DatasetSpec.from_config(cfg, distribution="uniform", size=8, stream="x", seed=3)
    assert seeded.seed == 3


def test_json_is_the_config_slice_the_rules_passed_before(config):
    """Same keys and values as the hand-built dicts: Snakemake's parameter check and the
    training fingerprints see no change."""
    base = BaseNetworkParams.from_config(config)
    assert json.loads(base.to_json()) == {**config["base_network"], "seed": config["seed"],
                                          "disorder_factor": config["decimation"]["disorder_factor"]}
    spec = DatasetSpec.from_config(config, distribution="uniform", size=16, stream="test_16")
    sampling = dict(config["sampling"])
    sampling["value_range"] = sampling.pop("decimation_range")
    assert json.loads(spec.to_json()) == {**sampling, "distribution": "uniform", "size": 16,
                                          "seed": config["seed"], "stream": "test_16",
                                          "disorder_scale": [1.0, 1.0]}
    scaled = DatasetSpec.from_config(config, distribution="boundary_biased", size=4,
                                     stream="train_4", disorder_scale=[0, 2])
    assert json.loads(scaled.to_json())["disorder_scale"] == [0, 2]
    # values are checked, not converted: the integer 4 stays 4 in the JSON
    assert '"reference_size": 4}' in spec.to_json()


@pytest.mark.parametrize("cls, extra", [
    (BaseNetworkParams, {}), (DecimationParams, {"padding": "zero"}),
    (RGTrainingParams, {"run": "uninitialized"}),
])
def test_every_stage_round_trips_through_its_json(config, cls, extra):
    params = cls.from_config(config, **extra)
    again = cls.from_dict(json.loads(params.to_json()))
    assert again == params and cls.of(params) is params
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.seed = 3


def test_stage_parameters_take_the_keys_of_their_sections(config):
    dec = DecimationParams.from_config(config, padding="zero")
    assert (dec.network.padding, dec.network.width, dec.epochs, dec.seed) == (
        "zero", config["rg_network"]["width"], config["decimation"]["epochs"], config["seed"])
    rg = RGTrainingParams.from_config(config, run="main")
    assert rg.network.padding == config["rg_training"]["runs"]["main"]["padding"]
    base = BaseNetworkParams.from_config(config)
    assert base.network == SpectralParams.from_section(config["base_network"])
    # the stages hold the networks' classes, and pass and fingerprint the sections flat
    assert {f.name for f in dataclasses.fields(BaseNetworkParams)} & {"width", "levels"} == set()
    assert json.loads(base.to_json()).items() >= {"width": 256, "levels": 2}.items()
    assert BaseNetworkParams.from_dict(json.loads(base.to_json())) == base
    assert json.loads(rg.to_json())["padding"] == rg.network.padding
    assert rg.select_size == config["rg_training"]["select_size"]
    assert rg.compile_args() == {"learning_rate": config["rg_training"]["learning_rate"],
                                 "momentum": 0.9, "nesterov": True, "optimizer": "adam"}
    with pytest.raises(SpecError, match="rg_training.runs has no run 'other'"):
        RGTrainingParams.from_config(config, run="other")


def test_a_run_may_train_on_its_own_loss(config):
    """``rg_training.runs.<run>.loss`` overrides ``rg_training.loss`` for that run only."""
    config = copy.deepcopy(config)
    config["rg_training"]["loss"] = "expected_error"
    config["rg_training"]["runs"]["uninitialized"]["loss"] = "cross_entropy"
    assert RGTrainingParams.from_config(config, run="main").loss == "expected_error"
    assert RGTrainingParams.from_config(config, run="uninitialized").loss == "cross_entropy"
    config["rg_training"]["runs"]["main"]["los"] = "cross_entropy"
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert tuple(schema["definitions"]["rg_run"]["properties"]) == RUN_KEYS
    with pytest.raises(SpecError, match=r"rg_training.runs.main: unknown key\(s\) \['los'\]"):
        RGTrainingParams.from_config(config, run="main")


def test_the_decimation_reaches_the_base_network_only_with_coarse_levels(config):
    """levels 1 (the paper's): a changed decimation must not retrain the base network."""
    two = BaseNetworkParams.from_config(config)
    assert two.network.levels == 2 and two.disorder_factor == config["decimation"]["disorder_factor"]
    one = {**config, "base_network": {**config["base_network"], "levels": 1}}
    for factor in (0.25, 0.75):
        one["decimation"] = {**config["decimation"], "disorder_factor": factor}
        assert BaseNetworkParams.from_config(one).disorder_factor == 1.0
    two_without = {**config, "decimation": {}}
    with pytest.raises(SpecError, match="levels > 1 needs decimation.disorder_factor"):
        BaseNetworkParams.from_config(two_without)


@pytest.mark.parametrize("change, message", [
    ({"width": "wide"}, "base_network.width: expected int, got 'wide'"),
    ({"width": 2.5}, "base_network.width: expected int"),
    ({"augment": 1}, "base_network.augment: expected bool"),
    ({"learning_rate": True}, "base_network.learning_rate: expected float"),
    ({"lr_schedule": "step"}, "base_network.lr_schedule: must be one of 'plateau', 'cosine'"),
    ({"coarse_share": 1.0}, "base_network.coarse_share: must be between 0 and 1, got 1.0"),
    ({"levels": 0}, "base_network.levels must be >= 1, got 0"),
    ({"disorder_scale_range": [0, 1]}, "base_network: unknown key 'disorder_scale_range' "
                                       "(a new key needs a field in "
                                       "rgtopo.params.BaseNetworkParams)"),
])
def test_ill_typed_or_unknown_keys_are_one_line_naming_the_key(config, change, message):
    values = {**config["base_network"], "seed": 1, "disorder_factor": 0.5, **change}
    with pytest.raises(SpecError) as exc:
        BaseNetworkParams.from_dict(values)
    assert str(exc.value) == message or str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def test_missing_keys_and_nested_mappings_are_checked(config):
    values = {**config["base_network"], "seed": 1, "disorder_factor": 0.5}
    del values["patience"]
    with pytest.raises(SpecError, match=r"^base_network is missing 'patience'$"):
        BaseNetworkParams.from_dict(values)
    with pytest.raises(SpecError, match="base_network is missing 'seed'"):
        BaseNetworkParams.from_dict(config["base_network"])
    spec = DatasetSpec.from_config(config, distribution="uniform", size=4, stream="s").as_dict()
    with pytest.raises(SpecError, match=r"^dataset spec.disorder is missing 'Delta'$"):
        DatasetSpec.from_dict({**spec, "disorder": {"mu": 0.3, "t_minus": 0.2}})
    with pytest.raises(SpecError, match=r"^dataset spec.mu_range: expected 2 values, got 3$"):
        DatasetSpec.from_dict({**spec, "mu_range": [1, 2, 3]})
    with pytest.raises(SpecError, match=r"^dataset spec.disorder: expected a mapping"):
        DatasetSpec.from_dict({**spec, "disorder": 0.3})
    with pytest.raises(SpecError, match="expected a mapping of parameters"):
        DatasetSpec.from_dict([1, 2])


def test_evaluation_reads_its_section_and_the_sizes_the_rg_runs_were_judged_on(config):
    p = EvaluationParams.from_config(config, train_size=8)
    assert (p.batch_size, p.seed, p.train_size) == (config["evaluation"]["batch_size"],
                                                    config["seed"], 8)
    assert p.min_gap == config["evaluation"]["min_gap"]
    assert p.eval_sizes == tuple(config["rg_training"]["eval_sizes"])
    assert p.select_size == config["rg_training"]["select_size"]
    assert EvaluationParams.from_dict(json.loads(p.to_json())) == p
    broken = {**config, "rg_training": {k: v for k, v in config["rg_training"].items()
                                        if k != "select_size"}}
    with pytest.raises(SpecError, match="missing 'select_size'"):
        EvaluationParams.from_config(broken, train_size=8)


def test_timing_reads_figures_timing_and_names_a_bad_key(config):
    p = TimingParams.from_config(config)
    assert p.bott_sizes == tuple(config["figures"]["timing"]["bott_sizes"])
    assert p.seed == config["seed"] and TimingParams.from_dict(json.loads(p.to_json())) == p
    bad = {**config, "figures": {**config["figures"],
                                 "timing": {**config["figures"]["timing"], "min_seconds": "1"}}}
    with pytest.raises(SpecError, match="figures.timing.min_seconds: expected float"):
        TimingParams.from_config(bad)


def _edited(config, edit):
    cfg = copy.deepcopy(config)
    edit(cfg)
    return cfg


def test_workflow_params_build_every_section_once_and_follow_the_configured_runs(config):
    from rgtopo.params import WorkflowParams

    p = WorkflowParams.from_config(config)
    assert set(p.runs) == set(config["rg_training"]["runs"]) and set(p.decimation) == {"periodic"}
    assert (p.run, p.uninitialized_run) == ("main", "uninitialized")
    assert p.runs["main"] == RGTrainingParams.from_config(config, run="main")
    assert p.evaluation == EvaluationParams.from_config(config, train_size=8)
    assert p.datasets["test_16"].size == 16 and p.counts["test_4"] == 20000
    assert p.resources.gpu_job() == {"gpu": 1, "mem_mb": 8000, "runtime": 240}
    renamed = _edited(config, lambda c: (
        c["rg_training"].update(runs={"decimated": {"init": "decimation", "padding": "zero"},
                                      "scratch": {"init": "random", "padding": "periodic"}}),
        c["evaluation"].update(run="decimated", uninitialized_run="scratch")))
    p = WorkflowParams.from_config(renamed)
    assert (p.run, set(p.decimation)) == ("decimated", {"zero"})


def test_the_size_study_run_trains_in_its_convention_and_selects_on_its_largest_size(config):
    """Its sets are drawn in its convention from streams of their own; its stage-3 parameters
    are the evaluated run's, with the study's keys, seed and the largest validation size."""
    from rgtopo.params import WorkflowParams

    p = WorkflowParams.from_config(config)
    study = config["size_study"]["training"]
    strong = config["size_study"]["conventions"][study["convention"]]
    rg = p.size_study_rg
    assert (rg.select_size, rg.seed) == (max(study["validation_sizes"]),
                                         config["size_study"]["seed"])
    assert (rg.epochs, rg.tied_epochs, rg.certified_only) == (
        study["epochs"], study["tied_epochs"], study["certified_only"])
    assert rg.network == p.runs[p.run].network
    names = [f"train-{study['convention']}_{n}" for n in study["train_sizes"]] + \
        [f"validation-{study['convention']}_{n}" for n in study["validation_sizes"]]
    assert list(p.size_study_training_sets) == names
    assert [p.size_study_training_counts[n] for n in names] == \
        study["train_counts"] + study["validation_counts"]
    for name, spec in p.size_study_training_sets.items():
        assert spec.disorder.mu == strong["mu"]
        assert spec.mu_disorder_scaling.exponent == strong["exponent"]
        assert spec.stream == f"size_study/{name}"
        assert spec.distribution == (study["distribution"] if name.startswith("train")
                                     else "uniform")
    assert not set(p.size_study_training_sets) & set(p.size_study_sets)
    # a convention the accuracy table leaves out is refused only when the run is on
    fixed = WorkflowParams.from_config(_edited(config, lambda c: c["size_study"]["training"]
                                               .update(convention="fixed")))
    assert fixed.size_study_training_sets["train-fixed_8"].disorder.mu == \
        config["size_study"]["conventions"]["fixed"].get("mu", config["sampling"]["disorder"]["mu"])


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["datasets"]["test_8"].update(size=9), r"^datasets.test_8.size: 9 does not match"),
    (lambda c: c["datasets"].update(test_12={"distribution": "uniform", "size": 12, "count": 1}),
     r"^datasets.test_12.size: 12: lattices must be 4 \* 2\^k"),
    (lambda c: c["datasets"]["train_8"].update(distribution="wide_uniform"),
     r"^datasets.train_8.distribution: decimation_\* sets must be wide_uniform"),
    (lambda c: c["datasets"]["validation_4"].update(distribution="uniform"),
     r"^datasets.validation_4.distribution: validation_4 is boundary_biased"),
    (lambda c: c["sampling"].update(mu_range=[4, -4]), r"^sampling.mu_range: need low < high"),
    (lambda c: c["rg_training"].update(select_size=32), r"^rg_training.eval_sizes: no dataset"),
    (lambda c: c["rg_training"].update(eval_sizes=[16]), r"^rg_training.eval_sizes: must include 8"),
    (lambda c: c["decimation"].update(check_sizes=[64]), r"^decimation.check_sizes: no dataset"),
    (lambda c: c["base_network"].update(levels=3), r"^base_network.levels: no dataset train_16"),
    (lambda c: c["base_network"].update(architecture="conv"),
     r"^base_network.levels: levels > 1 needs a level-conditioned architecture \(spectral\)"),
    (lambda c: c["rg_training"].update(tied_epochs=1), r"^rg_training.tied_epochs: no dataset"),
    (lambda c: c["rg_training"].update(loss="abs_square"), r"^rg_training.loss: abs_square trains"),
    (lambda c: c["rg_training"]["runs"]["uninitialized"].update(loss="abs_square"),
     r"^rg_training.runs.uninitialized.loss: abs_square"),
    (lambda c: c["evaluation"].update(run="uninitialized"),
     r"^evaluation.run: 'uninitialized' must be a run of rg_training.runs with init: decimation"),
    (lambda c: c["evaluation"].update(uninitialized_run="gone"),
     r"^evaluation.uninitialized_run: 'gone' must be a run"),
    (lambda c: c["size_study"]["training"].update(convention="fixed", in_study=True),
     r"^size_study.training.convention: must be one of size_study.accuracy_conventions"),
    (lambda c: c["size_study"]["training"].update(convention="none"),
     r"^size_study.training.convention: no convention 'none'"),
    (lambda c: c["size_study"]["training"].update(train_sizes=[12, 24], train_counts=[1, 1]),
     r"^size_study.training.train_sizes: 12: sizes must be 4 \* 2\^k"),
    (lambda c: c["size_study"]["training"].update(validation_sizes=[24], validation_counts=[1]),
     r"^size_study.training.validation_sizes: 24: sizes must be 4 \* 2\^k"),
    (lambda c: c["size_study"]["training"].update(train_sizes=[8], train_counts=[1]),
     r"^size_study.training.tied_epochs: must be > 0 exactly when"),
    (lambda c: c["size_study"]["training"].update(epochs=0),
     r"^size_study.training.epochs: must be >= 1"),
    (lambda c: c["size_study"]["training"].update(train_sizes=[8, 32], train_counts=[1, 1]),
     r"^size_study.training.train_sizes: each must double"),
    (lambda c: c["size_study"]["training"].update(train_counts=[1, 1]),
     r"^size_study.training.train_counts: 2 counts for 3 sizes"),
    (lambda c: c["size_study"]["training"].update(tied_epochs=0),
     r"^size_study.training.tied_epochs: must be > 0 exactly when"),
])
def test_workflow_params_name_the_key_a_cross_section_rule_rejects(config, edit, message):
    from rgtopo.params import WorkflowParams

    with pytest.raises(SpecError, match=message):
        WorkflowParams.from_config(_edited(config, edit))


def test_the_classes_defaults_are_the_default_config():
    """``rgtopo chern`` without a config labels with the classes' defaults; they must be the
    values config/config.yaml sets, key for key, so the command line and the workflow agree."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert LabelingParams() == LabelingParams.from_config(config)
    with_defaults = [f.name for f in dataclasses.fields(LabelingParams)
                     if f.default is not dataclasses.MISSING
                     or f.default_factory is not dataclasses.MISSING]
    assert sorted(with_defaults) == sorted(config["labeling"])
