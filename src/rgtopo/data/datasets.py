"""Dataset shards made: lattices drawn by the sampler, then labeled (``rgtopo.physics.chern``).

The shard format and its readers are in ``rgtopo.data.shards``; this module adds
the two jobs that produce shards, which need the sampler and the Numba
labeler.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .. import io
from ..errors import SpecError
from ..params import DatasetSpec, LabelingParams
from ..physics.chern import ChernResult, chern_numbers
from ..physics.sampling import sample_lattices
from .shards import LATTICE_DTYPE, read_shard, shard_digest, write_shard


def sample_shard(spec: DatasetSpec | Mapping, shard: int, shard_size: int, path, count: int | None = None) -> None:
    """Draw shard number ``shard`` (samples shard*shard_size ...) and write it unlabeled.

    count: total lattices of the dataset; the last shard holds the remainder.
    """
    first = int(shard) * int(shard_size)
    size = int(shard_size) if count is None else min(int(shard_size), int(count) - first)
    if size < 1:
        raise SpecError(f"shard {shard} is beyond the dataset ({count} lattices)")
    spec = DatasetSpec.of(spec)
    lattices = sample_lattices(spec, first, size).astype(LATTICE_DTYPE)
    write_shard(path, lattices, spec.as_dict(), first)


def label_shard(src, dst, *, method: str = "bott", params: LabelingParams | None = None,
                threads: int | None = None, chunk: int | None = None, log=None) -> None:
    """Label every lattice of shard ``src`` (as stored, float32) by ``method`` and write ``dst``.

    A progress line is logged every ``chunk`` 4x4-lattice equivalents: the
    cost of one lattice grows as (N / 4)^4 at least, so large lattices report
    after proportionally fewer of them. Each chunk's labels are kept beside ``dst``
    (``progress_dir``) until the shard is written, so a job killed halfway resumes at its
    last finished chunk instead of the shard's start.
    """
    data = read_shard(src)
    spec = json.loads(data["attrs"]["spec"])
    lattices = data["lattices"]
    n = lattices.shape[1] if lattices.ndim == 4 else 4
    chunk = int(chunk or len(lattices) or 1)
    chunk = max(int(threads or 1), chunk * 4**4 // max(n, 4) ** 4)
    progress = _Progress(progress_dir(dst), {
        "source": shard_digest(src), "method": method, "chunk": chunk,
        "params": None if params is None else LabelingParams.of(params).as_dict()})
    parts = []
    for start in range(0, len(lattices), chunk):
        part = progress.load(start, log)
        if part is None:
            part = chern_numbers(lattices[start : start + chunk], method=method,
                                 threads=threads, params=params)
            progress.save(start, part)
        parts.append(part)
        if log is not None:
            log(f"labeled {min(start + chunk, len(lattices))}/{len(lattices)} lattices")
    if parts:
        result = ChernResult.concatenate(parts)
    else:
        result = chern_numbers(np.zeros((0, 2, 2, 3)), method="bott")
    write_shard(dst, lattices, spec, int(data["attrs"]["first_index"]), labels=result)
    progress.clear()


def progress_dir(dst) -> Path:
    """Where a label job keeps its finished chunks: a hidden folder beside its output."""
    dst = Path(dst)
    return dst.with_name(f".{dst.name}.progress")


class _Progress:
    """The finished chunks of one label job, valid only for the same source shard, method,
    parameters and chunk size (``key``); anything else found there is cleared first."""

    def __init__(self, folder: Path, key: dict):
        self.folder = folder
        self.key = json.loads(json.dumps(key, sort_keys=True))
        stamp = folder / "key.json"
        try:
            same = json.loads(stamp.read_text()) == self.key
        except (OSError, ValueError):
            same = False
        if not same:
            self.clear()
            io.write_json(stamp, self.key)

    def _file(self, start: int) -> Path:
        return self.folder / f"chunk_{start:09d}.npz"

    def load(self, start: int, log=None) -> ChernResult | None:
        path = self._file(start)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as f:
                part = ChernResult(*(f[name] for name in ChernResult._fields))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            if log is not None:
                log(f"{path}: unreadable ({exc}); labeling its chunk again")
            return None
        if log is not None:
            log(f"resumed: lattices {start}.. labeled before, read from {path.name}")
        return part

    def save(self, start: int, part: ChernResult) -> None:
        with io.atomic_path(self._file(start), suffix=".npz") as tmp:
            np.savez(tmp, **part._asdict())

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def lattice_means(paths) -> np.ndarray:
    """(B, 3) site averages of every lattice in the shards, in order (Fig. 4's data)."""
    return np.concatenate([read_shard(p)["lattices"].mean(axis=(1, 2)) for p in paths])
