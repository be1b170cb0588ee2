"""A user's lattice files: every input format read back exactly, in any batch size; tables
written as CSV, HDF5 or to standard output; every bad input one InputError naming it."""

import io

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import write_lattice_files
from rgtopo.errors import InputError
from rgtopo.data.lattice_io import LatticeFile, write_table


@pytest.fixture(scope="module")
def lat():
    return np.random.default_rng(5).uniform(-4, 4, (12, 8, 8, 3))


@pytest.fixture(scope="module")
def files(tmp_path_factory, lat):
    """{name: (path, key, expected float64 array)} for every layout the reader accepts."""
    d = tmp_path_factory.mktemp("lattice_files")
    write_lattice_files(d, lat)
    f32 = lat.astype(np.float32).astype(np.float64)
    return {
        "npy": (d / "batch.npy", None, lat),
        "npy, one lattice": (d / "one.npy", None, lat[3:4]),
        "npy, integers": (d / "ints.npy", None, np.rint(lat)),
        "npy, Fortran order": (d / "fortran.npy", None, lat),
        "npz, default key among several": (d / "several.npz", None, lat),
        "npz, its only array (compressed float32)": (d / "named.npz", None, f32),
        "npz, named key": (d / "named.npz", "mine", f32),
        "npz, Fortran order": (d / "fortran.npz", None, lat),
        "hdf5, nested dataset": (d / "nested.hdf5", "group/lat", lat),
        "h5, default key": (d / "shard.h5", None, lat),
    }


CASES = ["npy", "npy, one lattice", "npy, integers", "npy, Fortran order", "npz, default key among several",
         "npz, its only array (compressed float32)", "npz, named key", "npz, Fortran order",
         "hdf5, nested dataset", "h5, default key"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batch", [1, 5, 100])
def test_every_format_reads_back_exactly_in_any_batch_size(files, case, batch):
    path, key, expected = files[case]
    with LatticeFile(path, key) as src:
        assert src.shape == expected.shape and len(src) == len(expected) and src.size == 8
        parts = list(src.batches(batch))
    starts = list(range(0, len(expected), batch))
    assert [start for start, _ in parts] == starts
    assert [len(part) for _, part in parts] == [min(batch, len(expected) - s) for s in starts]
    assert all(part.dtype == np.float64 and part.shape[1:] == (8, 8, 3) for _, part in parts)
    np.testing.assert_array_equal(np.concatenate([part for _, part in parts]), expected)


def test_the_key_read_is_recorded(files):
    with LatticeFile(*files["npz, default key among several"][:2]) as src:
        assert src.key == "lattices"
    with LatticeFile(*files["hdf5, nested dataset"][:2]) as src:
        assert src.key == "group/lat"
    with LatticeFile(*files["npy"][:2]) as src:
        assert src.key is None


def test_large_npz_members_stream_piecewise(tmp_path):
    """5000 4x4 lattices read 1024 at a time from a compressed member equal the whole array."""
    lat = np.random.default_rng(2).normal(size=(5000, 4, 4, 3))
    np.savez_compressed(tmp_path / "big.npz", lattices=lat)
    with LatticeFile(tmp_path / "big.npz") as src:
        parts = list(src.batches(1024))
    assert [s for s, _ in parts] == [0, 1024, 2048, 3072, 4096]
    np.testing.assert_array_equal(np.concatenate([p for _, p in parts]), lat)


def _bad_files(d):
    """{case: (path, key, expected message)} for one file per kind of bad input."""
    np.save(d / "rank2.npy", np.zeros((4, 4)))
    np.save(d / "rank5.npy", np.zeros((1, 1, 4, 4, 3)))
    np.save(d / "nonsquare.npy", np.zeros((2, 4, 8, 3)))
    np.save(d / "channels.npy", np.zeros((2, 4, 4, 2)))
    np.save(d / "complex.npy", np.zeros((2, 4, 4, 3), complex))
    np.save(d / "tiny.npy", np.zeros((2, 1, 1, 3)))
    np.save(d / "good.npy", np.zeros((2, 4, 4, 3)))
    np.savez(d / "two.npz", a=np.zeros((2, 4, 4, 3)), b=np.zeros(3))
    np.savez(d / "objects.npz", lattices=np.array([None, 1], dtype=object))
    with h5py.File(d / "empty.h5", "w") as f:
        f.create_group("nothing")
    (d / "junk.npy").write_text("not numpy")
    (d / "junk.h5").write_text("not hdf5")
    (d / "junk.npz").write_text("not a zip")
    (d / "lattices.txt").write_text("1 2 3")
    return {
        "missing": (d / "nowhere.npy", None, "no such file"),
        "unreadable npy": (d / "junk.npy", None, r"not a .npy file \(no NumPy header\)"),
        "directory": (d, None, "is a directory, not a lattice file"),
        "unreadable h5": (d / "junk.h5", None, "not a readable .h5 file"),
        "unreadable npz": (d / "junk.npz", None, "not a readable .npz file"),
        "unknown format": (d / "lattices.txt", None, "unknown format '.txt'"),
        "rank 2": (d / "rank2.npy", None, r"got shape \(4, 4\)"),
        "rank 5": (d / "rank5.npy", None, r"got shape \(1, 1, 4, 4, 3\)"),
        "non-square": (d / "nonsquare.npy", None, "must be square N x N, got 4 x 8"),
        "channels": (d / "channels.npy", None, "3 channels .* got 2"),
        "complex": (d / "complex.npy", None, "expected real numbers, got dtype complex128"),
        "too small": (d / "tiny.npy", None, "N must be >= 2, got N = 1"),
        "unknown key": (d / "two.npz", "c", "no array 'c'; available: a, b"),
        "ambiguous key": (d / "two.npz", None, "pick one with --key: a, b"),
        "key for npy": (d / "good.npy", "x", "--key applies to .npz"),
        "objects": (d / "objects.npz", None, "holds Python objects, not numbers"),
        "no arrays": (d / "empty.h5", None, "holds no arrays"),
    }


BAD = ["missing", "unreadable npy", "directory", "unreadable h5", "unreadable npz", "unknown format",
       "rank 2", "rank 5", "non-square", "channels", "complex", "too small", "unknown key",
       "ambiguous key", "key for npy", "objects", "no arrays"]


@pytest.mark.parametrize("case", BAD)
def test_a_bad_file_is_one_input_error_naming_it(tmp_path, case):
    path, key, message = _bad_files(tmp_path)[case]
    with pytest.raises(InputError, match=message) as exc:
        LatticeFile(path, key)
    assert str(exc.value).startswith(str(path)) and "\n" not in str(exc.value)


@pytest.mark.parametrize("suffix, save", [
    (".npy", lambda p, a: np.save(p, a)),
    (".npz", lambda p, a: np.savez(p, lattices=a)),
])
def test_nan_or_inf_is_reported_with_its_lattice_index_when_its_batch_is_read(tmp_path, suffix,
                                                                              save):
    bad = np.zeros((3000, 4, 4, 3))
    bad[2500, 1, 2, 0] = np.nan
    bad[2900, 0, 0, 2] = np.inf
    path = tmp_path / f"bad{suffix}"
    save(path, bad)
    with LatticeFile(path) as src:
        read = []
        with pytest.raises(InputError, match="lattice 2500 contains NaN or inf"):
            for start, _ in src.batches(1000):
                read.append(start)
    assert read == [0, 1000]  # the batches before the bad one were handed out


COLUMNS = {"index": np.arange(3), "chern": np.array([-1, 0, 2]), "gap": np.array([0.5, 1e-3, 2.0])}


def test_csv_table_round_trips(tmp_path):
    write_table(tmp_path / "t.csv", COLUMNS)
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table.columns) == ["index", "chern", "gap"]
    for name, values in COLUMNS.items():
        np.testing.assert_array_equal(table[name], values)
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


