"""Packaging: each TensorFlow extra resolves to exactly one TensorFlow distribution.

Resolved by ``pip install --dry-run --report`` against the package index (metadata only).
"""

import json
import platform
import subprocess
import sys

import pytest

from conftest import REPO

CPU_WHEEL = "tensorflow-cpu" if platform.machine() == "x86_64" else "tensorflow"


@pytest.mark.parametrize("extras, wheel", [("gpu", "tensorflow"), ("cpu", CPU_WHEEL),
                                           ("cpu,workflow", CPU_WHEEL)])
def test_extra_resolves_to_one_tensorflow(tmp_path, extras, wheel):
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), f"{REPO}[{extras}]"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = {i["metadata"]["name"].lower().replace("_", "-")
             for i in json.loads(report.read_text())["install"]}
    assert sorted(n for n in names if n.startswith("tensorflow") and "io" not in n) == [wheel]
    if extras == "gpu":
        assert {"nvidia-cudnn-cu12", "nvidia-cuda-runtime-cu12"} <= names
    if "workflow" in extras:
        assert {"snakemake", "snakemake-executor-plugin-slurm"} <= names
