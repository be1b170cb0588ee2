"""HDF5 dataset shards: the file format, its writer and its readers.

A shard file holds

* ``lattices`` (B, N, N, 3) float32: exactly the values that were labeled;
* ``chern`` (B,) int8, ``gap`` (B,) float64, ``bott_deviation`` (B,) float64
  once labeled, and since format 2 ``certified`` and ``gapped`` (B,) bool, ``localizer_gap``
  (B,) float64 and ``label_method`` (B,) bytes (``rgtopo.physics.chern.ChernResult``:
  NaN where a method does not measure a column);
* attributes ``format`` = "rgtopo-shard", ``format_version``, ``size``,
  ``distribution``, ``spec`` (JSON of every parameter), ``seed``,
  ``first_index``, ``count``, ``labeled``, ``rgtopo_version`` and ``checksum``
  (SHA-256 of the stored arrays, so training can tell changed data from the
  same data without reading it).

Shards are opened read-only without HDF5 file locks, which network filesystems
often do not support, and written atomically (``rgtopo.io``). Reading a shard
needs h5py and NumPy only: the sampler and the Numba labeler that make shards
live in ``rgtopo.data.datasets``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np

from .. import __version__
from ..errors import ShardError
from ..io import atomic_h5, file_digest

FORMAT = "rgtopo-shard"
FORMAT_VERSION = 2
LABEL_COLUMNS = ("chern", "gap", "bott_deviation")
CERTIFICATE_COLUMNS = ("certified", "gapped", "localizer_gap", "label_method")  # format 2 on
LATTICE_DTYPE = np.float32
CHECKSUM_ATTR = "checksum"


def data_checksum(*arrays: np.ndarray) -> str:
    """SHA-256 over the dtype, shape and bytes of each array in turn."""
    return _checksum((a.dtype.str, a.shape, [a]) for a in map(np.asarray, arrays))


def _checksum(arrays) -> str:
    """The one layout of a shard's checksum, over (dtype string, shape, blocks of rows) per
    array, so whole arrays (``data_checksum``) and streamed ones (``verify_shard``) agree."""
    digest = hashlib.sha256()
    for dtype, shape, blocks in arrays:
        digest.update(f"{dtype}{tuple(shape)}".encode())
        for block in blocks:
            digest.update(np.ascontiguousarray(block).tobytes())
    return digest.hexdigest()


def write_shard(path, lattices: np.ndarray, spec: Mapping, first_index: int, labels=None) -> None:
    """Write one shard atomically; labels is a ``rgtopo.physics.chern.ChernResult`` or None."""
    lattices = np.asarray(lattices, dtype=LATTICE_DTYPE)
    arrays = {"lattices": lattices}
    if labels is not None:
        arrays.update(chern=labels.chern.astype(np.int8), gap=np.asarray(labels.gap, float),
                      bott_deviation=np.asarray(labels.bott_deviation, float),
                      certified=np.asarray(labels.certified, bool),
                      gapped=np.asarray(labels.gapped, bool),
                      localizer_gap=np.asarray(labels.localizer_gap, float),
                      label_method=np.asarray(labels.method).astype("S9"))
    with atomic_h5(path) as f:
        f.create_dataset(
            "lattices", data=lattices, chunks=(min(len(lattices), 4096) or 1, *lattices.shape[1:])
        )
        for key in LABEL_COLUMNS + CERTIFICATE_COLUMNS:
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
    """Load a whole shard into memory: lattices (and labels if ``labeled``) plus attributes,
    checked against the checksum stored when it was written (``verify_shard``)."""
    with open_shard(path) as f:
        if labeled and not f.attrs["labeled"]:
            raise ShardError(f"{path}: shard has no Chern labels yet")
        out = {"lattices": f["lattices"][...], "attrs": dict(f.attrs)}
        stored = [out["lattices"]]
        for key in LABEL_COLUMNS + CERTIFICATE_COLUMNS:
            if key in f:  # format 1 shards have no certificate columns
                stored.append(f[key][...])
                if f.attrs["labeled"]:
                    out[key] = stored[-1]
        _compare_checksum(path, f, data_checksum(*stored, _spec_bytes(f)))
    return out


def verify_shard(path) -> None:
    """ShardError unless the shard's arrays still hash to the checksum stored when it was
    written: data altered in place (a bit flip, another program's edit) keep a valid HDF5 file
    and would otherwise be read as they are. Streams the lattices, so memory stays bounded."""
    with open_shard(path) as f:
        if f.attrs.get(CHECKSUM_ATTR) is None:
            return
        def blocks(ds):  # about 4 MB of rows at a time
            rows = max(1, 2**22 // max(ds.dtype.itemsize * int(np.prod(ds.shape[1:])), 1))
            return (ds[start : start + rows] for start in range(0, ds.shape[0], rows))

        spec = _spec_bytes(f)
        stored = [(f[key].dtype.str, f[key].shape, blocks(f[key]))
                  for key in ("lattices",) + LABEL_COLUMNS + CERTIFICATE_COLUMNS if key in f]
        _compare_checksum(path, f, _checksum([*stored, (spec.dtype.str, spec.shape, [spec])]))


def _spec_bytes(f: h5py.File) -> np.ndarray:
    return np.frombuffer(str(f.attrs["spec"]).encode(), np.uint8)


def _compare_checksum(path, f: h5py.File, found: str) -> None:
    stored = f.attrs.get(CHECKSUM_ATTR)
    if stored is not None and str(stored) != found:
        raise ShardError(f"{path}: its data no longer match the checksum stored when it was "
                         "written (altered or damaged); delete it and let the workflow make it "
                         "again")


def shard_digest(path) -> str:
    """The checksum a shard stores of its data; the file's bytes for shards written without one."""
    with open_shard(path) as f:
        stored = f.attrs.get(CHECKSUM_ATTR)
    return str(stored) if stored is not None else file_digest(path)


def by_size(paths) -> dict[int, list]:
    """{lattice size: [shard paths]}, in the order given: one set per size from a flat list
    (the workflow passes shard files as plain inputs, not inside the stage parameters)."""
    out: dict[int, list] = {}
    for path in paths:
        with open_shard(path) as f:
            out.setdefault(int(f.attrs["size"]), []).append(path)
    return out
