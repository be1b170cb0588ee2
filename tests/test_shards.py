"""The shard format: atomic writes, clear errors for foreign files, readers without Numba."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import REPO, physics_spec
from rgtopo.data.datasets import sample_shard
from rgtopo.errors import ShardError
from rgtopo.data.shards import by_size, read_shard, write_shard


def test_an_interrupted_write_leaves_no_file(tmp_path):
    class Boom:
        chern = None

    with pytest.raises(AttributeError):
        write_shard(tmp_path / "x.h5", np.zeros((2, 4, 4, 3)), physics_spec(), 0, labels=Boom())
    assert list(tmp_path.iterdir()) == []


def test_foreign_or_unreadable_files_are_rejected(tmp_path):
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ShardError, match="not a readable HDF5"):
        read_shard(tmp_path / "text.h5")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ShardError, match="not an rgtopo shard"):
        read_shard(tmp_path / "foreign.h5")
    with pytest.raises(ShardError, match="no such shard"):
        read_shard(tmp_path / "missing.h5")
    sample_shard(physics_spec(), 0, 5, tmp_path / "unlabeled.h5")
    with pytest.raises(ShardError, match="no Chern labels"):
        read_shard(tmp_path / "unlabeled.h5", labeled=True)


@pytest.mark.parametrize("column", ["lattices", "chern", "gap", "certified", "label_method"])
def test_data_altered_in_place_are_detected_when_read(tmp_path, column):
    """A shard edited inside a valid HDF5 file (a flipped bit, another program) is refused with
    one line naming it, by the whole-shard reader and by the streaming check alike."""
    from rgtopo.physics.chern import chern_numbers
    from rgtopo.data.shards import verify_shard

    sample_shard(physics_spec(), 0, 6, tmp_path / "u.h5")
    lat = read_shard(tmp_path / "u.h5")["lattices"]
    write_shard(tmp_path / "s.h5", lat, physics_spec(), 0, labels=chern_numbers(lat))
    read_shard(tmp_path / "s.h5", labeled=True)
    verify_shard(tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5", "r+") as f:
        value = f[column][...]
        flat = value.reshape(-1)
        if value.dtype.kind == "b":
            flat[1] = not flat[1]
        elif value.dtype.kind == "S":
            flat[1] = b"altered"
        else:
            flat[1] += 1
        f[column][...] = value
    for read in (lambda p: read_shard(p, labeled=True), verify_shard):
        with pytest.raises(ShardError, match=r"s.h5: its data no longer match the checksum"):
            read(tmp_path / "s.h5")


def test_write_then_read_gives_back_the_arrays_and_a_content_checksum(tmp_path):
    lat = np.arange(2 * 4 * 4 * 3, dtype=np.float64).reshape(2, 4, 4, 3) / 7
    spec = physics_spec()
    write_shard(tmp_path / "a.h5", lat, spec, 10)
    write_shard(tmp_path / "b.h5", lat, spec, 10)
    a = read_shard(tmp_path / "a.h5")
    np.testing.assert_array_equal(a["lattices"], lat.astype(np.float32))
    assert a["attrs"]["first_index"] == 10 and a["attrs"]["count"] == 2
    assert not a["attrs"]["labeled"] and a["attrs"]["format"] == "rgtopo-shard"
    assert a["attrs"]["checksum"] == read_shard(tmp_path / "b.h5")["attrs"]["checksum"]
    from rgtopo.data.shards import shard_digest

    assert shard_digest(tmp_path / "a.h5") == a["attrs"]["checksum"]
    write_shard(tmp_path / "c.h5", lat + 1, spec, 10)
    assert shard_digest(tmp_path / "c.h5") != a["attrs"]["checksum"]


def test_reading_a_shard_does_not_import_numba(tmp_path):
    sample_shard(physics_spec(), 0, 3, tmp_path / "s.h5")
    code = ("import sys; from rgtopo.data.shards import read_shard, shard_digest; "
            f"d = read_shard({str(tmp_path / 's.h5')!r}); shard_digest({str(tmp_path / 's.h5')!r}); "
            "print(d['lattices'].shape, 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO, env={**__import__("os").environ,
                                                    "PYTHONPATH": str(REPO / "src")})
    assert out.stdout.strip() == "(3, 4, 4, 3) False"


def test_by_size_groups_shard_files_by_their_lattice_size_in_order(tmp_path):
    paths = {}
    for name, size in (("a8", 8), ("b4", 4), ("c8", 8)):
        paths[name] = tmp_path / f"{name}.h5"
        sample_shard(physics_spec(size=size, stream=name), 0, 2, paths[name])
    groups = by_size([paths["a8"], paths["b4"], paths["c8"]])
    assert groups == {8: [paths["a8"], paths["c8"]], 4: [paths["b4"]]}
    assert by_size([]) == {}
    with pytest.raises(ShardError, match="no such shard file"):
        by_size([tmp_path / "missing.h5"])
