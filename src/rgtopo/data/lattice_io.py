"""A user's lattice files in, one table row per lattice out.

Inputs are ``.npy``, ``.npz`` or ``.h5``/``.hdf5`` holding one lattice
(N, N, 3) or a batch (B, N, N, 3). They are checked from their header (rank,
square, channels) before any value is read, and then read batch by batch (HDF5
slices, ``.npy`` memory-mapped, ``.npz`` members streamed from the zip), so a
file larger than memory can be labeled. Outputs are ``.csv`` (or standard
output) and ``.h5``, written atomically (``rgtopo.io``).
"""

from __future__ import annotations

import csv
import io
import math
import sys
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import atomic_h5, atomic_path
from ..physics.lattice import CHANNELS, as_lattice_batch

SUFFIXES = (".npy", ".npz", ".h5", ".hdf5")
DEFAULT_KEY = "lattices"


class LatticeFile:
    """Lattices of one input file, validated from the header and read in batches.

    shape: (B, N, N, 3) of the whole input (a single lattice counts as B = 1).
    """

    def __init__(self, path, key: str | None = None):
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a directory, not a lattice file")
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        suffix = self.path.suffix.lower()
        if suffix not in SUFFIXES:
            raise InputError(f"{self.path}: unknown format {suffix!r}; use {', '.join(SUFFIXES)}")
        self._close = lambda: None
        try:
            if suffix == ".npy":
                if key is not None:
                    raise InputError(f"{self.path}: --key applies to .npz and HDF5 files only")
                self.key = None
                self._open_npy()
            elif suffix == ".npz":
                self._open_npz(key)
            else:
                self._open_h5(key)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, OverflowError,
                MemoryError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{self.path}: not a readable {suffix} file ({exc})") from None
        self._check_header()

    # ------------------------------------------------------------------ opening
    def _open_npy(self):
        with open(self.path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise InputError(f"{self.path}: not a .npy file (no NumPy header)")
            f.seek(0)
            shape, dtype, fortran = _npy_header(f)
            offset = f.tell()
            self._check_declared(shape, dtype, self.path.stat().st_size - offset)
        self._shape, self._dtype = shape, dtype
        if fortran:  # rare; a transposed layout is read through a memory map
            arr = np.load(self.path, mmap_mode="r", allow_pickle=False)
            self._slice = lambda a, b: np.asarray(arr[a:b])
            self._all = lambda: np.asarray(arr)
            return
        # Plain reads, not a memory map: a mapped file's pages count in the process's resident
        # memory as they are touched, so a file larger than RAM would look like one in memory.
        stream = open(self.path, "rb")
        self._close = stream.close
        row = dtype.itemsize * math.prod(shape[1:])

        def read(start, count, item_shape):
            stream.seek(offset + start * row)
            want = count * math.prod(item_shape)
            data = np.fromfile(stream, dtype=dtype, count=want)
            if data.size != want:
                raise InputError(f"{self.path}: truncated at lattice {start}")
            return data.reshape((count, *item_shape))

        self._slice = lambda a, b: read(a, b - a, shape[1:])
        self._all = lambda: read(0, 1, shape)[0]

    def _open_npz(self, key):
        zf = zipfile.ZipFile(self.path)
        self._close = zf.close
        names = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
        self.key = _pick_key(self.path, key, names)
        member = zf.open(f"{self.key}.npy")
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        if dtype.hasobject:
            raise InputError(f"{self.path}: array {self.key!r} holds Python objects, not numbers")
        self._check_declared(shape, dtype, zf.getinfo(f"{self.key}.npy").file_size
                             - member.tell())
        self._shape, self._dtype = shape, dtype
        if fortran:  # rare; read it whole rather than stream a transposed layout
            whole = np.load(self.path, allow_pickle=False)[self.key]
            self._slice = lambda a, b: np.asarray(whole[a:b])
            self._all = lambda: whole
            return

        def read(count, item_shape):
            want = dtype.itemsize * count * math.prod(item_shape)
            data = member.read(want)
            if len(data) != want:
                raise InputError(f"{self.path}: array {self.key!r} is truncated")
            return np.frombuffer(data, dtype=dtype).reshape((count, *item_shape))

        self._slice = lambda a, b: read(b - a, shape[1:])
        self._all = lambda: read(1, shape)[0]

    def _open_h5(self, key):
        import h5py  # lazy: HDF5 only for HDF5 files

        f = h5py.File(self.path, "r", locking=False)
        self._close = f.close
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset)
                     else None)
        self.key = _pick_key(self.path, key, names)
        ds = f[self.key]
        self._shape, self._dtype = ds.shape, ds.dtype
        self._slice = lambda a, b: ds[a:b]
        self._all = lambda: ds[...]

    # ---------------------------------------------------------------- checking
    def _check_declared(self, shape, dtype, available: int) -> None:
        """A header must not promise more data than the file holds: such a file is refused
        before anything is mapped or allocated (a forged header may declare petabytes)."""
        if dtype.hasobject:
            raise InputError(f"{self._where()}: holds Python objects, not numbers")
        declared = dtype.itemsize * math.prod(shape)
        if declared > available:
            raise InputError(f"{self._where()}: the header declares shape {tuple(shape)} "
                             f"({declared:,} bytes), the file holds {max(available, 0):,}")

    def _check_header(self):
        shape, where = tuple(self._shape), self._where()
        if self._dtype.kind not in "fiu":
            self.close()
            raise InputError(f"{where}: expected real numbers, got dtype {self._dtype}")
        if len(shape) == 3:
            self._single = True
            shape = (1, *shape)
        elif len(shape) == 4:
            self._single = False
        else:
            self.close()
            raise InputError(f"{where}: expected one lattice (N, N, 3) or a batch "
                             f"(B, N, N, 3), got shape {tuple(self._shape)}")
        if shape[-1] != 3:
            self.close()
            raise InputError(f"{where}: last axis must hold the 3 channels {CHANNELS}, "
                             f"got {shape[-1]}")
        if shape[1] != shape[2]:
            self.close()
            raise InputError(f"{where}: lattices must be square N x N, got {shape[1]} x {shape[2]}")
        if shape[1] < 2:
            self.close()
            raise InputError(f"{where}: linear size N must be >= 2, got N = {shape[1]}")
        self.shape = shape

    def _where(self) -> str:
        return f"{self.path}" + (f" [{self.key}]" if self.key else "")

    # ----------------------------------------------------------------- reading
    def __len__(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        """Linear size N of every lattice."""
        return self.shape[1]

    def batches(self, batch: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first index, float64 batch (b, N, N, 3)) in order; NaN/inf raise InputError."""
        batch = max(int(batch), 1)
        for start in range(0, len(self), batch):
            stop = min(start + batch, len(self))
            try:
                part = self._all()[None] if self._single else self._slice(start, stop)
            except (OSError, zipfile.BadZipFile, zlib.error) as exc:
                where = f"{self._where()}: read failed at lattice {start}"
                raise InputError(f"{where} ({exc})") from None
            part = np.asarray(part, dtype=np.float64)
            finite = np.isfinite(part).all(axis=(1, 2, 3))
            if not finite.all():
                first = start + int(np.flatnonzero(~finite)[0])
                raise InputError(f"{self._where()}: lattice {first} contains NaN or inf")
            yield start, as_lattice_batch(part)

    def close(self) -> None:
        self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _pick_key(path, key, names) -> str:
    if key is not None:
        if key not in names:
            raise InputError(f"{path}: no array {key!r}; available: {', '.join(names) or 'none'}")
        return key
    if len(names) == 1:
        return names[0]
    if DEFAULT_KEY in names:
        return DEFAULT_KEY
    if not names:
        raise InputError(f"{path}: holds no arrays")
    raise InputError(f"{path}: holds several arrays, pick one with --key: {', '.join(names)}")


OUTPUT_SUFFIXES = (".csv", ".h5", ".hdf5")


def check_output(path, inp=None) -> Path | None:
    """The output path, checked before any work: known format, existing directory, and not
    the input file itself (writing the table there would replace the user's lattices)."""
    if path is None or str(path) == "-":
        return None
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"{path}: unknown output format {suffix!r}; use {', '.join(OUTPUT_SUFFIXES)}")
    if not path.parent.is_dir():
        raise InputError(f"{path}: directory {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not an output file")
    if inp is not None and path.exists() and path.resolve() == Path(inp).resolve():
        raise InputError(f"{path}: is the input file; choose another --out")
    return path


def write_table(path, columns: Mapping[str, np.ndarray], attrs: Mapping | None = None) -> None:
    """One row per lattice as CSV (path None or '-': standard output) or HDF5, atomically.

    attrs (provenance: input file, command, versions) go into HDF5 attributes.
    """
    if path is None or str(path) == "-":
        _write_csv(sys.stdout, columns)
        sys.stdout.flush()
        return
    path = check_output(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with atomic_path(path, make_parent=False) as tmp, open(tmp, "w", newline="") as f:
            _write_csv(f, columns)
        return
    with atomic_h5(path, make_parent=False) as f:
        for name, values in columns.items():
            values = np.asarray(values)
            f.create_dataset(name, data=values.astype("S") if values.dtype.kind == "U"
                             else values)
        f.attrs.update({k: v for k, v in (attrs or {}).items() if v is not None})


def _write_csv(stream: io.TextIOBase, columns: Mapping[str, np.ndarray]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(list(columns))
    cols = [np.asarray(v).tolist() for v in columns.values()]
    writer.writerows(zip(*cols))


def _npy_header(f) -> tuple[tuple, np.dtype, bool]:
    """(shape, dtype, fortran_order) from a .npy header, the file left at the data's first byte."""
    version = np.lib.format.read_magic(f)
    read = {(1, 0): np.lib.format.read_array_header_1_0}.get(
        version, np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read(f)
    return shape, dtype, fortran
