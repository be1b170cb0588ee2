"""The paper's figures and table, each declared once: named inputs, parameters, drawing.

``python -m rgtopo.steps figure NAME`` and the workflow's generic ``figure`` and ``table`` rules
are generated from ``FIGURES``, so adding a figure means one entry here plus its
drawing function in ``figures``. An input's ``key`` is how the workflow finds
its file(s) (resolved in ``workflow/rules/common.smk``, ``FIGURE_INPUTS``; the
part after ':' is the key's argument); a parameter names the config entry
(dotted path) it is read from. This module imports nothing heavy: Snakemake
reads it when it parses the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .errors import SpecError

FORMS = ("one", "many", "labelled")
# Parameters every figure gets; also what TensorFlow is configured with.
COMMON_PARAMS = {"seed": "seed"}
# A parameter key the workflow supplies itself rather than reading from the config.
CONFIG_FILES = "configfiles"


@dataclass(frozen=True)
class Input:
    """One named input: ``form`` is what the drawing receives, one path, a list of
    paths ('many') or {label: path} ('labelled', e.g. one history per RG run)."""

    key: str
    form: str = "one"


@dataclass(frozen=True)
class Figure:
    """A figure (``kind`` 'figure': png, pdf, csv) or table ('table': md, html, csv).

    ``draw(inputs, params, stem, threads)`` writes the outputs; ``threads`` names the
    config entry with its thread count (none: one thread); ``tensorflow`` says it
    loads a network, so TensorFlow is configured (threads, seed) first.
    """

    inputs: Mapping[str, Input]
    draw: Callable
    params: Mapping[str, str] = field(default_factory=dict)
    kind: str = "figure"
    threads: str | None = None
    tensorflow: bool = False


def _csv(path):
    import pandas as pd  # lazy: the Snakefile imports this module

    return pd.read_csv(path)


def _figures():
    from . import figures  # lazy: Matplotlib only when a figure is drawn

    return figures


def _headline_table(i, p, stem, threads):
    from .metrics import write_headline_table  # lazy: Numba only when the table is drawn

    write_headline_table(_csv(i["metrics"]), stem, p["config_name"])


FIGURES: dict[str, Figure] = {
    "fig1b": Figure(
        inputs={"timing": Input("timing")},
        draw=lambda i, p, stem, threads: _figures().fig1b(_csv(i["timing"]), stem)),
    "fig2": Figure(
        inputs={"base_model": Input("base_model"), "realizations": Input("reference", "many")},
        params={"grid": "figures.phase_diagram_grid", "delta0": "figures.delta0"},
        draw=lambda i, p, stem, threads: _figures().fig2(
            i["realizations"], i["base_model"], p["grid"], p["delta0"], threads, stem),
        threads="labeling.threads", tensorflow=True),
    "fig3": Figure(
        inputs={"history": Input("rg_history:main")},
        params={"select_size": "rg_training.select_size"},
        draw=lambda i, p, stem, threads: _figures().fig3(_csv(i["history"]), p["select_size"],
                                                         stem)),
    "fig4": Figure(
        inputs={"train_shards": Input("shards:train_4", "many")},
        params={"alpha": "sampling.alpha", "bins": "figures.fig4_bins"},
        draw=lambda i, p, stem, threads: _figures().fig4(i["train_shards"], p["alpha"],
                                                         p["bins"], stem)),
    "fig5": Figure(
        inputs={"history": Input("rg_history:main")},
        draw=lambda i, p, stem, threads: _figures().fig5(_csv(i["history"]), stem)),
    "fig6": Figure(
        inputs={"histories": Input("rg_histories", "labelled")},
        draw=lambda i, p, stem, threads: _figures().fig6(
            {run: _csv(f) for run, f in i["histories"].items()}, stem)),
    "fig7": Figure(
        inputs={"rg_model": Input("rg_model:main")},
        params={"grid": "figures.points_mapping.grid", "steps": "figures.points_mapping.steps",
                "lattice_size": "figures.points_mapping.lattice_size",
                "delta0": "figures.delta0"},
        draw=lambda i, p, stem, threads: _figures().fig7(
            i["rg_model"], p["grid"], p["steps"], p["delta0"], p["lattice_size"], stem),
        threads="training.threads", tensorflow=True),
    "fig8": Figure(
        inputs={"rg_model": Input("rg_model:main")},
        params={k: f"figures.impurity.{k}"
                for k in ("size", "site", "mu0", "t_minus0", "delta0", "strengths")},
        draw=lambda i, p, stem, threads: _figures().fig8(
            i["rg_model"], p["size"], p["site"], p["mu0"], p["t_minus0"], p["delta0"],
            p["strengths"], stem),
        threads="training.threads", tensorflow=True),
    "fig_training": Figure(
        inputs={"histories": Input("training_histories", "labelled")},
        params={"select_size": "rg_training.select_size"},
        draw=lambda i, p, stem, threads: _figures().fig_training(
            {name: _csv(f) for name, f in i["histories"].items()}, stem, p["select_size"])),
    "table1": Figure(
        inputs={"metrics": Input("metrics")},
        params={"config_name": CONFIG_FILES},
        draw=_headline_table, kind="table"),
}


def names(kind: str) -> list[str]:
    """The registered figures of one kind ('figure' or 'table'), in registry order."""
    return [name for name, fig in FIGURES.items() if fig.kind == kind]


def params_for(name: str, lookup: Callable[[str], object]) -> dict:
    """{parameter: value} of one figure, each value read by ``lookup(config key)``."""
    return {p: lookup(key) for p, key in {**COMMON_PARAMS, **FIGURES[name].params}.items()}


def check_params(name: str, params: Mapping) -> None:
    """One clear SpecError for the first declared parameter that ``params`` lacks."""
    for p in (*COMMON_PARAMS, *FIGURES[name].params):
        if p not in params:
            raise SpecError(f"--params is missing '{p}'")


def input_args(name: str, files: Mapping[str, object]) -> list[str]:
    """Command-line ``--inputs`` entries, ``NAME=PATH`` or ``NAME:LABEL=PATH`` (labelled),
    from {input name: path, [paths] or {label: path}} as the workflow resolved them."""
    args = []
    for key, inp in FIGURES[name].inputs.items():
        value = files[key]
        if inp.form == "labelled":
            args += [f"{key}:{label}={path}" for label, path in value.items()]
        elif inp.form == "many":
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
        form = declared[key].form
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
