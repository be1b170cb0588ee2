"""The SLURM workflow profile against a real one-node SLURM cluster (started here, stopped after).

tests/slurm/cluster.sh installs slurm-wlm and munge when absent (as root), writes a
configuration with a gres 'gpu' on the node and two partitions, 'cpu' and 'gpu', on it, and
starts slurmctld and slurmd. For each GPU request form (``resources.gpu_request``) the profile
must send sampling and labeling to 'cpu' without a GPU, and training to 'gpu' with one GPU
requested as --gpus=1 (a per-job TRES) or --gres=gpu:1 (a per-node TRES).
"""

import os
import re
import subprocess
import sys

import pytest
import yaml

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


def jobs(env, workdir) -> list[str]:
    """`scontrol show job` records of every job run from workdir (MinJobAge keeps finished ones)."""
    out = subprocess.run(["scontrol", "show", "jobs", "-o"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return [line for line in out.splitlines() if f"WorkDir={workdir} " in f"{line} "]


@pytest.mark.parametrize("form", ["gpus", "gres"])
def test_profile_places_labeling_on_cpu_and_training_on_gpu(slurm_env, tmp_path, form):
    cfg = yaml.safe_load((REPO / "config/test.yaml").read_text())
    cfg["resources"]["gpu_request"] = form
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    targets = ["results/models/base_network.keras", "results/models/rg_decimation_periodic.keras"]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *targets, "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(tmp_path), "--workflow-profile", str(REPO / "profiles/slurm"),
         "--configfile", str(tmp_path / "cfg.yaml"), "--jobs", "4",
         "--slurm-status-command", "squeue", "--slurm-no-account",
         "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5"],
        cwd=REPO, env=slurm_env, capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    for target in targets:
        assert (tmp_path / target).is_file()
    by_rule = {}
    for record in jobs(slurm_env, tmp_path):
        rule = re.search(r"Comment=rule_([a-z_]+?)(?:_wildcards|\s|$)", record)
        assert rule, record
        by_rule.setdefault(rule[1], []).append(record)
    assert TRAINING | {"sample_shard", "label_shard"} <= set(by_rule), sorted(by_rule)
    gpu_tres = {"gpus": "TresPerJob", "gres": "TresPerNode"}[form]
    for rule, recs in by_rule.items():
        for rec in recs:
            assert "JobState=COMPLETED" in rec, rec
            partition = re.search(r"Partition=(\S+)", rec)[1]
            requests = re.findall(r"(TresPer\w+)=gres[:/]gpu:(\d+)", rec)
            if rule in TRAINING:
                assert partition == "gpu" and requests == [(gpu_tres, "1")], (rule, rec)
            else:
                assert partition == "cpu" and requests == [], (rule, rec)
