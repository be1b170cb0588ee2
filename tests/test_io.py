"""The one writer of outputs: complete file or previous file, never a partial one."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rgtopo import io  # noqa: E402
from rgtopo.errors import WriteError  # noqa: E402


def test_each_writer_round_trips_and_leaves_no_temporary_file(tmp_path):
    io.write_text(tmp_path / "a.txt", "hello\n")
    io.write_json(tmp_path / "sub/b.json", {"b": 1, "a": [1, 2]}, sort_keys=True)
    io.write_rows(tmp_path / "c.csv", [{"epoch": 0, "loss": 1.5}, {"epoch": 1, "val": 2.0}])
    frame = pd.DataFrame({"x": [1, 2], "y": [0.5, 0.25]})
    io.write_frame(tmp_path / "d.csv", frame)
    with io.atomic_h5(tmp_path / "e.h5") as f:
        f["x"] = np.arange(3)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    io.save_figure(fig, tmp_path / "f.png")
    io.save_figure(fig, tmp_path / "f.pdf")
    plt.close(fig)
    io.copy_file(tmp_path / "a.txt", tmp_path / "g.txt")
    assert (tmp_path / "a.txt").read_text() == "hello\n" == (tmp_path / "g.txt").read_text()
    assert json.loads((tmp_path / "sub/b.json").read_text()) == {"a": [1, 2], "b": 1}
    assert (tmp_path / "sub/b.json").read_text().startswith('{\n  "a"')
    assert (tmp_path / "c.csv").read_text() == "epoch,loss,val\n0,1.5,\n1,,2.0\n"
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "d.csv"), frame)
    import h5py

    with h5py.File(tmp_path / "e.h5", "r", locking=False) as f:
        assert f["x"][...].tolist() == [0, 1, 2]
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"
    assert not [p for p in tmp_path.rglob(".*")]


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("previous")
    with pytest.raises(TypeError):
        io.write_json(path, {"x": object()})
    assert path.read_text() == "previous"
    with pytest.raises(RuntimeError, match="boom"), io.atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_an_unwritable_output_is_one_write_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteError, match="cannot write"):
        io.write_text(tmp_path / "file/inside.txt", "y")
    with pytest.raises(WriteError, match="cannot write"):
        io.write_json(tmp_path / "file/x.json", {})


def test_a_directory_is_replaced_whole(tmp_path):
    out = tmp_path / "bundle"
    with io.atomic_dir(out) as d:
        (d / "a").write_text("1")
        (d / "b").write_text("2")
    with io.atomic_dir(out) as d:
        (d / "c").write_text("3")
    assert sorted(p.name for p in out.iterdir()) == ["c"]
    with pytest.raises(RuntimeError), io.atomic_dir(out) as d:
        (d / "half").write_text("x")
        raise RuntimeError
    assert sorted(p.name for p in out.iterdir()) == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_temporaries_of_a_killed_writer_are_cleared_on_the_next_write(tmp_path):
    """SIGKILL skips every `finally`: the next write of the same file removes what a dead
    process left beside it, and leaves a live writer's temporary and other files alone."""
    import os
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "history.csv"
    stale = [tmp_path / f".history.csv.tmp-{dead.pid}", tmp_path / f".fig.pdf.tmp-{dead.pid}.pdf",
             tmp_path / f".history.csv.tmp-{dead.pid}.csv"]
    live = tmp_path / f".history.csv.tmp-{os.getppid()}"
    for p in [*stale, live]:
        p.write_text("half")
    (tmp_path / f".bundle.old-{dead.pid}").mkdir()
    io.write_text(out, "a,b\n")
    io.save_figure(plt.figure(), tmp_path / "fig.pdf")
    with io.atomic_dir(tmp_path / "bundle") as d:
        (d / "card.json").write_text("{}")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([".history.csv.tmp-" + str(os.getppid()), "bundle", "fig.pdf",
                           "history.csv"])


@pytest.fixture
def full_disk(tmp_path):
    """A 64 kB tmpfs (root only; skipped where mounting is not allowed)."""
    import subprocess

    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)],
                             capture_output=True)
    if mounted.returncode:
        pytest.skip("mounting a tmpfs needs root")
    yield small
    subprocess.run(["umount", "-l", str(small)])


@pytest.mark.parametrize("writer", ["shard", "table", "figure", "model"])
def test_a_full_disk_is_one_write_error_and_leaves_nothing(full_disk, writer, capfd):
    """HDF5 reports a full disk at flush as RuntimeError, then once per object on stderr; every
    writer must turn it into one WriteError and leave no file behind."""
    from conftest import physics_spec
    from rgtopo.data.lattice_io import write_table
    from rgtopo.data.shards import write_shard

    big = np.random.default_rng(0).random((600, 4, 4, 3))
    path = full_disk / {"shard": "s.h5", "table": "t.h5", "figure": "f.pdf", "model": "m.keras"}[writer]
    with pytest.raises(WriteError, match=r"cannot write \(No space left on device\)"):
        if writer == "shard":
            write_shard(path, big, physics_spec(), 0)
        elif writer == "table":
            write_table(path, {"x": big.reshape(-1)})
        elif writer == "figure":
            fig, ax = plt.subplots()
            ax.imshow(np.random.default_rng(1).random((400, 400)))
            io.save_figure(fig, path)
            plt.close(fig)
        else:
            import keras

            io.save_model(keras.Sequential([keras.Input((100,)), keras.layers.Dense(400)]), path)
    assert list(full_disk.iterdir()) == []
    assert "Traceback" not in capfd.readouterr().err
