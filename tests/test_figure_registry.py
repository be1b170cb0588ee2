"""The figure registry: named inputs round-trip through the command line, every declared
parameter is a config entry, and a bad --inputs is one clear error."""

import pytest

from conftest import REPO
from rgtopo.errors import SpecError
from rgtopo.figure_registry import (CONFIG_FILES, FIGURES, FORMS, check_params, input_args,
                                    names, params_for, parse_inputs)


def test_the_paper_figures_and_table_are_registered_with_their_captions():
    assert names("figure") == ["fig1b", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8",
                               "fig_training"]
    assert names("table") == ["table1"]
    for name, fig in FIGURES.items():
        assert (REPO / "workflow/report" / f"{name}.rst").is_file(), name
        assert all(inp.form in FORMS for inp in fig.inputs.values()), name


def test_every_declared_parameter_and_thread_count_is_a_config_entry():
    from rgtopo.config import load_config

    cfg = load_config(REPO / "config/test.yaml", REPO)

    def lookup(key):
        if key == CONFIG_FILES:
            return "config/test.yaml"
        value = cfg
        for part in key.split("."):
            value = value[part]
        return value

    assert params_for("fig7", lookup) == {"seed": 7, "grid": 16, "steps": 3, "lattice_size": 8,
                                          "delta0": 0.15}
    assert params_for("table1", lookup) == {"seed": 7, "config_name": "config/test.yaml"}
    for name, fig in FIGURES.items():
        check_params(name, params_for(name, lookup))
        if fig.threads:
            assert isinstance(lookup(fig.threads), int), name


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
    from rgtopo.steps import main

    out = str(tmp_path / "fig5")
    assert main(["figure", "fig5", "--params", "{}", "--inputs", "history=h.csv",
                 "--out", out]) == 2
    assert "rgtopo figure: error: --params is missing 'seed'" in capsys.readouterr().err
    assert main(["figure", "fig5", "--params", '{"seed": 1}', "--inputs", "h.csv",
                 "--out", out]) == 2
    assert "'h.csv' is not NAME=PATH" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
