"""Shards made: sampled reproducibly, labeled with the Bott index, from the command line."""

import subprocess
import sys

import numpy as np
import pytest

import rgtopo
from rgtopo.params import LabelingParams
from conftest import physics_spec
from rgtopo.data.datasets import label_shard, sample_shard
from rgtopo.data.shards import read_shard


def test_same_seed_reproduces_a_shard_bit_for_bit(tmp_path):
    spec = physics_spec(size=8)
    sample_shard(spec, 3, 50, tmp_path / "a.h5")
    sample_shard(spec, 3, 50, tmp_path / "b.h5")
    a, b = read_shard(tmp_path / "a.h5"), read_shard(tmp_path / "b.h5")
    assert a["lattices"].tobytes() == b["lattices"].tobytes()
    assert a["attrs"]["first_index"] == 150 and a["attrs"]["size"] == 8
    assert a["attrs"]["seed"] == 7 and a["attrs"]["distribution"] == "boundary_biased"
    assert a["attrs"]["rgtopo_version"] == rgtopo.__version__


def test_labels_are_the_chern_numbers_of_the_stored_values(tmp_path):
    spec = physics_spec(size=4)
    sample_shard(spec, 0, 300, tmp_path / "s.h5")
    label_shard(tmp_path / "s.h5", tmp_path / "l.h5", threads=1, chunk=100)
    data = read_shard(tmp_path / "l.h5", labeled=True)
    assert data["lattices"].dtype == np.float32
    again = rgtopo.chern_numbers(data["lattices"].astype(np.float64))
    np.testing.assert_array_equal(data["chern"], again.chern)
    np.testing.assert_allclose(data["gap"], again.gap)
    assert data["attrs"]["labeled"] and data["chern"].dtype == np.int8
    assert {-1, 0, 1} <= set(np.unique(data["chern"]).tolist())


def test_localizer_labeled_shard_stores_the_certificate(tmp_path):
    """A 16x16 shard labeled by the localizer: its labels, certificate columns and format."""
    spec = physics_spec(distribution="uniform", size=16, stream="test")
    sample_shard(spec, 0, 6, tmp_path / "s.h5")
    params = LabelingParams()
    label_shard(tmp_path / "s.h5", tmp_path / "l.h5", method="localizer", params=params,
                threads=2)
    data = read_shard(tmp_path / "l.h5", labeled=True)
    again = rgtopo.chern_numbers(data["lattices"].astype(np.float64), method="localizer",
                                 params=params)
    np.testing.assert_array_equal(data["chern"], again.chern)
    np.testing.assert_array_equal(data["certified"], again.certified)
    np.testing.assert_array_equal(data["gapped"], again.gapped)
    assert set(data["label_method"].tolist()) == {b"localizer"}
    assert np.isnan(data["bott_deviation"]).all() and (data["localizer_gap"] >= 0).all()
    assert data["attrs"]["format_version"] == 2
    bott = rgtopo.chern_numbers(data["lattices"].astype(np.float64), method="bott")
    certified = data["certified"]
    np.testing.assert_array_equal(data["chern"][certified], bott.chern[certified])


def test_command_line_samples_labels_and_reports_errors(tmp_path):
    import json

    run = [sys.executable, "-m", "rgtopo.workflow.steps"]
    spec = json.dumps(physics_spec(size=4))
    args = ["sample", "--spec", spec, "--shard", "1", "--shard-size", "20"]
    subprocess.run([*run, *args, "--out", str(tmp_path / "s.h5")], check=True)
    subprocess.run(
        [*run, "label", "--in", str(tmp_path / "s.h5"), "--out", str(tmp_path / "l.h5")],
        check=True,
    )
    assert read_shard(tmp_path / "l.h5", labeled=True)["chern"].shape == (20,)
    bad = subprocess.run(
        [*run, "label", "--in", str(tmp_path / "nope.h5"), "--out", str(tmp_path / "x.h5")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "no such shard file" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run(
        [*run, *args[:2], json.dumps({**physics_spec(), "distribution": "x"}), *args[3:],
         "--out", str(tmp_path / "y.h5")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown distribution" in bad.stderr
    assert not (tmp_path / "y.h5").exists()


def test_a_killed_label_job_resumes_at_its_last_finished_chunk(tmp_path, monkeypatch):
    """The chunks a label job finished are kept beside its output until the shard is written:
    killed in its third chunk, the rerun labels only from there, and writes the same shard."""
    import rgtopo.data.datasets as datasets
    from rgtopo.data.datasets import progress_dir

    raw = tmp_path / "raw.h5"
    sample_shard(physics_spec(size=4), 0, 500, raw)
    label_shard(raw, tmp_path / "whole.h5", chunk=100)
    assert not progress_dir(tmp_path / "whole.h5").exists()  # cleared once the shard is written

    real, calls = datasets.chern_numbers, []

    def killed_in_third_chunk(lattices, **kw):
        calls.append(len(calls))
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a SIGKILL would stop it, after two saved chunks
        return real(lattices, **kw)

    monkeypatch.setattr(datasets, "chern_numbers", killed_in_third_chunk)
    out = tmp_path / "resumed.h5"
    with pytest.raises(KeyboardInterrupt):
        label_shard(raw, out, chunk=100)
    assert not out.exists()
    assert len(list(progress_dir(out).glob("chunk_*.npz"))) == 2
    (progress_dir(out) / "chunk_000000100.npz").write_bytes(b"garbage")  # a damaged chunk
    calls.clear()
    monkeypatch.setattr(datasets, "chern_numbers", lambda lattices, **kw: (calls.append(1),
                                                                            real(lattices, **kw))[1])
    lines = []
    label_shard(raw, out, chunk=100, log=lines.append)
    assert len(calls) == 4  # chunk 0 read back; the damaged chunk 1 and chunks 2-4 labeled
    assert any("resumed" in line for line in lines) and any("unreadable" in line for line in lines)
    whole, resumed = read_shard(tmp_path / "whole.h5", labeled=True), read_shard(out, labeled=True)
    for key in ("lattices", "chern", "gap", "bott_deviation", "certified", "label_method"):
        np.testing.assert_array_equal(resumed[key], whole[key])
    assert not progress_dir(out).exists()


def test_progress_of_another_job_is_not_reused(tmp_path):
    """Chunks kept for another source, method, parameters or chunk size are cleared, not read."""
    from rgtopo.data.datasets import _Progress, progress_dir

    raw = tmp_path / "raw.h5"
    sample_shard(physics_spec(size=4), 0, 200, raw)
    out = tmp_path / "out.h5"
    stale = _Progress(progress_dir(out), {"source": "another shard", "method": "bott",
                                          "chunk": 100, "params": None})
    stale.save(0, rgtopo.chern_numbers(np.zeros((100, 4, 4, 3)) + [5.0, 0.0, 0.1]))
    label_shard(raw, out, chunk=100)
    data = read_shard(out, labeled=True)
    np.testing.assert_array_equal(data["chern"], rgtopo.chern_numbers(data["lattices"]).chern)
