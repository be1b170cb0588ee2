"""Helpers shared by the rules: config checks, dataset specs and shard paths."""

import json
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from rgtopo import figure_registry
from rgtopo.lattice import BASE_SIZE
from rgtopo.params import (
    LOSS_HEADS,
    BaseNetworkParams,
    DatasetSpec,
    DecimationParams,
    EvaluationParams,
    RGTrainingParams,
    TimingParams,
)

validate(config, schema="../schemas/config.schema.yaml")


def _uses_conda():
    methods = getattr(workflow.deployment_settings, "deployment_method", None) or ()
    return any(str(m).lower().endswith("conda") for m in methods)


# The package's command line: the env's python under --sdm conda, else this interpreter.
RGTOPO = "python -m rgtopo" if _uses_conda() else f"{sys.executable} -m rgtopo"
# The workflow's internal steps (rgtopo.steps), apart from the user's command line.
STEPS = f"{RGTOPO}.steps"
DATASETS = config["datasets"]
RUNS = config["rg_training"]["runs"]
DECIMATION_PADDINGS = sorted(
    {r["padding"] for r in RUNS.values() if r["init"] == "decimation"}
)
FIGURES = figure_registry.names("figure")
TABLES = figure_registry.names("table")


def _config_error(key, problem):
    raise WorkflowError(f"config error at '{key}': {problem}")


def check_config():
    """Checks the schema cannot express; each names the offending key."""
    for name, ds in DATASETS.items():
        if int(name.rsplit("_", 1)[1]) != ds["size"]:
            _config_error(
                f"datasets.{name}.size", f"{ds['size']} does not match the name"
            )
        if name.startswith("decimation") != (ds["distribution"] == "wide_uniform"):
            _config_error(
                f"datasets.{name}.distribution",
                "decimation_* sets must be wide_uniform and no other set may be",
            )
        if name.startswith("test") and ds["distribution"] != "uniform":
            _config_error(
                f"datasets.{name}.distribution", "test sets are uniform in the paper"
            )
        if name.startswith("train") and ds["distribution"] != "boundary_biased":
            _config_error(
                f"datasets.{name}.distribution", "training sets are boundary_biased"
            )
        # validation_4 follows the base network's training set (plateau schedule);
        # larger validation sets follow the test sets (RG epoch selection).
        wanted = "boundary_biased" if ds["size"] == 4 else "uniform"
        if name.startswith("validation") and ds["distribution"] != wanted:
            _config_error(
                f"datasets.{name}.distribution",
                "validation_4 is boundary_biased like train_4; larger validation sets"
                " are uniform like the test sets they stand in for",
            )
        size, k = ds["size"], ds["size"] // 4
        if size % 4 or k & (k - 1):
            _config_error(
                f"datasets.{name}.size",
                f"{size}: lattices must be 4 * 2^k so the RG network halves them to 4",
            )
    for key in ("mu_range", "t_minus_range", "delta_range", "decimation_range"):
        low, high = config["sampling"][key]
        if not low < high:
            _config_error(f"sampling.{key}", f"need low < high, got [{low}, {high}]")
    rg = config["rg_training"]
    for size in {*rg["eval_sizes"], rg["select_size"]}:
        if f"test_{size}" not in DATASETS:
            _config_error(
                "rg_training.eval_sizes", f"no dataset test_{size} for size {size}"
            )
    for size in {*rg["eval_sizes"], rg["select_size"]}:
        if f"validation_{size}" not in DATASETS:
            _config_error(
                "rg_training.eval_sizes",
                f"no dataset validation_{size}: RG epochs are chosen on validation sets",
            )
    for size in config["decimation"]["check_sizes"]:
        if f"validation_{size}" not in DATASETS:
            _config_error(
                "decimation.check_sizes",
                f"no dataset validation_{size} for size {size}",
            )
    base = config["base_network"]
    for size in coarse_sizes():
        if f"train_{size}" not in DATASETS:
            _config_error(
                "base_network.levels",
                f"its {size}x{size} level needs a dataset train_{size} to learn from",
            )
    if base["levels"] > 1 and base["architecture"] != "spectral":
        _config_error("base_network.levels", "levels > 1 needs architecture: spectral")
    if rg["tied_epochs"] and "train_16" not in DATASETS:
        _config_error(
            "rg_training.tied_epochs", "the tied 16x16 phase needs a dataset train_16"
        )
    base_head = LOSS_HEADS[config["base_network"]["loss"]]
    losses = {"rg_training.loss": rg["loss"]}
    losses.update(
        (f"rg_training.runs.{name}.loss", run["loss"])
        for name, run in RUNS.items()
        if "loss" in run
    )
    for key, loss in losses.items():
        if LOSS_HEADS[loss] != base_head:
            _config_error(
                key,
                f"{loss} trains a {LOSS_HEADS[loss]} head; base_network.loss"
                f" {config['base_network']['loss']} builds a {base_head} head",
            )
    if 8 not in rg["eval_sizes"]:
        _config_error("rg_training.eval_sizes", "must include 8 (the RG training size)")
    if rg["select_size"] not in rg["eval_sizes"]:
        _config_error(
            "rg_training.select_size", "must be one of rg_training.eval_sizes"
        )
    if (
        RUNS["main"]["init"] != "decimation"
        or RUNS["uninitialized"]["init"] != "random"
    ):
        _config_error(
            "rg_training.runs", "'main' needs init: decimation, 'uninitialized' random"
        )
    if not (reference_dir() / "data_1.mat").is_file():
        _config_error("reference_dir", f"{reference_dir()} holds no data_1.mat")
    site = config["figures"]["impurity"]["site"]
    if max(site) >= config["figures"]["impurity"]["size"]:
        _config_error("figures.impurity.site", f"{site} lies outside the lattice")
    for key in ("impurity", "points_mapping"):
        size = config["figures"][key]["size" if key == "impurity" else "lattice_size"]
        if size % 2:
            _config_error(f"figures.{key}", f"RG input size must be even, got {size}")


