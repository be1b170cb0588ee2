"""What the report shows beside the figures: the run's provenance and every training curve."""

import json
import os
import subprocess
from importlib.metadata import version

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from conftest import REPO  # noqa: E402
from rgtopo import provenance  # noqa: E402
from rgtopo.workflow.steps import main  # noqa: E402

KEYS = {"rgtopo", "git_commit", "git_dirty", "python", "packages", "tensorflow_devices",
        "tensorflow_devices_source", "hostname", "platform", "date", "config_files", "config"}
PACKAGES = {"numpy", "scipy", "numba", "h5py", "pandas", "matplotlib", "tensorflow", "keras",
            "scikit-learn",
            "snakemake"}


def git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture
def config():
    from rgtopo.config import load_config

    return load_config(REPO / "config/test.yaml", REPO)


def write_logs(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "train_base.log").write_text(
        "[10:00:00] TensorFlow devices: CPU only; threads=2\n[10:00:05] epoch 1/3: loss 0.5\n")
    (logs / "train_rg_main.log").write_text(
        "[11:00:00] TensorFlow devices: CPU only; threads=1\n"
        "[11:30:00] TensorFlow devices: 1 GPU(s): ['/physical_device:GPU:0']; threads=4\n"
        "[11:30:01] resuming from epoch 3\n")
    (logs / "evaluate.log").write_text("[12:00:00] no device line in this one\n")
    return [logs / "train_base.log", logs / "train_rg_main.log", logs / "evaluate.log",
            logs / "measure_timing.log"]


def test_provenance_records_commit_versions_devices_and_the_config(tmp_path, config):
    logs = write_logs(tmp_path)
    args = ["provenance", "--params", json.dumps({
        "config": config, "config_files": ["config/test.yaml"], "snakemake_version": "9.1.0"}),
        "--repo", str(REPO), "--logs", *map(str, logs),
        "--json-out", str(tmp_path / "out/provenance.json"),
        "--html-out", str(tmp_path / "out/provenance.html")]
    assert main(args) == 0
    record = json.loads((tmp_path / "out/provenance.json").read_text())
    assert set(record) == KEYS and set(record["packages"]) == PACKAGES
    assert record["config"] == config  # round trip, nothing dropped or renamed
    assert record["config_files"] == ["config/test.yaml"]
    assert record["git_commit"] == git("rev-parse", "HEAD")
    assert len(record["git_commit"]) == 40
    assert record["git_dirty"] == bool(git("status", "--porcelain", "--untracked-files=no"))
    assert record["packages"]["numpy"] == np.__version__
    assert record["packages"]["h5py"] == version("h5py")
    assert record["packages"]["snakemake"] == "9.1.0"  # the running workflow's, as passed
    import tensorflow as tf

    assert record["packages"]["tensorflow"] == tf.__version__
    # the last device line of each log: a resumed job reports where it finished
    assert record["tensorflow_devices"] == {
        "train_base": "CPU only; threads=2",
        "train_rg_main": "1 GPU(s): ['/physical_device:GPU:0']; threads=4"}
    assert record["tensorflow_devices_source"] == "training job logs"
    assert record["date"].endswith("+00:00")
    page = (tmp_path / "out/provenance.html").read_text()
    assert record["git_commit"] in page and "tensorflow_devices.train_rg_main" in page
    assert "&quot;select_size&quot;: 16" in page  # the config, HTML-escaped
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "provenance.html", "provenance.json"]  # no temporary files left behind


def test_provenance_outside_git_and_without_logs(tmp_path, config):
    from rgtopo.devices import device_summary

    record = provenance.collect(config, repo=tmp_path, logs=[tmp_path / "missing.log"])
    assert record["git_commit"] == "unknown" and record["git_dirty"] == "unknown"
    assert record["tensorflow_devices"] == {"provenance job": device_summary()}
    assert record["tensorflow_devices_source"] == "queried by the provenance job"


