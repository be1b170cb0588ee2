"""Benchmark scripts that docs/findings.md cites as reproducing commands run on tiny inputs."""

import os
import subprocess
import sys

from conftest import REPO

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO / "src")}


def run_benchmark(script, *args):
    """Run benchmarks/SCRIPT with ARGS in a fresh process; return its standard output."""
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args],
                            capture_output=True, text=True, env=ENV, timeout=600)
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
