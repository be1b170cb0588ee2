"""The Snakemake workflow: dry runs, config rejection, the test-config DAG end to end,
figures from results, the report, resuming a killed RG training, lint and format."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from rgtopo.evaluation.bundle import DEFAULT_BUNDLE
from rgtopo.figures.registry import names

FIGURES, TABLES = names("figure"), names("table")

pytestmark = pytest.mark.workflow
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def smk(*args, cwd, check=True, timeout=1200):
    """Run snakemake in cwd; stdout holds stdout and stderr together (Snakemake logs to both)."""
    proc = subprocess.run([*SNAKEMAKE, "--directory", str(cwd), *args], cwd=REPO, env=ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)
    if check and proc.returncode:
        raise AssertionError(f"snakemake {args} failed:\n{proc.stdout[-6000:]}")
    return proc


def job_stats(output: str) -> dict:
    """{rule: count} from Snakemake's 'Job stats' table."""
    table = output.split("Job stats:")[-1].split("\n\n")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}


def load(name):
    """A preset as the workflow sees it: overlaid on its base config."""
    from rgtopo.config import load_config

    return load_config(REPO / "config" / name, REPO)


def expected_jobs(cfg):
    shards = {n: -(-d["count"] // cfg["shard_size"]) for n, d in cfg["datasets"].items()}
    runs = cfg["rg_training"]["runs"]
    paddings = {r["padding"] for r in runs.values() if r["init"] == "decimation"}
    jobs = {
        "sample_shard": sum(shards.values()),
        "label_shard": sum(v for n, v in shards.items() if not n.startswith("decimation")),
        "train_base": 1, "init_decimation": len(paddings), "train_rg": len(runs),
        "evaluate": 1, "fit_statistics_baseline": 1, "measure_timing": 1, "export_bundle": 1,
        "provenance": 1, "all": 1,
        "figure": len(FIGURES), "table": len(TABLES),
    }
    study = cfg["size_study"]
    if study["in_all"]:  # one shard per convention and size, the fractions and the accuracy
        sets = sum(-(-c // cfg["shard_size"]) for convention in study["conventions"].values()
                   for c in convention.get("counts", study["counts"]))
        jobs["sample_shard"] += sets
        jobs["label_shard"] += sets
        jobs.update(convention_fractions=1, size_accuracy=1,
                    figure=jobs["figure"] + len(names("figure", target="size_study")),
                    table=jobs["table"] + len(names("table", target="size_study")))
        own = study["training"]
        if own["in_study"]:  # its training and validation sets, its training and its measure
            sets = sum(-(-c // cfg["shard_size"])
                       for c in own["train_counts"] + own["validation_counts"])
            jobs["sample_shard"] += sets
            jobs["label_shard"] += sets
            jobs.update(train_rg_study=1, size_accuracy_tuned=1,
                        figure=jobs["figure"] + len(names("figure", target="size_tuning")))
    return jobs


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml", "paper.yaml", "gpu.yaml",
                                  "size_study.yaml"])
def test_dry_run_lists_the_expected_jobs(tmp_path, name):
    out = smk("-n", "--configfile", str(REPO / "config" / name), cwd=tmp_path).stdout
    assert job_stats(out) == expected_jobs(load(name))
    assert not (tmp_path / "results").exists()


def test_the_full_size_study_trains_only_its_own_run_on_the_shipped_bundle(tmp_path):
    """size_study.yaml: no workflow training; the study's own run starts from the shipped
    networks. The default config measures (and so trains) the workflow's own networks."""
    full = load("size_study.yaml")
    cfg = full["size_study"]
    own = cfg["training"]
    sets = len(cfg["conventions"]) * len(cfg["sizes"])
    own_sets = len(own["train_sizes"]) + len(own["validation_sizes"])
    # the statistics baseline, the third baseline of every accuracy, is fitted on the first
    # max_train_lattices of train_4 and train_8 and chosen on validation_4 and validation_8
    fit = full["statistics_baseline"]
    baseline_sets = sum(
        min(-(-full["datasets"][f"train_{n}"]["count"] // full["shard_size"]),
            -(-fit["max_train_lattices"] // full["shard_size"]))
        + -(-full["datasets"][f"validation_{n}"]["count"] // full["shard_size"])
        for n in fit["train_sizes"])
    assert max(cfg["sizes"]) == 256 and own["in_study"]
    out = smk("size_study", "-n", "-p", "--configfile",
              str(REPO / "config" / "size_study.yaml"), cwd=tmp_path).stdout
    assert job_stats(out) == {"sample_shard": sets + own_sets + baseline_sets,
                              "label_shard": sets + own_sets + baseline_sets,
                              "fit_statistics_baseline": 1,
                              "convention_fractions": 1, "size_accuracy": 1, "figure": 3,
                              "table": 1, "size_study": 1, "train_rg_study": 1,
                              "size_accuracy_tuned": 1}
    shipped = DEFAULT_BUNDLE
    assert f"--base {shipped / 'base_network.keras'} --init {shipped / 'rg_network.keras'}" in out
    assert "--train results/data/size-train-strong_8/shard_0000.h5" in out
    assert "--rg-network results/size_study/rg/selected.keras" in out
    trained = job_stats(smk("size_study", "-n", cwd=tmp_path).stdout)
    assert trained["export_bundle"] == 1 and trained["size_accuracy"] == 1
    assert "train_rg_study" not in trained  # size_study.training.in_study is off by default


def labeling_crossovers(output: str) -> dict:
    """{dataset: auto_min_size} of each label job's shell command in a dry run."""
    return {m[1]: int(m[2]) for m in re.finditer(
        r"label --in results/raw/([\w-]+)/shard_\d+\.h5 .*?\"auto_min_size\": (\d+)", output,
        re.S)}


def test_the_size_study_labels_with_its_own_auto_crossover(tmp_path):
    """size_study.auto_min_size reaches the study's label jobs; the workflow's sets keep
    labeling.auto_min_size."""
    overlay = tmp_path / "crossovers.yaml"
    overlay.write_text(yaml.safe_dump({"size_study": {"bundle": "shipped", "auto_min_size": 16},
                                       "labeling": {"auto_min_size": 64}}))
    out = smk("all", "size_study", "-n", "--configfile", str(REPO / "config" / "config.yaml"),
              str(overlay), cwd=tmp_path).stdout
    crossovers = labeling_crossovers(out)
    study = {k for k in crossovers if k.startswith("size-")}
    assert study and {crossovers[k] for k in study} == {16}
    assert {crossovers[k] for k in set(crossovers) - study} == {64}


def test_default_config_applies_without_configfile(tmp_path):
    out = smk("-n", cwd=tmp_path).stdout
    assert job_stats(out) == expected_jobs(load("config.yaml"))


def made_figures(output: str) -> list:
    """The figures and tables a run made (the {figure} wildcard of its jobs)."""
    return re.findall(r"^    wildcards: figure=(\w+)$", output, re.M)


def job_resources(output: str) -> dict:
    """{rule: resources line} of the jobs listed by a dry run (the last job of each rule)."""
    return {m[1]: m[2] for m in re.finditer(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$",
                                              output, re.M)}


def test_plain_snakemake_loads_the_default_profile(tmp_path, monkeypatch):
    """No flags: profiles/default beside the Snakefile sets the local settings."""
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--snakefile",
                           str(REPO / "Snakefile")], cwd=tmp_path, env=ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"workflow specific profile {REPO / 'profiles/default'}" in proc.stdout
    assert "Shell command:" in proc.stdout  # printshellcmds from the profile
    from snakemake.cli import parse_args

    monkeypatch.chdir(tmp_path)
    _, args = parse_args(["--snakefile", str(REPO / "Snakefile"), "-n"])
    assert {k: v.value for k, v in args.resources.items()} == {"gpu": 1}
    assert args.cores == os.cpu_count()  # cores: all
    assert args.rerun_incomplete and args.show_failed_logs
    # the SLURM workflow profile replaces it: no one-GPU-job cap on a cluster
    _, args = parse_args(["--snakefile", str(REPO / "Snakefile"), "-n",
                          "--workflow-profile", str(REPO / "profiles/slurm")])
    assert args.executor == "slurm" and not args.resources and args.jobs == 100


@pytest.mark.parametrize("form, gpu", [("gpus", "gpu=1"), ("gres", "gres=gpu:1")])
def test_slurm_profile_places_cpu_and_gpu_jobs(tmp_path, form, gpu):
    cfg = load("test.yaml")
    cfg["resources"]["gpu_request"] = form
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = smk("-n", "--workflow-profile", str(REPO / "profiles/slurm"), "--configfile",
              str(path), cwd=tmp_path).stdout
    assert f"workflow specific profile {REPO / 'profiles/slurm'}" in out
    res = job_resources(out)
    for rule in ("train_base", "init_decimation", "train_rg", "evaluate", "measure_timing"):
        assert "slurm_partition=gpu" in res[rule] and res[rule].endswith(gpu), (rule, res[rule])
    other = "gres=" if form == "gpus" else "gpu="
    for rule in ("sample_shard", "label_shard", "figure", "table"):
        assert "slurm_partition=cpu" in res[rule] and "gpu" not in res[rule].replace(
            "slurm_partition=cpu", ""), (rule, res[rule])
    assert not any(other in r.split("slurm_partition")[-1] for r in res.values())


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c.update(colour="blue"), "colour"),
        (lambda c: c["base_network"].update(width="wide"), "width"),
        (lambda c: c["datasets"]["train_8"].update(count=-5), "count"),
        (lambda c: c["datasets"].update(test_12={"distribution": "uniform", "size": 12,
                                                  "count": 10}), "datasets.test_12.size"),
        (lambda c: c["datasets"]["test_8"].update(size=9), "datasets.test_8.size"),
        (lambda c: c["rg_training"].update(select_size=32), "rg_training.eval_sizes"),
        (lambda c: c["rg_training"].update(loss="abs_square"), "rg_training.loss"),
        (lambda c: c["rg_training"]["runs"]["uninitialized"].update(loss="abs_square"),
         "rg_training.runs.uninitialized.loss"),
        (lambda c: c["sampling"].update(mu_range=[4, -4]), "sampling.mu_range"),
        (lambda c: c.update(reference_dir="/nonexistent"), "reference_dir"),
        (lambda c: c["datasets"].pop("validation_16"), "validation_16"),
        (lambda c: c["datasets"]["validation_16"].update(distribution="boundary_biased"),
         "datasets.validation_16.distribution"),
        (lambda c: c["datasets"]["validation_4"].update(distribution="uniform"),
         "datasets.validation_4.distribution"),
        (lambda c: c["base_network"].update(levels=2, architecture="conv"), "base_network.levels"),
        (lambda c: (c["base_network"].update(levels=3), c["rg_training"].update(tied_epochs=0),
                    c["datasets"].pop("train_16")), "base_network.levels"),
    ],
)
def test_bad_config_is_rejected_before_any_job(tmp_path, edit, key):
    cfg = load("test.yaml")
    edit(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("--cores", "1", "--configfile", str(path), cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert key in proc.stdout, proc.stdout[-2000:]
    assert "Traceback" not in proc.stdout
    assert not (tmp_path / "results").exists()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """The whole test-config DAG, run once for the tests below."""
    d = tmp_path_factory.mktemp("e2e")
    smk("--cores", "2", "--configfile", str(REPO / "config" / "test.yaml"), cwd=d)
    return d


def test_every_figure_and_table_is_written(run_dir):
    for name in FIGURES:
        for ext in ("png", "pdf", "csv"):
            path = run_dir / "results" / "figures" / f"{name}.{ext}"
            assert path.stat().st_size > 500 if ext != "csv" else path.stat().st_size > 20, path
        assert (run_dir / "results/figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    table = (run_dir / "results/figures/table1.md").read_text()
    assert table.startswith("# Table 1: headline accuracies (config: config/test.yaml)\n")
    assert "95.60" in table and "| selected RG epoch (best 16x16), 16x16 |" in table
    page = (run_dir / "results/figures/table1.html").read_text()
    assert "<td>selected RG epoch (best 16x16), 16x16</td><td>95.60</td>" in page


def test_figure_csvs_match_their_sources(run_dir, reference_dir):
    res = run_dir / "results"
    fig2 = pd.read_csv(res / "figures/fig2.csv")
    assert set(fig2["realization"]) == {1, 2, 3}
    np.testing.assert_array_equal(fig2["bott"], fig2["reference_bott"])
    np.testing.assert_array_equal(fig2["disorder_decided"], fig2["bott"] != fig2["clean_formula"])
    history = pd.read_csv(res / "rg/main/history.csv")
    fig3 = pd.read_csv(res / "figures/fig3.csv")
    np.testing.assert_allclose(fig3["validation_accuracy_16x16"],
                               history["validation_accuracy_16x16"])
    np.testing.assert_allclose(fig3["validation_accuracy_low_16x16"],
                               history["validation_accuracy_low_16x16"])
    np.testing.assert_allclose(pd.read_csv(res / "figures/fig5.csv")["validation_loss_8x8"],
                               history["validation_loss_8x8"])
    assert pd.read_csv(res / "figures/fig4.csv")["count"].sum() == 1500
    metrics = pd.read_csv(res / "metrics/accuracy.csv")
    table = pd.read_csv(res / "figures/table1.csv")
    np.testing.assert_allclose(table["measured_percent"], metrics["measured_percent"])
    sel = history.loc[history["selected"] == 1].iloc[0]
    assert sel["validation_accuracy_16x16"] == history["validation_accuracy_16x16"].max()
    rows = metrics.set_index("key")
    row = rows.loc["selected_epoch_16x16"]
    assert row["epoch"] == sel["epoch"] and row["selected_on"] == "validation_16"
    assert (history["validation_lattices_16x16"] == 12).all() and row["test_lattices"] == 20
    assert rows.loc["best_8x8_epoch_8x8", "selected_on"] == "validation_8"
    assert rows.loc["best_8x8_epoch_8x8", "epoch"] == history.loc[
        history["validation_accuracy_8x8"].idxmax(), "epoch"]
    assert pd.isna(rows.loc["base_4x4", "selected_on"])
    # the 8x8 epochs (and epoch 0), then those of the tied 16x16 phase, numbered on
    rg = load("test.yaml")["rg_training"]
    first, tied = rg["epochs"], rg["tied_epochs"]
    assert first >= 1 and tied >= 1
    epochs = first + tied + 1
    assert history["epoch"].tolist() == list(range(epochs))
    assert history["phase"].tolist() == ["rg_8"] * (first + 1) + ["tied_16"] * tied
    assert len(list((res / "rg/main/epochs").glob("epoch_*.keras"))) == epochs
    fig7 = pd.read_csv(res / "figures/fig7.csv")
    assert sorted(fig7["step"].unique()) == [0, 1, 2, 3] and len(fig7) == 4 * 16 * 16
    fig8 = pd.read_csv(res / "figures/fig8.csv")
    assert len(fig8) == 2 * 4 * 4 * 3
    timing = pd.read_csv(res / "timing/timing.csv")
    assert set(timing["method"]) == {"bott", "network"}
    assert (timing["seconds_per_lattice"] > 0).all()


def test_exported_bundle_reproduces_the_selected_16x16_accuracy(run_dir):
    res = run_dir / "results"
    card = json.loads((res / "bundle/card.json").read_text())
    assert card["accuracy"] == json.loads((res / "metrics/accuracy.json").read_text())
    assert card["config"]["datasets"] == load("test.yaml")["datasets"]
    shards = sorted((res / "data/test_16").glob("shard_*.h5"))
    predicted, labels = [], []
    for shard in shards:
        out = run_dir / f"predict_{shard.stem}.csv"
        subprocess.run([sys.executable, "-m", "rgtopo", "predict", str(shard), "--model",
                        str(res / "bundle"), "--out", str(out)], env=ENV, check=True)
        predicted.append(pd.read_csv(out)["chern"].to_numpy())
        labels.append(_shard_labels(shard))
    accuracy = 100 * np.mean(np.concatenate(predicted) == np.concatenate(labels))
    row = pd.read_csv(res / "metrics/accuracy.csv").set_index("key").loc["selected_epoch_16x16"]
    assert accuracy == pytest.approx(row["measured_percent"], abs=0.01)


def _shard_labels(path):
    import h5py

    with h5py.File(path, "r") as f:
        return f["chern"][...]


def test_every_headline_carries_interval_baselines_and_disorder_decided_subset(run_dir):
    from rgtopo.training.metrics import wilson_interval

    metrics = pd.read_csv(run_dir / "results/metrics/accuracy.csv")
    assert list(metrics["key"]) == [
        "base_4x4", "decimation_8x8", "decimation_16x16", "best_8x8_epoch_8x8",
        "selected_epoch_8x8", "selected_epoch_16x16", "uninitialized_16x16"]
    assert list(metrics["test_lattices"]) == [300, 100, 20, 100, 100, 20, 20]
    for r in metrics.itertuples():
        n = r.test_lattices
        hits = round(r.measured_percent * n / 100)
        low, high = wilson_interval(hits, n)
        assert (r.measured_ci_low, r.measured_ci_high) == pytest.approx(
            (100 * low, 100 * high), abs=0.006)
        clean_hits = round(r.clean_formula_percent * n / 100)
        assert r.disorder_decided_lattices == n - clean_hits
        assert 0 <= r.gapped_decided_lattices <= r.disorder_decided_lattices
        scores = {"clean formula": r.clean_formula_percent, "majority class": r.majority_percent,
                  "statistics baseline": r.statistics_percent}
        assert 0 <= r.statistics_percent <= 100
        assert r.stronger_baseline_percent == max(scores.values())
        assert scores[r.stronger_baseline] == max(scores.values())
    # the same test lattices give the same baselines, whatever network is measured
    by_size = metrics.groupby("test_lattices")
    assert (by_size["clean_formula_percent"].nunique() == 1).all()
    assert (by_size["statistics_percent"].nunique() == 1).all()
    records = json.loads((run_dir / "results/metrics/accuracy.json").read_text())
    assert records["base_4x4"]["disorder_decided_lattices"] == metrics.loc[
        0, "disorder_decided_lattices"]
    table = (run_dir / "results/figures/table1.md").read_text()
    assert "(clean formula)" in table and "Wilson 95 %" in table and "(validation_16) |" in table


def test_rg_epochs_are_chosen_on_validation_sets_never_on_test_sets(tmp_path):
    out = smk("results/rg/main/selected.keras", "-n", "-p", "--forceall", "--configfile",
              str(REPO / "config/test.yaml"), cwd=tmp_path).stdout
    train_rg = [line for line in out.splitlines() if " train-rg " in line]
    assert len(train_rg) == 1
    assert "results/data/validation_16/" in train_rg[0] and "results/data/test_" not in train_rg[0]
    assert "results/data/validation_8/" in train_rg[0]


def test_deleting_one_figure_remakes_only_that_figure(run_dir):
    (run_dir / "results/figures/fig3.png").unlink()
    out = smk("figures", "--cores", "1", "--configfile", str(REPO / "config/test.yaml"),
              cwd=run_dir).stdout
    assert job_stats(out) == {"figure": 1, "figures": 1}
    assert made_figures(out) == ["fig3"]
    assert (run_dir / "results/figures/fig3.png").is_file()


def test_figures_profile_remakes_all_figures_without_upstream_jobs(run_dir):
    out = smk("figures", "--workflow-profile", str(REPO / "profiles/figures"), "--configfile",
              str(REPO / "config/test.yaml"), cwd=run_dir).stdout
    stats = job_stats(out)
    assert set(stats) == {"figure", "table", "figures"}
    assert sorted(made_figures(out)) == sorted([*FIGURES, *TABLES])


def embedded_files(html: str) -> dict:
    """{file name: bytes} of every result the self-contained report embeds as a data URI."""
    import base64

    return {m[1]: base64.b64decode(m[2]) for m in re.finditer(
        r"data:[\w/.+-]+;charset=[\w-]+;filename=([^;]+);base64,([A-Za-z0-9+/=]+)", html)}


def test_report_builds(run_dir):
    smk("--configfile", str(REPO / "config/test.yaml"), "--report",
        str(run_dir / "report.html"), cwd=run_dir)
    html = (run_dir / "report.html").read_text(errors="ignore")
    assert len(html) > 10_000 and "fig7" in html
    files = embedded_files(html)
    for name in FIGURES:
        assert files[f"{name}.png"][:4] == b"\x89PNG", name
    assert files["fig_training.png"] == (run_dir / "results/figures/fig_training.png").read_bytes()
    assert "Training curves" in html and "Provenance" in html  # captions
    # the accuracy table, shown inline
    table = files["table1.html"].decode()
    assert "selected RG epoch (best 16x16), 16x16" in table and "<table>" in table
    # the provenance: this checkout's commit, the device every TensorFlow job logged, the config
    record = json.loads((run_dir / "results/provenance.json").read_text())
    page = files["provenance.html"].decode()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert record["git_commit"] == commit and commit in page
    assert record["config"] == load("test.yaml")
    assert set(record["tensorflow_devices"]) == {
        "train_base", "init_decimation_periodic", "init_decimation_zero", "train_rg_main",
        "train_rg_uninitialized", "train_rg_zero_padding", "evaluate", "measure_timing"}
    devices = record["tensorflow_devices"].values()
    assert all(d.startswith(("CPU only", "1 GPU(s)")) for d in devices)
    for key in ("packages.tensorflow", "packages.snakemake", "tensorflow_devices.train_base"):
        assert f"<th>{key}</th>" in page
    # the training curves: every history of the run, as plotted
    curves = pd.read_csv(run_dir / "results/figures/fig_training.csv")
    assert set(curves["history"]) == {
        "base network", "decimation (periodic padding)", "decimation (zero padding)",
        "RG run main", "RG run uninitialized", "RG run zero_padding"}
    base = curves[curves["history"] == "base network"]
    # levels 2: the base network's level 1 is validated on validation_8 every epoch
    assert {"val_level1_chern_accuracy", "val_level1_loss"} <= set(base["quantity"])
    assert (base["quantity"] == "val_level1_chern_accuracy").sum() == 4  # epochs 0-3
    main = curves[curves["history"] == "RG run main"].pivot(index="epoch", columns="quantity",
                                                             values="value")
    history = pd.read_csv(run_dir / "results/rg/main/history.csv").set_index("epoch")
    np.testing.assert_allclose(main["validation_accuracy_16x16"],
                               history["validation_accuracy_16x16"])
    np.testing.assert_allclose(main["validation_accuracy_low_8x8"],
                               history["validation_accuracy_low_8x8"])


def test_killed_rg_training_resumes_from_last_epoch(run_dir):
    cfg = load("test.yaml")
    cfg["rg_training"]["epochs"] = 12
    path = run_dir / "longer.yaml"
    path.write_text(yaml.safe_dump(cfg))
    args = [*SNAKEMAKE, "--directory", str(run_dir), "--cores", "2", "--configfile", str(path),
            "--rerun-incomplete", "results/rg/main/selected.keras"]
    state = run_dir / "results/rg/main/state/state.json"
    proc = subprocess.Popen(args, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    killed_at = None
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        try:
            epoch = json.loads(state.read_text())["epoch"]
            fp = json.loads(state.read_text())["fingerprint"]["params"]["epochs"]
        except (OSError, ValueError, KeyError):
            epoch, fp = 0, None
        if fp == 12 and epoch >= 2:
            os.killpg(proc.pid, signal.SIGKILL)
            killed_at = epoch
            break
        time.sleep(0.1)
    proc.wait()
    assert killed_at is not None, "training finished or never started before it could be killed"
    assert not (run_dir / "results/rg/main/selected.keras").exists()
    subprocess.run([*args, "--unlock"], cwd=REPO, env=ENV, capture_output=True, check=True)
    out = subprocess.run(args, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    log = (run_dir / "logs/train_rg_main.log").read_text()
    resumed = int(re.search(r"resuming from epoch (\d+)", log)[1])
    assert resumed >= killed_at
    history = pd.read_csv(run_dir / "results/rg/main/history.csv")
    epochs = 12 + cfg["rg_training"]["tied_epochs"] + 1  # then the tied 16x16 phase
    assert history["epoch"].tolist() == list(range(epochs))
    assert len(list((run_dir / "results/rg/main/epochs").glob("epoch_*.keras"))) == epochs


def test_documented_commands_put_targets_before_config_options():
    """In `snakemake --configfile a.yaml figures`, 'figures' is read as a config file."""
    import shlex

    for doc in (REPO / "README.md", REPO / "config/README.md"):
        blocks = re.findall(r"```bash\n(.*?)```", doc.read_text(), re.S)
        commands = [c for b in blocks for c in b.replace("\\\n", " ").splitlines()
                    if c.lstrip().startswith("snakemake ")]
        assert commands, doc
        for command in commands:
            words = shlex.split(command, comments=True)
            for i, word in enumerate(words):
                if word in ("--configfile", "--config"):
                    rest = words[i + 2:]
                    assert not rest or rest[0].startswith("-"), (doc.name, command)


def test_lint_and_format_are_clean(tmp_path):
    lint = smk("--lint", "--configfile", str(REPO / "config/test.yaml"), cwd=tmp_path, check=False)
    assert lint.returncode == 0, lint.stdout
    assert "Congratulations, your workflow is in a good condition!" in lint.stdout
    snakefmt = shutil.which("snakefmt") or str(Path(sys.executable).parent / "snakefmt")
    files = [REPO / "Snakefile", REPO / "workflow/Snakefile",
             *sorted((REPO / "workflow/rules").glob("*.smk"))]
    fmt = subprocess.run([snakefmt, "--check", *map(str, files)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_rules_read_typed_parameters_not_the_raw_config():
    """Every number a rule passes comes from rgtopo.params (checked once, in common.smk); the
    raw config reaches a job only as the whole config (provenance, the bundle card)."""
    for path in [REPO / "Snakefile", REPO / "workflow/Snakefile",
                 *sorted((REPO / "workflow/rules").glob("*.smk"))]:
        raw = re.findall(r"\bconfig\[[^\]]*\]", path.read_text())
        assert raw == [], (path.name, raw)


def test_the_workflow_runs_as_a_module_of_another(tmp_path):
    """workflow/Snakefile as Snakemake users deploy workflows: `module ...: snakefile: ...;
    use rule * from ...` in a Snakefile of their own, anywhere, dry-running the test config."""
    (tmp_path / "Snakefile").write_text(
        f'configfile: "{REPO / "config/test.yaml"}"\n\n\n'
        f'module rgtopo:\n    snakefile:\n        "{REPO / "workflow/Snakefile"}"\n'
        "    config:\n        config\n\n\n"
        "use rule * from rgtopo\n")
    out = smk("-n", "-s", str(tmp_path / "Snakefile"), cwd=tmp_path).stdout
    assert job_stats(out) == expected_jobs(load("test.yaml"))
    assert not (tmp_path / "results").exists()


def test_a_second_run_on_the_same_directory_refuses(tmp_path):
    """Snakemake's directory lock: while one run works in a directory, another run there stops
    with one clear message instead of writing the same files."""
    args = [*SNAKEMAKE, "data", "--directory", str(tmp_path), "--cores", "1", "--configfile",
            str(REPO / "config/test.yaml")]
    first = subprocess.Popen(args, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        locks = tmp_path / ".snakemake" / "locks"
        deadline = time.time() + 120
        while not (locks.is_dir() and any(locks.iterdir())):
            assert first.poll() is None and time.time() < deadline, "the first run never locked"
            time.sleep(0.2)
        second = subprocess.run(args, cwd=REPO, env=ENV, capture_output=True, text=True,
                                timeout=300)
        assert second.returncode != 0
        assert "Directory cannot be locked" in second.stdout + second.stderr
        assert first.poll() is None  # the first run goes on
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