def histories():
    n = 5
    epoch = np.arange(n)
    lr = np.array([np.nan, 1e-2, 1e-2, 1e-3, 1e-3])
    base = pd.DataFrame({"epoch": epoch, "wall_s": epoch * 2.0, "learning_rate": lr,
                         "loss": [np.nan, 0.9, 0.5, 0.4, 0.35],
                         "val_loss": [np.nan, 1.0, 0.6, 0.5, 0.45],
                         "chern_accuracy": [np.nan, 0.6, 0.7, 0.8, 0.85],
                         "val_chern_accuracy": [np.nan, 0.55, 0.65, 0.75, 0.8]})
    decimation = pd.DataFrame({"loss": [0.3, 0.1, 0.05]})  # no epoch, no learning rate
    acc8 = np.array([0.7, 0.8, 0.85, 0.9, 0.88])
    acc16 = np.array([0.6, 0.7, 0.75, 0.72, 0.74])
    rg = pd.DataFrame({"epoch": epoch, "learning_rate": lr * 0.1, "loss": base["loss"] * 2,
                       "validation_loss_8x8": [1.0, 0.8, 0.7, 0.6, 0.65],
                       "validation_accuracy_8x8": acc8,
                       "validation_accuracy_low_8x8": acc8 - 0.05,
                       "validation_accuracy_high_8x8": acc8 + 0.04,
                       "validation_decided_accuracy_8x8": [0.5] * n,
                       "validation_clean_formula_8x8": [0.8] * n,
                       "validation_lattices_8x8": [60] * n,
                       "validation_accuracy_16x16": acc16,
                       "validation_accuracy_low_16x16": acc16 - 0.1,
                       "validation_accuracy_high_16x16": acc16 + 0.08,
                       "selected": [0, 0, 1, 0, 0]})
    return {"base network": base, "decimation (periodic padding)": decimation,
            "RG run main": rg}


def test_training_curves_plot_every_history_column_found(tmp_path):
    hists = histories()
    inputs = []
    for i, (name, hist) in enumerate(hists.items()):
        hist.to_csv(tmp_path / f"history_{i}.csv", index=False)
        inputs.append(f"histories:{name}={tmp_path / f'history_{i}.csv'}")
    stem = tmp_path / "figures/fig_training"
    params = {"seed": 1, "select_size": 16}
    assert main(["figure", "fig_training", "--params", json.dumps(params),
                 "--inputs", *inputs, "--out", str(stem)]) == 0
    assert stem.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert stem.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
    table = pd.read_csv(stem.with_suffix(".csv"))
    assert list(table.columns) == ["history", "epoch", "quantity", "value"]
    plotted = {h: set(g["quantity"]) for h, g in table.groupby("history")}
    assert plotted == {
        "base network": {"loss", "val_loss", "learning_rate", "chern_accuracy",
                         "val_chern_accuracy"},
        "decimation (periodic padding)": {"loss"},
        "RG run main": {"loss", "validation_loss_8x8", "learning_rate", "selected",
                        *(f"validation_accuracy{q}_{s}" for q in ("", "_low", "_high")
                          for s in ("8x8", "16x16"))},
    }
    for (name, quantity), group in table.groupby(["history", "quantity"]):
        source = hists[name]
        epochs = source["epoch"] if "epoch" in source else pd.Series(range(len(source)))
        values = source[quantity].to_numpy(dtype=float)
        keep = np.isfinite(values)  # epoch 0 has no training loss or learning rate
        np.testing.assert_array_equal(group["epoch"], epochs[keep])
        np.testing.assert_allclose(group["value"], values[keep])
    sel = table[(table["quantity"] == "selected") & (table["value"] == 1)]
    assert sel["epoch"].tolist() == [2]


def test_training_curves_name_a_stage_run_for_no_epochs(tmp_path, monkeypatch):
    """decimation.epochs 0 leaves a history with epoch 0 only: no empty panel, a title note."""
    import matplotlib.pyplot as plt
    from rgtopo.figures import curves as figures

    hists = histories()
    hists["decimation (periodic padding)"] = pd.DataFrame({"epoch": [0], "wall_s": [0.0]})
    titles = []
    rows = []
    monkeypatch.setattr(figures, "save", lambda fig, stem, table: (
        titles.append(fig._suptitle.get_text()),
        rows.append(fig.axes[0].get_gridspec().nrows), plt.close(fig)))
    table = figures.fig_training(hists, tmp_path / "t", select_size=16)
    assert set(table["history"]) == {"base network", "RG run main"}
    assert rows == [2]
    assert titles == ["Training curves of every stage "
                      "(no epochs trained: decimation (periodic padding))"]
