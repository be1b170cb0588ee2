"""training.require_gpu: a GPU-tagged job with no visible GPU stops at once with one line."""

import json
import os
from collections import namedtuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from rgtopo import devices  # noqa: E402
from rgtopo.workflow.steps import main  # noqa: E402
from rgtopo.errors import DeviceError  # noqa: E402

PARAMS = {"seed": 1, "optimizer": "sgd", "batch_size": 8, "width": 4, "learning_rate": 0.01,
          "momentum": 0.9, "nesterov": True, "patience": 1, "lr_factor": 0.1, "lr_floor": 1e-4,
          "max_epochs": 1, "augment": False, "architecture": "conv", "blocks": 1, "shifts": 0,
          "loss": "abs_square", "lr_schedule": "plateau", "feature_scale_lattices": 8,
          "levels": 1, "coarse_share": 0.5, "disorder_factor": 1.0,
          "canonical": False}


def train_base_args(tmp_path, *extra):
    return ["train-base", "--params", json.dumps(PARAMS), "--train", str(tmp_path / "t.h5"),
            "--validation", str(tmp_path / "v.h5"), "--model-out", str(tmp_path / "m.keras"),
            "--history-out", str(tmp_path / "h.csv"), "--state-dir", str(tmp_path / "state"),
            *extra]


def test_no_gpu_fails_at_once_naming_the_missing_libraries(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(devices, "_loadable", lambda lib: not lib.startswith("libcudnn"))
    assert main(train_base_args(tmp_path, "--require-gpu")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rgtopo train-base: error: training.require_gpu")
    assert err[0].endswith("missing CUDA libraries: libcudnn.so.9")
    assert not (tmp_path / "state").exists()


def test_the_real_cpu_build_names_itself_and_its_libraries(monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(devices, "_loadable", lambda lib: False)
    with pytest.raises(DeviceError) as exc:
        devices.require_gpu()
    msg = str(exc.value)
    assert "\n" not in msg and "sees no GPU" in msg
    assert "libcudart.so.12" in msg and "libcudnn.so.9" in msg and "libcuda.so.1" in msg
    if not tf.sysconfig.get_build_info().get("is_cuda_build"):
        assert "CPU-only build" in msg


def test_a_gpu_node_passes_the_check(tmp_path, monkeypatch, capsys):
    gpu = namedtuple("PhysicalDevice", "name device_type")("/physical_device:GPU:0", "GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: [gpu] if kind in (None, "GPU") else [])
    assert devices.require_gpu() == "/physical_device:GPU:0"
    # the job goes on to its own work: here, the missing shard is the error it reports
    assert main(train_base_args(tmp_path, "--require-gpu")) == 2
    err = capsys.readouterr().err
    assert "no such shard file" in err and "require_gpu" not in err
    assert "TensorFlow devices: 1 GPU(s)" in err


def test_import_turns_onednn_off_unless_the_caller_chose(tmp_path):
    """oneDNN's kernels crashed RG training on an AVX512-BF16 CPU; rgtopo's import sets the
    switch before TensorFlow loads, and a caller's own setting wins."""
    import subprocess
    import sys

    code = ("import os, sys, rgtopo; assert 'tensorflow' not in sys.modules; "
            "print(os.environ['TF_ENABLE_ONEDNN_OPTS']); import tensorflow")
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"  # TensorFlow says at import whether oneDNN is on
    for given, expected in ((None, "0"), ("1", "1")):
        run_env = env if given is None else {**env, "TF_ENABLE_ONEDNN_OPTS": given}
        out = subprocess.run([sys.executable, "-c", code], env=run_env, cwd=tmp_path,
                             capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected
        assert ("oneDNN custom operations are on" in out.stderr) == (expected == "1")