def reference_dir():
    path = Path(config["reference_dir"])
    return path if path.is_absolute() else Path(workflow.basedir) / path


def n_shards(name):
    return -(-DATASETS[name]["count"] // config["shard_size"])


def shards(name, labeled=True):
    root = "results/data" if labeled else "results/raw"
    return [f"{root}/{name}/shard_{i:04d}.h5" for i in range(n_shards(name))]


def test_sets():
    return sorted(int(n.split("_")[1]) for n in DATASETS if n.startswith("test_"))


def dataset_spec(name):
    """Everything the sampler needs for one dataset (a rgtopo.params.DatasetSpec)."""
    ds = DATASETS[name]
    scale = {"disorder_scale": ds["disorder_scale"]} if "disorder_scale" in ds else {}
    return DatasetSpec.from_config(
        config, distribution=ds["distribution"], size=ds["size"], stream=name, **scale
    )


def as_json(value):
    return json.dumps(value, sort_keys=True)


# One GPU per training or evaluation job, in the form the cluster accepts: the SLURM plugin
# submits gpu=1 as --gpus=1 and gres="gpu:1" as --gres=gpu:1.
GPU_REQUEST = (
    {"gpu": 1} if config["resources"]["gpu_request"] == "gpus" else {"gres": "gpu:1"}
)
REQUIRE_GPU = "--require-gpu" if config["training"]["require_gpu"] else ""
TRAIN_RESOURCES = dict(
    **GPU_REQUEST,
    mem_mb=config["resources"]["train_mem_mb"],
    runtime=config["resources"]["train_runtime_min"],
)


def coarse_sizes():
    """Lattice sizes of the base network's coarse levels 1 .. levels - 1 (8, 16, ...)."""
    return [
        BASE_SIZE * 2**level for level in range(1, config["base_network"]["levels"])
    ]


def base_train_shards():
    """train_4, and train_8 (train_16, ...) for a level-conditioned base network."""
    return shards("train_4") + [p for n in coarse_sizes() for p in shards(f"train_{n}")]


def base_validation_shards():
    """validation_4, and validation_8 (16, ...) where configured: the coarse levels' columns."""
    coarse = [n for n in coarse_sizes() if f"validation_{n}" in DATASETS]
    return shards("validation_4") + [
        p for n in coarse for p in shards(f"validation_{n}")
    ]


def rg_train_shards():
    """train_8, and train_16 when the tied 16x16 phase runs (rg_training.tied_epochs)."""
    tied = config["rg_training"]["tied_epochs"] > 0
    return shards("train_8") + (shards("train_16") if tied else [])


def rg_init(wc):
    run = RUNS[wc.run]
    if run["init"] == "random":
        return []
    return f"results/models/rg_decimation_{run['padding']}.keras"


def training_histories():
    """{label: history.csv} of every training stage, in pipeline order (fig_training)."""
    return {
        "base network": "results/training/base_network/history.csv",
        **{
            f"decimation ({p} padding)": f"results/training/decimation_{p}/history.csv"
            for p in DECIMATION_PADDINGS
        },
        **{f"RG run {run}": f"results/rg/{run}/history.csv" for run in RUNS},
    }


def job_logs():
    """Logs of the jobs that run TensorFlow on the training device (their device line)."""
    return [
        "logs/train_base.log",
        *(f"logs/init_decimation_{p}.log" for p in DECIMATION_PADDINGS),
        *(f"logs/train_rg_{run}.log" for run in RUNS),
        "logs/evaluate.log",
        "logs/measure_timing.log",
    ]


# How the workflow finds each figure input key of rgtopo.figure_registry ("kind:argument").
FIGURE_INPUTS = {
    "timing": lambda _: "results/timing/timing.csv",
    "metrics": lambda _: "results/metrics/accuracy.csv",
    "base_model": lambda _: "results/models/base_network.keras",
    "reference": lambda _: [str(reference_dir() / f"data_{k}.mat") for k in (1, 2, 3)],
    "shards": shards,
    "rg_history": lambda run: f"results/rg/{run}/history.csv",
    "rg_model": lambda run: f"results/rg/{run}/selected.keras",
    "rg_histories": lambda _: {run: f"results/rg/{run}/history.csv" for run in RUNS},
    "training_histories": lambda _: training_histories(),
}


def _figure_files(name):
    """{input name: path, [paths] or {label: path}} of one registered figure."""
    found = {}
    for key, inp in figure_registry.FIGURES[name].inputs.items():
        kind, _, argument = inp.key.partition(":")
        found[key] = FIGURE_INPUTS[kind](argument)
    return found


def figure_inputs(wc):
    """Named inputs of the figure or table {figure} (for unpack)."""
    return {
        key: list(value.values()) if isinstance(value, dict) else value
        for key, value in _figure_files(wc.figure).items()
    }


def figure_input_args(wc):
    return figure_registry.input_args(wc.figure, _figure_files(wc.figure))


def _shown_path(path):
    """A config file as a reader knows it: relative to the working directory or the checkout."""
    resolved = Path(path).resolve()
    for root in (Path.cwd().resolve(), Path(workflow.basedir).resolve()):
        if resolved.is_relative_to(root):
            return str(resolved.relative_to(root))
    return str(path)


def _config_entry(key):
    """A config value by dotted path; the config file names for their own key."""
    if key == figure_registry.CONFIG_FILES:
        return ",".join(map(_shown_path, workflow.configfiles))
    value = config
    for part in key.split("."):
        value = value[part]
    return value


def figure_params(wc):
    return as_json(figure_registry.params_for(wc.figure, _config_entry))


def figure_threads(wc):
    key = figure_registry.FIGURES[wc.figure].threads
    return _config_entry(key) if key else 1


def figure_caption(wc):
    """workflow/report/{figure}.rst, which the generic report/figure.rst includes."""
    return str(Path(workflow.basedir) / "workflow" / "report" / f"{wc.figure}.rst")


FIGURE_SHELL = (
    "{params.steps} figure {wildcards.figure} --params {params.params:q}"
    " --threads {threads} --inputs {params.inputs:q} --out {params.stem} 2> {log}"
)


check_config()
