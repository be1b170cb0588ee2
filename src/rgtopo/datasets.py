"""Dataset shards made: lattices drawn by the sampler, then labeled (``rgtopo.chern``).

The shard format and its readers are in ``rgtopo.shards``; this module adds
the two jobs that produce shards, which need the sampler and the Numba
labeler.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from .chern import ChernResult, chern_numbers
from .errors import SpecError
from .params import DatasetSpec, LabelingParams
from .sampling import sample_lattices
from .shards import LATTICE_DTYPE, read_shard, write_shard


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
        parts.append(chern_numbers(lattices[start : start + chunk], method=method,
                                   threads=threads, params=params))
        if log is not None:
            log(f"labeled {min(start + chunk, len(lattices))}/{len(lattices)} lattices")
    if parts:
        result = ChernResult.concatenate(parts)
    else:
        result = chern_numbers(np.zeros((0, 2, 2, 3)), method="bott")
    write_shard(dst, lattices, spec, int(data["attrs"]["first_index"]), labels=result)
