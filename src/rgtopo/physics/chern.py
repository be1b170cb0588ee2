"""Chern numbers of p+ip lattices by any labeling method, one table for all (the p+ip model).

The lattice is one model of the generic core ``rgtopo.physics.hamiltonian`` (any Hamiltonian with
positions): its localizer labels go through that core, and its Bott labels through the
p+ip fast path ``rgtopo.physics.bott`` (batched Numba, 3x cheaper than a complex ``eigh``).
``bott`` is the dense Bott index on the torus (exact, O(N^6) time, O(N^4)
memory: the workflow's reference up to N = 32); ``localizer`` the sparse
spectral localizer of the tiled lattice (``rgtopo.physics.localizer``: about N^2 log N
memory, minutes at 512x512); ``auto`` the first below ``auto_min_size`` and the
second from there (the crossover measured in docs/benchmarks.md). Every row says
whether its label is certified, so a doubtful label is never passed off as exact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import SpecError
from ..params import LabelingParams
from .bott import chern_numbers as bott_chern_numbers
from .hamiltonian import METHODS
from .lattice import as_lattice_batch
from .localizer import localizer_labels
from .spectral_localizer import localizer_table
from .system import COLUMNS, ChernResult

__all__ = ["COLUMNS", "METHODS", "ChernResult", "chern_numbers", "resolve_method"]


def resolve_method(method: str, size: int, params: LabelingParams) -> str:
    """The method that labels N x N lattices: ``auto`` picks by size."""
    if method not in METHODS:
        raise SpecError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "auto":
        return "localizer" if size >= params.auto_min_size else "bott"
    return method


def chern_numbers(lattices, *, method: str = "auto", threads: int | None = None,
                  params: LabelingParams | None = None,
                  progress: Callable[[int], None] | None = None,
                  log: Callable[[str], None] | None = None) -> ChernResult:
    """Chern numbers of a lattice (N, N, 3) or a batch (B, N, N, 3), certified.

    method: ``bott``, ``localizer`` or ``auto`` (default: Bott below
    ``params.auto_min_size``, the localizer from there). threads: cores used
    (Numba threads for the Bott index; worker threads for the localizer).
    params: the labeling rule (default: ``LabelingParams()``, the values of
    config/config.yaml). progress(done) is called as lattices finish; log(line)
    gets per-lattice steps of the localizer on large lattices.
    """
    params = LabelingParams() if params is None else params
    lat = as_lattice_batch(lattices)
    if threads is not None and int(threads) < 1:
        raise SpecError(f"threads must be >= 1, got {threads}")
    chosen = resolve_method(method, lat.shape[1], params)
    count = lat.shape[0]
    if chosen == "bott":
        res = bott_chern_numbers(lat, threads=threads)
        certified = (res.gap >= params.min_gap) & (res.deviation <= params.max_bott_deviation)
        if progress is not None:
            progress(count)
        return ChernResult(res.chern, certified, np.full(count, "bott"), res.gap >= params.min_gap,
                           res.gap, res.deviation,
                           np.full(count, np.nan), np.full(count, np.nan),
                           np.zeros(count, np.int64))
    return localizer_table(localizer_labels(lat, params.localizer, params.min_gap,
                                             threads=threads, progress=progress, log=log))
