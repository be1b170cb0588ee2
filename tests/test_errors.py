"""One error family: every known failure is an RgtopoError, and every subcommand shows it as
one line on stderr with exit status 2, never a traceback."""

import ast
import inspect
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from conftest import REPO  # noqa: E402
from rgtopo import errors  # noqa: E402
from rgtopo import cli  # noqa: E402
from rgtopo.workflow import steps  # noqa: E402


def test_every_error_type_derives_from_the_one_base():
    types = [t for _, t in inspect.getmembers(errors, inspect.isclass)
             if issubclass(t, Exception)]
    assert {t.__name__ for t in types} >= {
        "RgtopoError", "LatticeError", "SpecError", "ShardError", "ModelError", "InputError",
        "BundleError", "DeviceError", "WriteError"}
    for t in types:
        assert issubclass(t, errors.RgtopoError), t
        assert issubclass(t, errors.KNOWN_ERRORS)


BARE = {"ValueError", "RuntimeError", "KeyError", "TypeError", "Exception", "OSError"}


def test_the_package_raises_no_bare_builtin_errors():
    found = []
    for path in sorted((REPO / "src/rgtopo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", None)
                if name in BARE:
                    found.append(f"{path.name}:{node.lineno} raise {name}")
    assert found == []


def _commands(d):
    """One known failure per workflow step and export-bundle: (argv, expected message)."""
    seed = json.dumps({"seed": 1})
    missing = str(d / "missing.h5")
    model = str(d / "missing.keras")
    return {
        "sample": (["sample", "--spec", "{}", "--shard", "0", "--shard-size", "2",
                    "--out", str(d / "s.h5")], "dataset spec is missing 'distribution'"),
        "label": (["label", "--in", missing, "--out", str(d / "l.h5")], "no such shard file"),
        "train-base": (["train-base", "--params", seed, "--train", missing, "--validation",
                        missing, "--model-out", model, "--history-out", str(d / "h.csv"),
                        "--state-dir", str(d / "st")], "base_network is missing 'optimizer'"),
        "init-decimation": (["init-decimation", "--params", seed, "--train", missing,
                             "--check", missing, "--model-out", model, "--history-out", str(d / "h.csv"),
                             "--metrics-out", str(d / "m.json"), "--state-dir", str(d / "st")],
                            "decimation is missing 'optimizer'"),
        "train-rg": (["train-rg", "--params", seed, "--base", model, "--train", missing,
                      "--validation", missing, "--epochs-dir", str(d / "e"), "--history-out", str(d / "h.csv"),
                      "--selected-out", model, "--state-dir", str(d / "st")],
                     "rg_training is missing 'optimizer'"),
        "evaluate": (["evaluate", "--params", seed, "--base", model, "--tests", missing,
                      "--selected", model,
                      "--main-history", str(d / "h.csv"), "--uninitialized-history",
                      str(d / "h.csv"), "--main-epochs", str(d), "--uninitialized-epochs",
                      str(d), "--statistics", missing, "--csv-out", str(d / "a.csv"),
                      "--json-out", str(d / "a.json")],
                     "evaluation is missing 'batch_size'"),
        "timing": (["timing", "--params", seed, "--base", model, "--rg", model, "--out",
                    str(d / "t.csv")], "figures.timing is missing 'bott_sizes'"),
        "figure": (["figure", "fig7", "--params", seed, "--inputs", f"rg_model={model}", "--out",
                    str(d / "fig7")], "--params is missing 'grid'"),
        "size-fractions": (["size-fractions", "--params", seed, "--sets", f"paper_8={missing}",
                            "--out", str(d / "f.csv")], "size_study is missing 'sizes'"),
        "size-accuracy": (["size-accuracy", "--params", seed, "--bundle", "shipped", "--sets",
                           f"paper_8={missing}", "--statistics", missing, "--out",
                           str(d / "a.csv")],
                          "size_study is missing 'sizes'"),
        "export-bundle": (["export-bundle", "--base", model, "--rg", model, "--out",
                           str(d / "bundle")], "no such saved model"),
    }


@pytest.mark.parametrize("command", ["sample", "label", "train-base", "init-decimation",
                                     "train-rg", "evaluate", "timing", "size-fractions",
                                     "size-accuracy", "figure", "export-bundle"])
def test_every_subcommand_reports_a_known_failure_in_one_line(command, tmp_path, capsys):
    argv, message = _commands(tmp_path)[command]
    main = cli.main if command == "export-bundle" else steps.main
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if "error" in line]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"rgtopo {command}: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in captured.err
    assert not (tmp_path / "bundle").exists() and not (tmp_path / "s.h5").exists()


def test_a_second_configure_keeps_the_thread_pools_and_says_so():
    """In a fresh interpreter, so earlier tests cannot have fixed TensorFlow's pools first."""
    code = (
        "import tensorflow as tf\n"
        "from rgtopo import devices\n"
        "devices.configure(1, 0)\n"
        "tf.constant(1.0) + 1\n"  # TensorFlow fixes its thread pools on the first operation
        "said = []\n"
        "devices.configure(2, 0, log=said.append)\n"
        "devices.configure(1, 0, log=said.append)\n"
        "print(tf.config.threading.get_intra_op_parallelism_threads(), '|'.join(said))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout
    have, said = out.strip().split(" ", 1)
    assert have == "1"
    assert said.count("keeping") == 1 and "asked for 2" in said


def test_timing_with_good_parameters_names_a_missing_model_in_one_line(tmp_path, capsys):
    from rgtopo.config import load_config
    from rgtopo.params import TimingParams

    params = TimingParams.from_config(load_config(REPO / "config" / "config.yaml", REPO))
    model = str(tmp_path / "none.keras")
    argv = ["timing", "--params", params.to_json(), "--base", model, "--rg", model, "--out",
            str(tmp_path / "t.csv")]
    assert steps.main(argv) == 2
    err = capsys.readouterr().err
    assert "no such saved model" in err and "Traceback" not in err
    assert not (tmp_path / "t.csv").exists()
