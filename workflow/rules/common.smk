"""Helpers shared by the rules: the config's parameters, shard paths and each figure's inputs."""

import json
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from rgtopo.figures import registry as figure_registry
from rgtopo.evaluation.bundle import BASE_FILE, DEFAULT_BUNDLE, RG_FILE
from rgtopo.errors import SpecError
from rgtopo.params import WorkflowParams

validate(config, schema="../schemas/config.schema.yaml")


def _uses_conda():
    methods = getattr(workflow.deployment_settings, "deployment_method", None) or ()
    return any(str(m).lower().endswith("conda") for m in methods)


def _shown_path(path):
    """A config file as a reader knows it: relative to the working directory or the checkout."""
    resolved = Path(path).resolve()
    for root in (Path.cwd().resolve(), REPO_ROOT.resolve()):
        if resolved.is_relative_to(root):
            return str(resolved.relative_to(root))
    return str(path)


# Every section's typed parameters, built and cross-checked once (rgtopo.params); a bad
# config ends the run here with one line naming the key.
try:
    PARAMS = WorkflowParams.from_config(
        config,
        figures=figure_registry.params_classes(),
        config_files=",".join(map(_shown_path, workflow.configfiles)),
    )
except SpecError as err:
    raise WorkflowError(f"config error at {err}") from None

# The package's command line: the env's python under --sdm conda, else this interpreter.
RGTOPO = "python -m rgtopo" if _uses_conda() else f"{sys.executable} -m rgtopo"
# The workflow's internal steps (rgtopo.workflow.steps), apart from the user's command line.
STEPS = f"{RGTOPO}.workflow.steps"
DATASETS = PARAMS.datasets
RUNS = PARAMS.runs
# The RG network the evaluation, the timing, the bundle and Figs. 3, 5, 7, 8 read.
RUN = PARAMS.run
DECIMATION_PADDINGS = sorted(PARAMS.decimation)
FIGURES = figure_registry.names("figure")
TABLES = figure_registry.names("table")
# The size study's figures and tables, drawn by the same rules but made only by its targets.
STUDY_FIGURES = figure_registry.names(
    "figure", target="size_study"
) + figure_registry.names("figure", target="size_tuning")
STUDY_TABLES = figure_registry.names("table", target="size_study")
REQUIRE_GPU = "--require-gpu" if PARAMS.training.require_gpu else ""
TRAIN_RESOURCES = PARAMS.resources.gpu_job()


def reference_dir():
    path = Path(PARAMS.reference_dir)
    return path if path.is_absolute() else REPO_ROOT / path


# The size study's sets (rgtopo.params.size_study_sets, and its own run's training and
# validation sets, size_study_training_sets) as datasets of their own, "size-<set>":
# sampled and labeled by the same rules as the workflow's sets, never part of `data`.
STUDY_PREFIX = "size-"
STUDY_SETS = {
    f"{STUDY_PREFIX}{name}": spec
    for name, spec in {
        **PARAMS.size_study_sets,
        **PARAMS.size_study_training_sets,
    }.items()
}
STUDY_COUNTS = {**PARAMS.size_study_counts, **PARAMS.size_study_training_counts}


def get_dataset_spec(name):
    """The sampler's spec of a workflow set or a size-study set."""
    return DATASETS[name] if name in DATASETS else STUDY_SETS[name]


def get_dataset_count(name):
    if name in DATASETS:
        return PARAMS.counts[name]
    return STUDY_COUNTS[name.removeprefix(STUDY_PREFIX)]


def get_label_method(name):
    return PARAMS.label_methods.get(name, PARAMS.size_study_method)


def get_labeling_params(name):
    """The labeling section a set is labeled with: the study's has its own auto crossover."""
    labeling = PARAMS.labeling if name in DATASETS else PARAMS.size_study_labeling
    return labeling.to_json()


