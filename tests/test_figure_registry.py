"""The figure registry: named inputs round-trip through the command line, every figure's
parameters are a typed class built from the config, the workflow spells out every figure's
inputs, and a bad --inputs is one clear error."""

import json

import pytest

from conftest import REPO
from rgtopo.errors import SpecError
from rgtopo.figures.registry import (FIGURES, FORMS, check_params, input_args, names,
                                    params_classes, parse_inputs)


def test_the_paper_figures_and_table_are_registered_with_their_captions():
    """The paper's figures and Table 1 are there (a new figure needs no change here), each with
    a caption that names it, and the size study's are made only on request."""
    assert {"fig1b", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8"} <= set(names("figure"))
    assert "table1" in names("table")
    study = names("figure", "size_study") + names("table", "size_study") + names(
        "figure", "size_tuning")
    assert study and not set(study) & set(names("figure") + names("table"))
    for name, fig in FIGURES.items():
        assert fig.caption.startswith("**") and "{{" not in fig.caption, name
        assert all(form in FORMS for form in fig.inputs.values()), name
    assert "snakemake.params.caption" in (REPO / "workflow/report/figure.rst").read_text()


def test_every_figures_parameters_are_built_from_the_config_and_read_back():
    from rgtopo.config import load_config
    from rgtopo.params import WorkflowParams

    cfg = load_config(REPO / "config/test.yaml", REPO)
    built = WorkflowParams.from_config(cfg, figures=params_classes(),
                                       config_files="config/test.yaml").figures
    assert built["fig7"].as_dict() == {"seed": 7, "grid": 16, "steps": 3, "lattice_size": 8,
                                       "delta0": 0.15}
    assert built["table1"].as_dict() == {"seed": 7, "config_name": "config/test.yaml"}
    for name, fig in FIGURES.items():
        assert check_params(name, json.loads(built[name].to_json())) == built[name], name
        if fig.threads:
            assert isinstance(cfg[fig.threads]["threads"], int), name


def test_the_workflow_spells_out_every_figures_inputs():
    """One get_<name>_inputs function per figure in common.smk, and nothing else resolves them."""
    common = (REPO / "workflow/rules/common.smk").read_text()
    for name in FIGURES:
        assert f"def get_{name}_inputs():" in common, name
        assert f'"{name}": get_{name}_inputs,' in common, name


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["figures"]["impurity"].update(site=[3, 8]), "figures.impurity.site"),
    (lambda c: c["figures"]["points_mapping"].update(lattice_size=7), "figures.points_mapping"),
    (lambda c: c["figures"].update(fig4_bins=2.5), "fig4_bins|bins"),
])
def test_a_bad_figure_parameter_is_one_clear_error(edit, message):
    from rgtopo.config import load_config
    from rgtopo.params import WorkflowParams

    cfg = load_config(REPO / "config/test.yaml", REPO)
    edit(cfg)
    with pytest.raises(SpecError, match=message):
        WorkflowParams.from_config(cfg, figures=params_classes())


def test_inputs_round_trip_by_name_in_every_form():
    files = {"base_model": "m.keras", "realizations": ["r1.mat", "r2.mat", "r3.mat"]}
    args = input_args("fig2", files)
    assert args == ["base_model=m.keras", "realizations=r1.mat", "realizations=r2.mat",
                    "realizations=r3.mat"]
    assert parse_inputs("fig2", args[::-1]) == {"base_model": "m.keras",
                                                "realizations": ["r3.mat", "r2.mat", "r1.mat"]}
    labelled = {"histories": {"base network": "a/history.csv", "RG run main": "b=c.csv"}}
    args = input_args("fig_training", labelled)
    assert args == ["histories:base network=a/history.csv", "histories:RG run main=b=c.csv"]
    assert parse_inputs("fig_training", args) == labelled


@pytest.mark.parametrize("name, args, message", [
    ("fig3", ["results/rg/main/history.csv"], "is not NAME=PATH with NAME one of history"),
    ("fig3", ["curve=h.csv"], "is not NAME=PATH"),
    ("fig3", ["history=a.csv", "history=b.csv"], "'history' takes one file, got two"),
    ("fig6", ["histories=a.csv"], "'histories' takes NAME:LABEL=PATH"),
    ("fig3", ["history:main=a.csv"], "'history' takes NAME=PATH"),
    ("fig2", ["base_model=m.keras"], "--inputs is missing 'realizations'"),
])
def test_a_bad_inputs_list_is_one_clear_error(name, args, message):
    with pytest.raises(SpecError, match=message):
        parse_inputs(name, args)


def test_the_command_line_checks_parameters_and_inputs_before_drawing(tmp_path, capsys):
    from rgtopo.workflow.steps import main

    out = str(tmp_path / "fig5")
    assert main(["figure", "fig5", "--params", "{}", "--inputs", "history=h.csv",
                 "--out", out]) == 2
    assert "rgtopo figure: error: --params is missing 'seed'" in capsys.readouterr().err
    assert main(["figure", "fig5", "--params", '{"seed": 1}', "--inputs", "h.csv",
                 "--out", out]) == 2
    assert "'h.csv' is not NAME=PATH" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
