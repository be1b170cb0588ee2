"""The paper's figures and table, each declared once: named inputs, parameters, drawing.

``python -m rgtopo.workflow.steps figure NAME`` and the workflow's ``figure`` and ``table`` rules read
``FIGURES``: each figure's input names and their forms, its parameter class (a
``rgtopo.params.FigureParams``, built from the config) and its drawing function in
``figures``. Which files feed each input the workflow spells out, one function per figure
(``get_<name>_inputs`` in ``workflow/rules/common.smk``). This module imports nothing heavy:
Snakemake reads it when it parses the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import SpecError
from ..params import (DensityParams, FigureParams, ImpurityParams, PhaseDiagramParams,
                     PointsMappingParams, SelectionParams, TableParams)

FORMS = ("one", "many", "labelled")
"""What a drawing receives for one input: one path, a list of paths or {label: path}."""


@dataclass(frozen=True)
class Figure:
    """A figure (``kind`` 'figure': png, pdf, csv) or table ('table': md, html, csv).

    ``inputs``: {input name: form}. ``draw(inputs, params, stem, threads)`` writes the outputs;
    ``caption``: its text in the report (reStructuredText, rendered by workflow/report/figure.rst);
    ``params``: its parameter class; ``threads``: the config section whose ``threads`` it runs
    on (none: one thread); ``tensorflow``: it loads a network, so TensorFlow is configured
    (threads, seed) first; ``target``: the workflow target that makes it (``figures``, in
    ``all``; ``size_study``, only on request; ``size_tuning``, by ``size_study`` when its
    own run is on).
    """

    inputs: Mapping[str, str]
    draw: Callable
    caption: str
    params: type[FigureParams] = FigureParams
    kind: str = "figure"
    threads: Literal["labeling", "training"] | None = None
    tensorflow: bool = False
    target: Literal["figures", "size_study", "size_tuning"] = "figures"


def _csv(path):
    import pandas as pd  # lazy: the Snakefile imports this module

    return pd.read_csv(path)


def _draw(module: str = "draw"):
    from importlib import import_module  # lazy: Matplotlib only when a figure is drawn

    return import_module(f"{__package__}.{module}")


def _fig2(i, p, stem, threads):
    from ..evaluation.reference import phase_diagram_points  # lazy: imports TensorFlow

    points = phase_diagram_points(i["realizations"], i["base_model"], p["grid"], p["delta0"],
                                  threads)
    return _draw().fig2(points, stem)


def _fig4(i, p, stem, threads):
    from ..data.datasets import lattice_means  # lazy: Numba only when the figure is drawn

    return _draw().fig4(lattice_means(i["train_shards"]), p["alpha"], p["bins"], stem)


def _fig7(i, p, stem, threads):
    from ..evaluation.rg_analysis import points_mapping_table  # lazy: imports TensorFlow

    table = points_mapping_table(i["rg_model"], p["grid"], p["steps"], p["delta0"],
                                 p["lattice_size"])
    return _draw().fig7(table, p["grid"], p["steps"], stem)


def _fig8(i, p, stem, threads):
    from ..evaluation.rg_analysis import impurity_table  # lazy: imports TensorFlow

    table = impurity_table(i["rg_model"], p["size"], p["site"], p["mu0"], p["t_minus0"],
                           p["delta0"], p["strengths"])
    return _draw().fig8(table, p["size"], p["site"], p["mu0"], p["t_minus0"], p["delta0"],
                        p["strengths"], stem)


def _headline_table(i, p, stem, threads):
    from ..training.metrics import write_headline_table  # lazy: Numba only when the table is drawn

    write_headline_table(_csv(i["metrics"]), stem, p["config_name"])


def _size_accuracy_table(i, p, stem, threads):
    from ..evaluation.size_study import write_accuracy_table  # lazy: Numba only when the table is drawn

    write_accuracy_table(_csv(i["accuracy"]), stem)


FIGURES: dict[str, Figure] = {
    "fig1b": Figure(
        caption=(
            "**Fig. 1(b).** Time per lattice of the project's Bott-index labeler and of the "
            "compound network (RG applied until 4x4, then the base network) against linear size "
            "N, both measured on the machine that ran this workflow (config ``figures.timing``), "
            "normalized to the 4x4 Bott time, log-log, with fitted power laws. Values in "
            "``fig1b.csv``."),
        inputs={"timing": "one"},
        draw=lambda i, p, stem, threads: _draw().fig1b(_csv(i["timing"]), stem)),
    "fig2": Figure(
        caption=(
            "**Fig. 2.** (a) Clean phase diagram from the analytic formula. (b), (d), (f): phase "
            "diagrams of the authors' three 4x4 disorder realizations computed by this project's "
            "Bott labeler on a grid of ``figures.phase_diagram_grid`` points per axis (a subset "
            "of the authors' 400x400 grid, so ``fig2.csv`` carries the authors' label beside each "
            "point), with the number of *disorder-decided* points (Bott label differs from the "
            "clean formula at the lattice-averaged mu, t_minus). (c), (e), (g): the trained base "
            "network on the same points, with the fraction of points where network and Bott index "
            "agree, overall and on the disorder-decided points alone: only there does agreement "
            "show that the network read the disorder rather than the clean phase diagram."),
        inputs={"base_model": "one", "realizations": "many"}, params=PhaseDiagramParams,
        draw=_fig2,
        threads="labeling", tensorflow=True),
    "fig3": Figure(
        caption=(
            "**Fig. 3.** Accuracy of the decimation-initialized RG network on the uniform "
            "validation sets (``validation_8``, ``validation_16``; RG applied twice at 16x16) "
            "after every training epoch; epoch 0 is the network before Chern training. Bands: "
            "Wilson 95 % intervals. Dashed lines: the stronger of the two baselines on the same "
            "validation lattices, the clean formula (clean phase diagram at the lattice-averaged "
            "mu, t_minus) or the majority class (always the most frequent label). The star marks "
            "the selected epoch (best ``rg_training.select_size`` validation accuracy); its "
            "accuracy is reported on the separate test sets in Table 1."),
        inputs={"history": "one"}, params=SelectionParams,
        draw=lambda i, p, stem, threads: _draw("curves").fig3(_csv(i["history"]), p["select_size"],
                                                         stem)),
    "fig4": Figure(
        caption=(
            "**Fig. 4.** Histogram of the mean (mu/2, t_minus) of the generated 4x4 training "
            "lattices, biased toward the clean phase boundaries (white lines) by Eq. (A1) with "
            "alpha = ``sampling.alpha``."),
        inputs={"train_shards": "many"}, params=DensityParams,
        draw=_fig4),
    "fig5": Figure(
        caption=(
            "**Fig. 5.** Loss of Eq. (A2) (on the predicted Chern value) of the RG training run "
            "on the 8x8 and 16x16 validation sets, and the 8x8 training loss "
            "(``rg_training.loss``), against epoch."),
        inputs={"history": "one"},
        draw=lambda i, p, stem, threads: _draw("curves").fig5(_csv(i["history"]), stem)),
    "fig6": Figure(
        caption=(
            "**Fig. 6.** Validation accuracy against epoch for every configured RG run "
            "(``rg_training.runs``): decimation-initialized with periodic padding (main), from a "
            "random start (uninitialized), and, where configured, with zero padding. Bands: "
            "Wilson 95 % intervals; dashed line: the stronger baseline (clean formula or majority "
            "class) on the same validation lattices. Each run trains on its own loss "
            "(``rg_training.runs.<run>.loss``, else ``rg_training.loss``): in the default config "
            "the uninitialized run on cross-entropy, the others on the expected error."),
        inputs={"histories": "labelled"},
        draw=lambda i, p, stem, threads: _draw("curves").fig6(
            {run: _csv(f) for run, f in i["histories"].items()}, stem)),
    "fig7": Figure(
        caption=(
            "**Fig. 7.** RG points mapping: a grid of clean lattices in (mu/2t+, t-/t+) and where "
            "each lands after 1, 2 and 3 applications of the selected RG network; black lines are "
            "the clean phase boundaries, colours the clean Chern number at the landing point."),
        inputs={"rg_model": "one"}, params=PointsMappingParams,
        draw=_fig7,
        threads="training", tensorflow=True),
    "fig8": Figure(
        caption=(
            "**Fig. 8.** A single mu impurity in a clean 8x8 lattice (``figures.impurity``): the "
            "4x4 difference maps of mu, t_minus and Delta after one application of the selected "
            "RG network, one row per impurity strength."),
        inputs={"rg_model": "one"}, params=ImpurityParams,
        draw=_fig8,
        threads="training", tensorflow=True),
    "fig_training": Figure(
        caption=(
            "**Training curves.** Every training history of this run, one row per stage: the base "
            "network (``results/training/base_network/history.csv``), each decimation "
            "initialization (``results/training/decimation_<padding>/history.csv``) and each RG "
            "run (``results/rg/<run>/history.csv``). Left: every loss column of the history "
            "(curves measured on training data are marked \"(training)\"; ``val_loss`` and the "
            "validation losses of Eq. (A2) per lattice size are on validation sets), log scale, "
            "with the learning rate at each epoch's start on the right axis (dotted; the base "
            "network's cosine rate falls batch by batch in between). Right: every accuracy column "
            "in percent, with its Wilson 95 % band where the history has one (RG validation "
            "sets); a level-conditioned base network adds its coarse levels' validation curves "
            "(``val_level<k>_*``: ``validation_<4·2^k>`` decimated k times, monitored, not used "
            "to choose); the dotted vertical line and the star mark the selected RG epoch (best "
            "``rg_training.select_size`` validation accuracy). Epoch 0 is the network before "
            "training. Each RG run trains on its own loss (``rg_training.runs.<run>.loss``, else "
            "``rg_training.loss``), so their loss curves need not share a scale. Values in "
            "``fig_training.csv`` (one row per history, epoch and plotted quantity). A stage run "
            "for 0 epochs (``decimation.epochs: 0``) has nothing to plot and is named in the "
            "title instead."),
        inputs={"histories": "labelled"}, params=SelectionParams,
        draw=lambda i, p, stem, threads: _draw("curves").fig_training(
            {name: _csv(f) for name, f in i["histories"].items()}, stem, p["select_size"])),
    "table1": Figure(
        caption=(
            "**Table 1.** Every headline accuracy of the paper beside the value measured by this "
            "run on the test sets, with its Wilson 95 % interval; the clean-formula baseline "
            "(clean phase diagram at the lattice-averaged mu, t_minus), the majority-class "
            "baseline (always the most frequent label) and the statistics baseline "
            "(gradient-boosted trees on per-lattice disorder statistics, nothing positional) on "
            "the same lattices, the strongest named; and the accuracy on the disorder-decided "
            "test lattices (label differs from the clean formula), with their count. Every epoch "
            "is chosen on the validation set named in ``selected_on`` and never on a test set. "
            "Rows marked \"not in the paper\" (e.g. 32x32) are accuracies the paper does not "
            "report. ``table1.html`` (shown here) and ``table1.md`` are the same table; "
            "``table1.csv`` (a download) holds its columns at full precision."),
        inputs={"metrics": "one"}, params=TableParams,
        draw=_headline_table, kind="table"),
    "fig_conventions": Figure(
        caption=(
            "**Disorder conventions against lattice size** (the size study, ``snakemake "
            "convention_study``). Uniform lattices at each size N under each disorder convention "
            "of ``size_study.conventions`` (the paper's mu width growing as N/4, the 4x4 widths "
            "at every size, and a strong fixed mu width), labeled by the certified labeler. Per "
            "convention against N: the fraction with C != 0, the fraction disorder-decided (label "
            "differs from the clean formula at the lattice-averaged mu, t_minus), the fraction "
            "certified, and the fraction both certified and disorder-decided, with Wilson 95 % "
            "intervals. Values in ``fig_conventions.csv``."),
        inputs={"fractions": "one"},
        draw=lambda i, p, stem, threads: _draw("sizes").fig_conventions(_csv(i["fractions"]), stem),
        target="size_study"),
    "fig_size_accuracy": Figure(
        caption=(
            "**Accuracy against lattice size** (the size study, ``snakemake size_study``). The RG "
            "chain's accuracy per disorder convention of ``size_study.accuracy_conventions`` "
            "against N, with Wilson 95 % intervals: on all lattices, on the certified ones and on "
            "the certified disorder-decided ones, beside the clean-formula, majority-class and "
            "statistics baselines (and the strongest of them on the certified lattices). Values "
            "in ``fig_size_accuracy.csv``."),
        inputs={"accuracy": "one"},
        draw=lambda i, p, stem, threads: _draw("sizes").fig_size_accuracy(_csv(i["accuracy"]), stem),
        target="size_study"),
    "table_size_accuracy": Figure(
        caption=(
            "**Accuracy against lattice size, table** (the size study). Per disorder convention "
            "and size: the lattices, the chain's accuracy with its Wilson 95 % interval, the "
            "three no-network baselines, and the same on the certified lattices and the certified "
            "disorder-decided ones. ``table_size_accuracy.md`` and ``.html`` are the same table; "
            "``table_size_accuracy.csv`` holds every column at full precision."),
        inputs={"accuracy": "one"}, draw=_size_accuracy_table, kind="table",
        target="size_study"),
    "fig_size_tuning": Figure(
        caption=(
            "**The size study's own RG run** (``snakemake size_study`` with "
            "``size_study.training.in_study``). Left: the measured chain's test accuracy in "
            "``size_study.training.convention`` against N, before and after training on in that "
            "convention (8x8, then tied copies on 16x16 and 32x32, selected on the largest "
            "validation size), on all lattices and on the certified ones, with Wilson 95 % "
            "intervals, beside the clean-formula and majority-class baselines. Right: the run's "
            "validation accuracy per epoch with its stronger baseline; grey lines mark where a "
            "tied phase on larger lattices begins, the star the selected epoch. Values in "
            "``fig_size_tuning.csv``."),
        inputs={"accuracy": "one", "tuned": "one", "history": "one"},
        draw=lambda i, p, stem, threads: _draw("sizes").fig_size_tuning(
            _csv(i["accuracy"]), _csv(i["tuned"]), _csv(i["history"]), stem),
        target="size_tuning"),
}


def names(kind: str, target: str = "figures") -> list[str]:
    """The registered figures of one kind ('figure' or 'table') made by one workflow target,
    in registry order."""
    return [name for name, fig in FIGURES.items() if fig.kind == kind and fig.target == target]


def params_classes() -> dict[str, type[FigureParams]]:
    """{name: parameter class} of every figure and table (``WorkflowParams.from_config``)."""
    return {name: fig.params for name, fig in FIGURES.items()}


def check_params(name: str, params: Mapping) -> FigureParams:
    """The parameters of one figure from ``--params``; one SpecError for a missing or unknown key."""
    return FIGURES[name].params.from_dict(params, "--params")


def input_args(name: str, files: Mapping[str, object]) -> list[str]:
    """Command-line ``--inputs`` entries, ``NAME=PATH`` or ``NAME:LABEL=PATH`` (labelled),
    from {input name: path, [paths] or {label: path}} as the workflow resolved them."""
    args = []
    declared = FIGURES[name].inputs
    if set(files) != set(declared):
        raise SpecError(f"{name}: inputs {sorted(files)}, declared {sorted(declared)}")
    for key, form in declared.items():
        value = files[key]
        if form == "labelled":
            args += [f"{key}:{label}={path}" for label, path in value.items()]
        elif form == "many":
            args += [f"{key}={path}" for path in value]
        else:
            args.append(f"{key}={value}")
    return args


def parse_inputs(name: str, args: Iterable[str]) -> dict:
    """The named inputs of ``python -m rgtopo.workflow.steps figure NAME --inputs ...``, each in its declared form."""
    declared = FIGURES[name].inputs
    found: dict = {}
    for arg in args:
        head, sep, path = arg.partition("=")
        key, has_label, label = head.partition(":")
        if not sep or not path or key not in declared:
            raise SpecError(f"--inputs: '{arg}' is not NAME=PATH with NAME one of "
                            f"{', '.join(declared)}")
        form = declared[key]
        if (form == "labelled") != bool(has_label and label):
            raise SpecError(f"--inputs: '{key}' takes "
                            + ("NAME:LABEL=PATH" if form == "labelled" else "NAME=PATH"))
        if form == "labelled":
            found.setdefault(key, {})[label] = path
        elif form == "many":
            found.setdefault(key, []).append(path)
        elif key in found:
            raise SpecError(f"--inputs: '{key}' takes one file, got two")
        else:
            found[key] = path
    for key in declared:
        if key not in found:
            raise SpecError(f"--inputs is missing '{key}'")
    return found