@pytest.mark.parametrize("suffix", [".h5", ".hdf5"])
def test_hdf5_table_round_trips_with_its_provenance(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    write_table(path, COLUMNS, {"input": "x.npy", "command": "chern", "model": None})
    with h5py.File(path, "r") as f:
        assert sorted(f) == ["chern", "gap", "index"]
        for name, values in COLUMNS.items():
            np.testing.assert_array_equal(f[name][...], values)
            assert f[name].shape == (3,)
        assert dict(f.attrs) == {"input": "x.npy", "command": "chern"}  # None is left out


@pytest.mark.parametrize("path", [None, "-"])
def test_no_path_or_dash_writes_csv_to_standard_output(path, capsys):
    write_table(path, COLUMNS)
    out = capsys.readouterr().out
    assert out == "index,chern,gap\n0,-1,0.5\n1,0,0.001\n2,2,2.0\n"
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(out)), pd.DataFrame(COLUMNS))


def test_bad_output_paths_are_input_errors_and_write_nothing(tmp_path):
    with pytest.raises(InputError, match=r"unknown output format '\.txt'"):
        write_table(tmp_path / "o.txt", COLUMNS)
    with pytest.raises(InputError, match="does not exist"):
        write_table(tmp_path / "no" / "o.csv", COLUMNS)
    assert list(tmp_path.iterdir()) == []


def test_an_output_is_checked_before_any_work(tmp_path):
    """check_output: the same checks as write_table, and never the input file itself."""
    from rgtopo.data.lattice_io import check_output

    np.save(tmp_path / "x.npy", np.zeros((1, 4, 4, 3)))
    (tmp_path / "x.h5").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    assert check_output(None) is None and check_output("-") is None
    assert check_output(tmp_path / "y.h5", tmp_path / "x.h5") == tmp_path / "y.h5"
    with pytest.raises(InputError, match="is the input file"):
        check_output(tmp_path / "sub" / ".." / "x.h5", tmp_path / "x.h5")
    with pytest.raises(InputError, match="unknown output format"):
        check_output(tmp_path / "x.npy", tmp_path / "x.npy")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        check_output(tmp_path / "d.csv")
