"""Fuzzed lattice files through the user's command line: whatever the bytes, `rgtopo chern`
either labels the file or ends with exit status 2, one line on standard error and no output
file; it never shows a traceback and never unpickles anything.

Cases (Hypothesis, derandomized so every run tries the same ones): random bytes under each
suffix, arrays of random shapes and dtypes (NaN and inf included), object arrays and pickles
that would leave a marker file if unpickled, HDF5 files of random datasets, and .npy headers
declaring shapes far larger than the file. ``CASES`` counts what one run tries.
"""

import io
import pickle
import struct
from contextlib import redirect_stderr
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rgtopo import cli

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
CASES = {"bytes": 0, "arrays": 0, "pickles": 0, "hdf5": 0, "headers": 0}


class Marker:
    """Unpickling this touches a file: the proof that something was unpickled."""

    path: Path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def run_chern(path: Path) -> tuple[int, str, Path]:
    out = path.with_name(path.stem + "_out.csv")
    err = io.StringIO()
    with redirect_stderr(err):
        code = cli.main(["chern", str(path), "--out", str(out), "--method", "bott"])
    return code, err.getvalue(), out


def check(path: Path, marker: Path | None = None) -> int:
    code, err, out = run_chern(path)
    assert "Traceback" not in err
    if code == 0:
        assert out.is_file()
    else:
        assert code == 2, err
        lines = [line for line in err.splitlines() if "error" in line]
        assert len(lines) == 1 and lines[0].startswith("rgtopo chern: error: "), err
        assert not out.exists()
    if marker is not None:
        assert not marker.exists(), "a pickle was loaded"
    return code


shapes = st.lists(st.integers(0, 6), min_size=0, max_size=5).map(tuple)
dtypes = st.sampled_from(["float64", "float32", "float16", "int8", "int64", "bool", "complex64",
                          "uint8", "<U3", "datetime64[s]"])
specials = st.sampled_from([0.0, 1.0, -3.5, np.nan, np.inf, -np.inf, 1e308])


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".npy", ".npz", ".h5", ".hdf5"]),
       prefix=st.sampled_from([b"", b"\x93NUMPY", b"PK\x03\x04", b"\x89HDF\r\n\x1a\n"]))
def test_random_bytes(tmp_path_factory, data, suffix, prefix):
    CASES["bytes"] += 1
    path = tmp_path_factory.mktemp("bytes") / f"x{suffix}"
    path.write_bytes(prefix + data)
    check(path)


@SETTINGS
@given(shape=shapes, dtype=dtypes, fill=specials, suffix=st.sampled_from([".npy", ".npz"]))
def test_arrays_of_any_shape_dtype_and_value(tmp_path_factory, shape, dtype, fill, suffix):
    CASES["arrays"] += 1
    path = tmp_path_factory.mktemp("arrays") / f"x{suffix}"
    with np.errstate(invalid="ignore", over="ignore"):
        arr = np.full(shape, fill).astype(dtype) if dtype[0] != "<" else np.full(shape, "a")
    np.save(path, arr) if suffix == ".npy" else np.savez(path, lattices=arr)
    code = check(path)
    good = (len(shape) in (3, 4) and shape[-1] == 3 and shape[-3] == shape[-2] >= 2
            and np.issubdtype(arr.dtype, np.floating | np.integer) and np.isfinite(fill)
            and arr.size > 0 and np.all(np.isfinite(arr.astype(float))))
    if not good:
        assert code == 2


@SETTINGS
@given(inner=st.sampled_from(["object_array", "plain_pickle", "npz_member"]))
def test_pickles_are_never_loaded(tmp_path_factory, inner):
    CASES["pickles"] += 1
    d = tmp_path_factory.mktemp("pickles")
    marker = d / "unpickled"
    payload = Marker()
    payload.path = marker
    if inner == "object_array":
        np.save(d / "x.npy", np.array([payload, 1], dtype=object), allow_pickle=True)
        path = d / "x.npy"
    elif inner == "plain_pickle":
        path = d / "x.npy"
        path.write_bytes(pickle.dumps(payload))
    else:
        np.savez(d / "x.npz", lattices=np.array([payload], dtype=object))
        path = d / "x.npz"
    assert check(path, marker) == 2


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from(["float64", "int32", "bool"]),
       name=st.sampled_from(["lattices", "x", "group/lattices"]), extra=st.booleans())
def test_hdf5_files_of_any_dataset(tmp_path_factory, shape, dtype, name, extra):
    CASES["hdf5"] += 1
    path = tmp_path_factory.mktemp("hdf5") / "x.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset(name, data=np.zeros(shape, dtype=dtype))
        if extra:
            f.create_dataset("other", data=np.zeros(3))
    check(path)


@SETTINGS
@given(batch=st.integers(10**6, 10**15), n=st.sampled_from([4, 8, 4096, 10**6]))
def test_npy_headers_declaring_more_than_the_file_holds(tmp_path_factory, batch, n):
    """A header may declare petabytes; the reader must not believe it (nor allocate it)."""
    CASES["headers"] += 1
    header = repr({"descr": "<f8", "fortran_order": False, "shape": (batch, n, n, 3)}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    path = tmp_path_factory.mktemp("headers") / "x.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
                     + np.zeros(48).tobytes())
    assert check(path) == 2


def test_every_kind_was_tried():
    """Runs last in this file: the counts above are the cases one run tries."""
    tried = dict(CASES)
    if not all(tried.values()):
        pytest.skip("run with the whole file to count the cases")
    print(f"fuzzed lattice files tried: {tried}, {sum(tried.values())} in all")
    assert tried["bytes"] >= 150 and tried["arrays"] >= 150 and tried["headers"] >= 50
