"""HDF5 dataset shards: lattices, Chern labels, label diagnostics and provenance.

A shard file holds

* ``lattices`` (B, N, N, 3) float32: exactly the values that were labeled;
* ``chern`` (B,) int8, ``gap`` (B,) float64, ``bott_deviation`` (B,) float64
  once labeled;
* attributes ``format`` = "rgtopo-shard", ``format_version``, ``size``,
  ``distribution``, ``spec`` (JSON of every parameter), ``seed``,
  ``first_index``, ``count``, ``labeled``, ``rgtopo_version`` and ``checksum``
  (SHA-256 of the stored arrays, so training can tell changed data from the
  same data without reading it).

Shards are opened read-only without HDF5 file locks, which network filesystems
often do not support.

Files are written under a temporary name and renamed when complete, so a
killed job never leaves a half-written shard under its final name.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from . import __version__
from .bott import chern_numbers
from .errors import ShardError, SpecError
from .sampling import sample_lattices

FORMAT = "rgtopo-shard"
FORMAT_VERSION = 1
LATTICE_DTYPE = np.float32
CHECKSUM_ATTR = "checksum"


def data_checksum(*arrays: np.ndarray) -> str:
    """SHA-256 over the dtype, shape and bytes of each array in turn."""
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


@contextmanager
def atomic_h5(path):
    """Open an HDF5 file for writing under a temporary name; rename on success only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with h5py.File(tmp, "w") as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_shard(path, lattices: np.ndarray, spec: Mapping, first_index: int, labels=None) -> None:
    """Write one shard atomically; labels is a BottResult or None."""
    lattices = np.asarray(lattices, dtype=LATTICE_DTYPE)
    arrays = {"lattices": lattices}
    if labels is not None:
        arrays.update(chern=labels.chern.astype(np.int8), gap=np.asarray(labels.gap),
                      bott_deviation=np.asarray(labels.deviation))
    with atomic_h5(path) as f:
        f.create_dataset(
            "lattices", data=lattices, chunks=(min(len(lattices), 4096) or 1, *lattices.shape[1:])
        )
        for key in ("chern", "gap", "bott_deviation"):
            if key in arrays:
                f.create_dataset(key, data=arrays[key])
        f.attrs.update(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            size=int(spec["size"]),
            distribution=str(spec["distribution"]),
            spec=json.dumps(dict(spec), sort_keys=True),
            seed=int(spec["seed"]),
            first_index=int(first_index),
            count=len(lattices),
            labeled=labels is not None,
            rgtopo_version=__version__,
        )
        f.attrs[CHECKSUM_ATTR] = data_checksum(
            *arrays.values(), np.frombuffer(f.attrs["spec"].encode(), np.uint8))


def open_shard(path) -> h5py.File:
    """Open a shard read-only, with one clear error if it is missing, unreadable or foreign."""
    path = Path(path)
    if not path.is_file():
        raise ShardError(f"{path}: no such shard file")
    try:
        f = h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise ShardError(f"{path}: not a readable HDF5 file ({exc})") from None
    if f.attrs.get("format") != FORMAT or "lattices" not in f:
        f.close()
        raise ShardError(f"{path}: HDF5 file is not an rgtopo shard (format attribute missing)")
    return f


def read_shard(path, *, labeled: bool = False) -> dict:
    """Load a whole shard into memory: lattices (and labels if ``labeled``) plus attributes."""
    with open_shard(path) as f:
        if labeled and not f.attrs["labeled"]:
            raise ShardError(f"{path}: shard has no Chern labels yet")
        out = {"lattices": f["lattices"][...], "attrs": dict(f.attrs)}
        if f.attrs["labeled"]:
            for key in ("chern", "gap", "bott_deviation"):
                out[key] = f[key][...]
    return out


def sample_shard(spec: Mapping, shard: int, shard_size: int, path, count: int | None = None) -> None:
    """Draw shard number ``shard`` (samples shard*shard_size ...) and write it unlabeled.

    count: total lattices of the dataset; the last shard holds the remainder.
    """
    first = int(shard) * int(shard_size)
    size = int(shard_size) if count is None else min(int(shard_size), int(count) - first)
    if size < 1:
        raise SpecError(f"shard {shard} is beyond the dataset ({count} lattices)")
    lattices = sample_lattices(spec, first, size).astype(LATTICE_DTYPE)
    write_shard(path, lattices, spec, first)


def label_shard(src, dst, *, threads: int | None = None, chunk: int | None = None, log=None) -> None:
    """Bott-label every lattice of shard ``src`` (as stored, float32) and write ``dst``.

    A progress line is logged every ``chunk`` 4x4-lattice equivalents: the
    cost of one lattice grows as (N / 4)^4 at least, so large lattices report
    after proportionally fewer of them.
    """
    data = read_shard(src)
    spec = json.loads(data["attrs"]["spec"])
    lattices = data["lattices"]
    n = lattices.shape[1] if lattices.ndim == 4 else 4
    chunk = int(chunk or len(lattices) or 1)
    chunk = max(int(threads or 1), chunk * 4**4 // max(n, 4) ** 4)
    parts = []
    for start in range(0, len(lattices), chunk):
        parts.append(chern_numbers(lattices[start : start + chunk], threads=threads))
        if log is not None:
            log(f"labeled {min(start + chunk, len(lattices))}/{len(lattices)} lattices")
    if parts:
        result = type(parts[0])(*(np.concatenate(x) for x in zip(*parts)))
    else:
        result = chern_numbers(np.zeros((0, 2, 2, 3)))
    write_shard(dst, lattices, spec, int(data["attrs"]["first_index"]), labels=result)
