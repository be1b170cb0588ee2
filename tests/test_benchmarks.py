"""Benchmark scripts that docs/findings.md cites as reproducing commands run on tiny inputs."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO / "src")}


def run_benchmark(script, *args, timeout=600):
    """Run benchmarks/SCRIPT with ARGS in a fresh process; return its standard output."""
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args],
                            capture_output=True, text=True, env=ENV, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_exact_decimation_tiny(tmp_path):
    out = run_benchmark("exact_decimation.py", "--sizes", "8=6", "--factors", "0", "0.5",
                        "--threads", "1", "--cache", str(tmp_path), "--csv",
                        str(tmp_path / "table.csv"))
    rows = [line for line in out.splitlines() if line.startswith("| 8 |")]
    assert len(rows) == 2
    assert (tmp_path / "table.csv").is_file()


def test_label_noise_tiny(tmp_path):
    out = run_benchmark("label_noise.py", "--sizes", "4=8", "--eps", "0.05", "--threads", "1",
                        "--cache", str(tmp_path))
    assert "4x4, 8 lattices" in out
    assert "eps 0.05: labels changed" in out
    assert "bundle on stable" in out and "bundle on unstable" in out


def test_localizer_agreement_tiny_resumes_from_its_cache(tmp_path):
    args = ["localizer_agreement.py", "--sizes", "16=3", "--min-gap", "0", "--threads", "1",
            "--conventions", "fixed", "--cache", str(tmp_path), "--rules", "48:0.32", "16:0.32"]
    out = run_benchmark(*args)
    rows = [line for line in out.splitlines() if line.startswith("| fixed | 16 |")]
    assert len(rows) == 2 and all("| 3 |" in row for row in rows)
    cached = list(tmp_path.glob("agreement_fixed_seed31_16x16_gap0.0.npz"))
    assert len(cached) == 1
    assert run_benchmark(*args, "--available").count("| fixed | 16 |") == 2


def test_bench_localizer_tiny():
    out = run_benchmark("bench_localizer.py", "--sizes", "8", "--dense-max", "8")
    row = [line for line in out.splitlines() if line.startswith("| 8 |")]
    assert len(row) == 1 and row[0].endswith("| yes |")


def test_bench_hamiltonian_tiny():
    out = run_benchmark("bench_hamiltonian.py", "--agreement", "--sizes", "6", "--samples", "1")
    rows = [line for line in out.splitlines() if line.startswith(("| QWZ | 6 |", "| Haldane | 6 |",
                                                                   "| p+ip | 6 |"))]
    assert len(rows) == 6
    for row in rows:
        cells = [c.strip() for c in row.split("|")]
        gapped = cells[5]
        assert cells[6] == cells[7] == cells[8] == f"{gapped} of {gapped}"
    out = run_benchmark("bench_hamiltonian.py", "--speed", "--sizes", "8", "--dense-max", "8")
    row = [line for line in out.splitlines() if line.startswith("| 8 | 128 |")]
    assert len(row) == 1 and row[0].endswith("| [-1] |")


def test_anderson_insulator_tiny_resumes_and_matches_scba(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from anderson_insulator import scba_critical_width, scba_integral, scba_mass

    # the self-consistent mass reaches the clean boundary exactly at W_c, and lies above it before
    wc = scba_critical_width(2.1)
    assert scba_mass(2.1, wc) == pytest.approx(2.0, abs=1e-6)
    assert scba_mass(2.1, 0.5 * wc) > 2.0 > scba_mass(2.1, 1.5 * wc)
    assert scba_integral(2.0) > 0
    args = ["anderson_insulator.py", "--sizes", "8=2", "--widths", "0", "3", "--threads", "1",
            "--out", str(tmp_path)]
    out = run_benchmark(*args)
    assert "| 8 | 0 |" in out and "| 8 | 3 |" in out
    assert (tmp_path / "fig_anderson.png").stat().st_size > 0
    labels = (tmp_path / "labels.csv").read_text().splitlines()
    assert len(labels) == 5
    run_benchmark(*args)  # resumes: nothing new to label
    assert (tmp_path / "labels.csv").read_text().splitlines() == labels
    # the clean trivial torus (W = 0): C = 0
    assert labels[1].split(",")[3] == "0"


@pytest.fixture(scope="module")
def statistics_file(labeled_shards, tmp_path_factory):
    """A statistics baseline fitted on the tiny shared sets (4x4 and 8x8)."""
    from rgtopo.params import StatisticsBaselineParams
    from rgtopo.training.statistics_baseline import fit

    params = StatisticsBaselineParams(
        train_sizes=(4, 8), max_train_lattices=None, quantiles=(0.5,), max_leaf_nodes=(7,),
        max_iter=10, learning_rate=0.1, importance_repeats=1, pool_above=True, seed=1)
    baseline, _, _ = fit(params, {4: [labeled_shards["train_4"]], 8: [labeled_shards["train_8"]]},
                         {4: [labeled_shards["validation_4"]], 8: [labeled_shards["validation_8"]]},
                         log=lambda _: None)
    path = tmp_path_factory.mktemp("statistics") / "statistics_baseline.pkl"
    baseline.save(path)
    return path


def test_fresh_check_tiny_with_and_without_the_statistics_baseline(statistics_file, tmp_path):
    import pandas as pd

    args = ["fresh_check.py", "--sizes", "4=40", "8=12", "--threads", "1", "--cache",
            str(tmp_path)]
    out = run_benchmark(*args, "--statistics", str(statistics_file), "--csv",
                        str(tmp_path / "t.csv"))
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table["size"]) == [4, 8] and list(table["lattices"]) == [40, 12]
    assert table["statistics_percent"].between(0, 100).all()
    assert (table["gained_over_statistics"] + table["lost_to_statistics"] <= table["lattices"]).all()
    assert out.count("\n| ") == 2
    out = run_benchmark(*args, "--statistics", str(tmp_path / "none.pkl"))
    assert out.count("| nan [nan, nan] |") == 2  # no statistics baseline: its columns are n/a


def test_statistics_baseline_benchmark_tiny(statistics_file, tmp_path):
    import pandas as pd

    out = run_benchmark("statistics_baseline.py", "--sizes", "4=60", "8=12", "--threads", "1",
                        "--bins", "3", "--cache", str(tmp_path), "--statistics",
                        str(statistics_file), "--csv", str(tmp_path / "s.csv"), "--figure",
                        str(tmp_path / "s.png"))
    summary = pd.read_csv(tmp_path / "s.csv")
    bins = pd.read_csv(tmp_path / "s_by_disorder.csv")
    assert list(summary["size"]) == [4, 8]
    assert (summary["decided_gained"] <= summary["gained"]).all()
    assert set(bins["answer"]) == {"network", "statistics baseline", "clean formula",
                                   "majority class"}
    # every lattice falls in exactly one bin, for every answer
    assert (bins.groupby(["size", "answer"])["lattices"].sum().unstack().nunique(axis=1) == 1).all()
    assert bins.groupby("size")["lattices"].sum().tolist() == [4 * 60, 4 * 12]
    assert (tmp_path / "s.png").stat().st_size > 0 and "disorder scale uniform in [0, 2]" in out


def test_statistics_baseline_pooling_choice_tiny(statistics_file, labeled_shards):
    out = run_benchmark("statistics_baseline.py", "--statistics", str(statistics_file),
                        "--compare-pooling", str(labeled_shards["test_16"]))
    lines = out.splitlines()
    assert lines[0].startswith("16 lattices 16x16: clean formula")
    assert [line.split(":")[0] for line in lines[1:]] == ["pool_above false", "pool_above true"]


@pytest.mark.workflow
def test_fault_campaign_small(tmp_path):
    """The CI version of benchmarks/faults.py: the test config killed twice (process group,
    SIGKILL) and resumed ends with every file under results/ equal to an uninterrupted run's;
    and, where a tmpfs can be mounted (root), run with results/ on one that holds a third of
    them: each job that cannot write says so in one line, nothing unfinished is left, and with
    room again the run resumes to the same files."""
    import json

    out = run_benchmark("faults.py", "--kills", "2", "--seed", "3", "--work", str(tmp_path),
                        "--full-disk", "0.3", "--json", str(tmp_path / "record.json"),
                        timeout=2400)
    record = json.loads((tmp_path / "record.json").read_text())
    assert len(record["kills"]) == 2 and record["resumes"] == 3
    assert record["missing"] == [] and record["differ"] == {}, out
    assert record["files_compared"] > 100 and "differing: 0" in out
    (disk,) = record["full_disk"]
    if "skipped" in disk:
        assert "cannot mount a tmpfs" in disk["skipped"]
        return
    assert disk["exit_when_full"] != 0 and disk["failed_jobs"], out
    for log, job in disk["failed_jobs"].items():
        assert "No space left on device" in job["last_line"] and not job["traceback"], log
    assert disk["temporaries_left"] == [] and disk["unfinished_files_when_full"] == {}, out
    assert disk["exit_after_room"] == 0 and disk["missing"] == [] and disk["differ"] == {}, out
