"""The SLURM profile against a real one-node SLURM cluster (started here, stopped after).

tests/slurm/cluster.sh installs slurm-wlm and munge when absent (as root), writes a
configuration with a gres 'gpu' on the node and starts slurmctld and slurmd.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slurm
CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
TRAINING = {"train_base", "init_decimation"}


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    d = tmp_path_factory.mktemp("slurm")
    start = subprocess.run(["bash", str(CLUSTER), "start", str(d)], capture_output=True, text=True)
    if start.returncode:
        subprocess.run(["bash", str(CLUSTER), "stop", str(d)], check=False)
        pytest.fail(f"could not start SLURM:\n{start.stderr[-3000:]}", pytrace=False)
    env = {**os.environ, "SLURM_CONF": str(d / "slurm.conf"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    yield env
    subprocess.run(["bash", str(CLUSTER), "stop", str(d)], check=False)


def jobs(env) -> dict:
    """{job id: record} of every job slurmctld still knows (MinJobAge keeps finished ones)."""
    out = subprocess.run(["scontrol", "show", "jobs", "-o"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return {m[1]: line for line in out.splitlines() if (m := re.search(r"JobId=(\d+)", line))}


def test_profile_submits_training_with_a_gpu_and_the_rest_without(slurm_env, tmp_path):
    targets = ["results/models/base_network.keras", "results/models/rg_decimation_periodic.keras"]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *targets, "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(tmp_path), "--profile", str(REPO / "workflow/profiles/slurm"),
         "--configfile", str(REPO / "config/test.yaml"), "--jobs", "4",
         "--slurm-status-command", "squeue", "--slurm-no-account",
         "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5",
         "--default-resources", "slurm_partition=debug", "mem_mb=900", "runtime=30"],
        cwd=REPO, env=slurm_env, capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    for target in targets:
        assert (tmp_path / target).is_file()
    records = jobs(slurm_env)
    by_rule = {}
    for record in records.values():
        rule = re.search(r"Comment=rule_([a-z_]+?)(?:_wildcards|\s|$)", record)
        assert rule, record
        by_rule.setdefault(rule[1], []).append(record)
    assert TRAINING <= set(by_rule), sorted(by_rule)
    assert {"sample_shard", "label_shard"} <= set(by_rule)
    for rule, recs in by_rule.items():
        for rec in recs:
            assert "JobState=COMPLETED" in rec, rec
            has_gpu = "gres:gpu" in rec or "gres/gpu" in rec
            assert has_gpu == (rule in TRAINING), (rule, rec)
