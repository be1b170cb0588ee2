"""The paper's figures and table, each declared once: named inputs, parameters, drawing.

``python -m rgtopo.steps figure NAME`` and the workflow's ``figure`` and ``table`` rules read
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

from .errors import SpecError
from .params import (DensityParams, FigureParams, ImpurityParams, PhaseDiagramParams,
                     PointsMappingParams, SelectionParams, TableParams)

FORMS = ("one", "many", "labelled")
"""What a drawing receives for one input: one path, a list of paths or {label: path}."""


@dataclass(frozen=True)
class Figure:
    """A figure (``kind`` 'figure': png, pdf, csv) or table ('table': md, html, csv).

    ``inputs``: {input name: form}. ``draw(inputs, params, stem, threads)`` writes the outputs;
    ``params``: its parameter class; ``threads``: the config section whose ``threads`` it runs
    on (none: one thread); ``tensorflow``: it loads a network, so TensorFlow is configured
    (threads, seed) first; ``target``: the workflow target that makes it (``figures``, in
    ``all``; ``size_study``, only on request; ``size_tuning``, by ``size_study`` when its
    own run is on).
    """

    inputs: Mapping[str, str]
    draw: Callable
    params: type[FigureParams] = FigureParams
    kind: str = "figure"
    threads: Literal["labeling", "training"] | None = None
    tensorflow: bool = False
    target: Literal["figures", "size_study", "size_tuning"] = "figures"


def _csv(path):
    import pandas as pd  # lazy: the Snakefile imports this module

    return pd.read_csv(path)


def _figures():
    from . import figures  # lazy: Matplotlib only when a figure is drawn

    return figures


def _headline_table(i, p, stem, threads):
    from .metrics import write_headline_table  # lazy: Numba only when the table is drawn

    write_headline_table(_csv(i["metrics"]), stem, p["config_name"])


def _size_accuracy_table(i, p, stem, threads):
    from .size_study import write_accuracy_table  # lazy: Numba only when the table is drawn

    write_accuracy_table(_csv(i["accuracy"]), stem)


FIGURES: dict[str, Figure] = {
    "fig1b": Figure(
        inputs={"timing": "one"},
        draw=lambda i, p, stem, threads: _figures().fig1b(_csv(i["timing"]), stem)),
    "fig2": Figure(
        inputs={"base_model": "one", "realizations": "many"}, params=PhaseDiagramParams,
        draw=lambda i, p, stem, threads: _figures().fig2(
            i["realizations"], i["base_model"], p["grid"], p["delta0"], threads, stem),
        threads="labeling", tensorflow=True),
    "fig3": Figure(
        inputs={"history": "one"}, params=SelectionParams,
        draw=lambda i, p, stem, threads: _figures().fig3(_csv(i["history"]), p["select_size"],
                                                         stem)),
    "fig4": Figure(
        inputs={"train_shards": "many"}, params=DensityParams,
        draw=lambda i, p, stem, threads: _figures().fig4(i["train_shards"], p["alpha"],
                                                         p["bins"], stem)),
    "fig5": Figure(
        inputs={"history": "one"},
        draw=lambda i, p, stem, threads: _figures().fig5(_csv(i["history"]), stem)),
    "fig6": Figure(
        inputs={"histories": "labelled"},
        draw=lambda i, p, stem, threads: _figures().fig6(
            {run: _csv(f) for run, f in i["histories"].items()}, stem)),
    "fig7": Figure(
        inputs={"rg_model": "one"}, params=PointsMappingParams,
        draw=lambda i, p, stem, threads: _figures().fig7(
            i["rg_model"], p["grid"], p["steps"], p["delta0"], p["lattice_size"], stem),
        threads="training", tensorflow=True),
    "fig8": Figure(
        inputs={"rg_model": "one"}, params=ImpurityParams,
        draw=lambda i, p, stem, threads: _figures().fig8(
            i["rg_model"], p["size"], p["site"], p["mu0"], p["t_minus0"], p["delta0"],
            p["strengths"], stem),
        threads="training", tensorflow=True),
    "fig_training": Figure(
        inputs={"histories": "labelled"}, params=SelectionParams,
        draw=lambda i, p, stem, threads: _figures().fig_training(
            {name: _csv(f) for name, f in i["histories"].items()}, stem, p["select_size"])),
    "table1": Figure(
        inputs={"metrics": "one"}, params=TableParams,
        draw=_headline_table, kind="table"),
    "fig_conventions": Figure(
        inputs={"fractions": "one"},
        draw=lambda i, p, stem, threads: _figures().fig_conventions(_csv(i["fractions"]), stem),
        target="size_study"),
    "fig_size_accuracy": Figure(
        inputs={"accuracy": "one"},
        draw=lambda i, p, stem, threads: _figures().fig_size_accuracy(_csv(i["accuracy"]), stem),
        target="size_study"),
    "table_size_accuracy": Figure(
        inputs={"accuracy": "one"}, draw=_size_accuracy_table, kind="table",
        target="size_study"),
    "fig_size_tuning": Figure(
        inputs={"accuracy": "one", "tuned": "one", "history": "one"},
        draw=lambda i, p, stem, threads: _figures().fig_size_tuning(
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
    """The named inputs of ``python -m rgtopo.steps figure NAME --inputs ...``, each in its declared form."""
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