def n_shards(name):
    return -(-get_dataset_count(name) // PARAMS.shard_size)


def shards(name, labeled=True):
    root = "results/data" if labeled else "results/raw"
    return [f"{root}/{name}/shard_{i:04d}.h5" for i in range(n_shards(name))]


def test_sets():
    return sorted(int(n.split("_")[1]) for n in DATASETS if n.startswith("test_"))


def as_json(value):
    return json.dumps(value, sort_keys=True)


def base_train_shards():
    """train_4, and train_8 (train_16, ...) for a level-conditioned base network."""
    coarse = PARAMS.base.coarse_sizes()
    return shards("train_4") + [p for n in coarse for p in shards(f"train_{n}")]


def base_validation_shards():
    """validation_4, and validation_8 (16, ...) where configured: the coarse levels' columns."""
    coarse = [n for n in PARAMS.base.coarse_sizes() if f"validation_{n}" in DATASETS]
    return shards("validation_4") + [
        p for n in coarse for p in shards(f"validation_{n}")
    ]


def get_statistics_baseline_shards(role):
    """train_<N> or validation_<N> shards of every size the statistics baseline is fitted at;
    of a training set, only the shards that hold its first max_train_lattices."""
    limit = PARAMS.statistics_baseline.max_train_lattices
    keep = None if role != "train" or limit is None else -(-limit // PARAMS.shard_size)
    return [
        p
        for n in PARAMS.statistics_baseline.train_sizes
        for p in shards(f"{role}_{n}")[:keep]
    ]


def rg_train_shards():
    """train_8, and train_16 when the tied 16x16 phase runs (rg_training.tied_epochs)."""
    tied = any(run.tied_epochs > 0 for run in RUNS.values())
    return shards("train_8") + (shards("train_16") if tied else [])


def get_study_training_shards(role):
    """The size study's own run: its training ('train') or validation shards, all sizes."""
    return [
        path
        for name, (kind, _, _) in PARAMS.size_study_training.set_names().items()
        if kind == role
        for path in shards(f"{STUDY_PREFIX}{name}")
    ]


def rg_init(wc):
    if PARAMS.inits[wc.run] == "random":
        return []
    return f"results/models/rg_decimation_{RUNS[wc.run].network.padding}.keras"


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


def reference_files():
    """The authors' realizations (Fig. 2 alone reads them)."""
    return [str(reference_dir() / f"data_{k}.mat") for k in (1, 2, 3)]


if not Path(reference_files()[0]).is_file():
    logger.warning(
        f"reference_dir: {reference_dir()} holds no data_1.mat; Fig. 2, the only job that"
        " reads it, cannot run"
    )


# Each figure's and table's input files, by the input names rgtopo.figures.registry declares:
# a path, a list of paths or {label: path}.
def get_fig1b_inputs():
    return {"timing": "results/timing/timing.csv"}


def get_fig2_inputs():
    return {
        "base_model": "results/models/base_network.keras",
        "realizations": reference_files(),
    }


def get_fig3_inputs():
    return {"history": f"results/rg/{RUN}/history.csv"}


def get_fig4_inputs():
    return {"train_shards": shards("train_4")}


def get_fig5_inputs():
    return {"history": f"results/rg/{RUN}/history.csv"}


def get_fig6_inputs():
    return {"histories": {run: f"results/rg/{run}/history.csv" for run in RUNS}}


def get_fig7_inputs():
    return {"rg_model": f"results/rg/{RUN}/selected.keras"}


def get_fig8_inputs():
    return {"rg_model": f"results/rg/{RUN}/selected.keras"}


def get_fig_training_inputs():
    return {"histories": training_histories()}


def get_table1_inputs():
    return {"metrics": "results/metrics/accuracy.csv"}


def get_size_study_sets(conventions=None):
    """{set name: [shard paths]} of the size study, for every convention or those named."""
    return {
        name: shards(f"{STUDY_PREFIX}{name}")
        for name in PARAMS.size_study_sets
        if conventions is None or name.rsplit("_", 1)[0] in conventions
    }


def get_size_study_set_args(conventions=None):
    """The step's --sets entries, NAME=PATH per shard."""
    sets = get_size_study_sets(conventions)
    return [f"{name}={path}" for name, paths in sets.items() for path in paths]


def get_size_study_bundle():
    """The bundle the size study measures: the workflow's (so the target trains it) or none
    (the shipped one)."""
    return "results/bundle" if PARAMS.size_study_bundle == "workflow" else []


def get_size_study_networks():
    """{base, init}: the measured bundle's two network files (the study run's base and start)."""
    if PARAMS.size_study_bundle == "workflow":  # what results/bundle is made from
        return {
            "base": "results/models/base_network.keras",
            "init": f"results/rg/{RUN}/selected.keras",
        }
    return {
        "base": str(DEFAULT_BUNDLE / BASE_FILE),
        "init": str(DEFAULT_BUNDLE / RG_FILE),
    }


def get_size_study_tuning():
    """The study run's outputs the size_study target asks for (size_study.training.in_study)."""
    if not PARAMS.size_study_training.in_study:
        return []
    return expand("results/figures/fig_size_tuning.{ext}", ext=("png", "pdf", "csv"))


def get_size_study_bundle_arg(wc, input):
    """The step's --bundle: the bundle input, or 'shipped'."""
    return getattr(input, "bundle", None) or "shipped"


def get_fig_conventions_inputs():
    return {"fractions": "results/size_study/conventions.csv"}


def get_fig_size_accuracy_inputs():
    return {"accuracy": "results/size_study/accuracy.csv"}


def get_table_size_accuracy_inputs():
    return {"accuracy": "results/size_study/accuracy.csv"}


def get_fig_size_tuning_inputs():
    return {
        "accuracy": "results/size_study/accuracy.csv",
        "tuned": "results/size_study/accuracy_tuned.csv",
        "history": "results/size_study/rg/history.csv",
    }


FIGURE_INPUTS = {
    "fig1b": get_fig1b_inputs,
    "fig2": get_fig2_inputs,
    "fig3": get_fig3_inputs,
    "fig4": get_fig4_inputs,
    "fig5": get_fig5_inputs,
    "fig6": get_fig6_inputs,
    "fig7": get_fig7_inputs,
    "fig8": get_fig8_inputs,
    "fig_training": get_fig_training_inputs,
    "table1": get_table1_inputs,
    "fig_conventions": get_fig_conventions_inputs,
    "fig_size_accuracy": get_fig_size_accuracy_inputs,
    "table_size_accuracy": get_table_size_accuracy_inputs,
    "fig_size_tuning": get_fig_size_tuning_inputs,
}


def figure_inputs(wc):
    """Named input files of the figure or table {figure} (for unpack)."""
    return {
        key: list(value.values()) if isinstance(value, dict) else value
        for key, value in FIGURE_INPUTS[wc.figure]().items()
    }


def figure_input_args(wc):
    return figure_registry.input_args(wc.figure, FIGURE_INPUTS[wc.figure]())


def figure_params(wc):
    return PARAMS.figures[wc.figure].to_json()


def figure_threads(wc):
    """The threads of the section (training or labeling) the figure's computation follows."""
    section = figure_registry.FIGURES[wc.figure].threads
    return getattr(PARAMS, section).threads if section else 1


def figure_caption(wc):
    """The figure's caption in the registry, which the generic report/figure.rst renders."""
    return figure_registry.FIGURES[wc.figure].caption


FIGURE_SHELL = (
    "{params.steps} figure {wildcards.figure} --params {params.params:q}"
    " --threads {threads} --inputs {params.inputs:q} --out {params.stem} 2> {log}"
)

# One RG training command: the workflow's runs (train_rg) and the size study's own (train_rg_study).
TRAIN_RG_SHELL = (
    "{params.steps} train-rg --params {params.params:q} --threads {threads}"
    " {params.require_gpu} --base {input.base} {params.init} --train {input.train}"
    " --validation {input.validation} --epochs-dir {output.epochs}"
    " --history-out {output.history} --selected-out {output.selected}"
    " --state-dir {params.state} 2> {log}"
)


def get_init_arg(wc, input):
    """--init of an RG run: its start (decimation-initialized), or none (random start)."""
    return f"--init {input.init}" if input.get("init") else ""
