"""The spectral localizer of a ``System``: tiling a torus, the real localizer matrix, kappa, the
memory estimate, the torus gap, and certified labels from sparse inertias (the ``localizer``
method of ``rgtopo.physics.hamiltonian``, where the certificate is described).
"""


from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ..errors import MemoryLimitError
from ..params import LocalizerParams
from .solvers import (
    InertiaSolver,
    counts_outside,
    factor_memory_gb,
    get_solver,
    inertia,
    smallest_magnitude,
)
from .system import ChernResult, System, realify

_KAPPA_ENERGIES = (2.0, 16.0)  # energy scales between which kappa is the fixed rule's (p+ip)

# ---------------------------------------------------------------- torus and localizer

def image_shifts(positions: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 period: tuple[float, float]) -> np.ndarray:
    """(k, 2) integer s per bond row -> col: the image of col nearest to row is at
    r_col - s * period. rint is odd, so the bond col -> row gets -s (H stays Hermitian)."""
    d = positions[cols] - positions[rows]
    return np.rint(d / np.asarray(period)).astype(np.int64)


def tile(h: sp.spmatrix, positions: np.ndarray, period: tuple[float, float],
         tiles: tuple[int, int], shift: tuple[float, float] = (0.0, 0.0)
         ) -> tuple[sp.csr_matrix, np.ndarray]:
    """The torus H repeated tiles[0] x tiles[1] times with open outer boundaries.

    Positions are first shifted by ``shift`` modulo the period (a second centre); each bond
    joins copy c of its row to copy c - s of its column (s from ``image_shifts``), and is
    dropped where that copy does not exist. Index of state i in copy (a, b): (a * My + b) n + i.
    """
    coo = sp.coo_matrix(h)
    n = h.shape[0]
    per = np.asarray(period)
    pos = positions
    if shift[0] or shift[1]:
        low = positions.min(axis=0)
        pos = low + np.mod(positions - low + np.asarray(shift), per)
    s = image_shifts(pos, coo.row, coo.col, period)
    mx, my = tiles
    a, b = (v.ravel() for v in np.meshgrid(np.arange(mx), np.arange(my), indexing="ij"))
    ta, tb = a[:, None] - s[None, :, 0], b[:, None] - s[None, :, 1]
    keep = (ta >= 0) & (ta < mx) & (tb >= 0) & (tb < my)
    copy_row = np.broadcast_to((a * my + b)[:, None], keep.shape)[keep]
    copy_col = (ta * my + tb)[keep]
    rows = copy_row * n + np.broadcast_to(coo.row, keep.shape)[keep]
    cols = copy_col * n + np.broadcast_to(coo.col, keep.shape)[keep]
    vals = np.broadcast_to(coo.data, keep.shape)[keep]
    size = mx * my * n
    tiled = sp.csr_matrix((vals, (rows, cols)), shape=(size, size))
    offsets = np.stack([a * per[0], b * per[1]], axis=1)
    return tiled, (offsets[:, None, :] + pos[None, :, :]).reshape(-1, 2)


def localizer_real(h: sp.spmatrix, x: np.ndarray, y: np.ndarray, kappa: float, *,
                   majorana: bool) -> sp.csr_matrix:
    """The real symmetric form of the localizer (positions x, y already centred).

    majorana: h is the real antisymmetric A of H = i A: [[kappa X, -(A + kappa Y)],
    [A - kappa Y, -kappa X]] with index 2 * state + block (its signature is L's).
    Otherwise h is H - E_F, Hermitian: L is built and made real (signature twice L's).
    """
    n = h.shape[0]
    if majorana:
        a = sp.coo_matrix(h)
        diag = np.arange(n)
        rows = np.concatenate([2 * diag, 2 * diag + 1, 2 * a.row, 2 * a.row + 1,
                               2 * diag, 2 * diag + 1])
        cols = np.concatenate([2 * diag, 2 * diag + 1, 2 * a.col + 1, 2 * a.col,
                               2 * diag + 1, 2 * diag])
        vals = np.concatenate([kappa * x, -kappa * x, -a.data, a.data, -kappa * y, -kappa * y])
        return sp.csr_matrix((vals, (rows, cols)), shape=(2 * n, 2 * n))
    hc = sp.coo_matrix(h)
    diag = np.arange(n)
    z = kappa * (x + 1j * y)
    rows = np.concatenate([2 * hc.row, 2 * hc.row + 1, 2 * diag, 2 * diag + 1])
    cols = np.concatenate([2 * hc.col, 2 * hc.col + 1, 2 * diag + 1, 2 * diag])
    vals = np.concatenate([hc.data, -hc.data, np.conj(z), z])
    return realify(sp.csr_matrix((vals, (rows, cols)), shape=(2 * n, 2 * n)))


class LocalizerLabel(NamedTuple):
    """One system's localizer label and its certificate."""

    chern: int
    certified: bool
    localizer_gap: float  # every view's localizer has no eigenvalue within this of 0 (0: one has)
    kappa: float
    tiles: int
    views_agree: bool
    gapped: bool  # torus spectral gap around E_F >= min_gap (False for a flake)
    gap: float  # torus spectral gap by Lanczos when params.bdg_gap, else NaN


def tiles_for(period: tuple[float, float], params: LocalizerParams) -> tuple[int, int]:
    """(Mx, My): copies per side so that each side of the tiled torus reaches min_tiled_size."""
    return tuple(max(1, math.ceil(params.min_tiled_size / length - 1e-9)) for length in period)


def energy_scale(system: System) -> float:
    """max_i sum_j |H_ij| + |E_F|, an upper bound of the norm of H - E_F (Gershgorin)."""
    rows = np.asarray(abs(system.hamiltonian).sum(axis=1)).ravel()
    return float((rows.max() if rows.size else 0.0) + abs(system.fermi_energy))


def kappa_for(system: System, params: LocalizerParams) -> float:
    """kappa_scale * e / clip(e, 2, 16) / the tiled torus's longer side (a flake: its bounding
    box's longer side), e the energy scale. The rule was fixed and measured on p+ip lattices,
    whose e lies between 2 (hoppings alone) and about 16; outside that range kappa scales with
    H, since the index is the same for every positive multiple of H, but a kappa fixed in
    absolute units is not: a 20x20 QWZ flake scaled by 1e-3 or by 1e3 was labeled 0 and
    certified with a fixed kappa (2026-12-07), -1 with this rule."""
    if system.period is not None:
        tiles = tiles_for(system.period, params)
        side = max(t * length for t, length in zip(tiles, system.period))
    else:
        extent = system.positions.max(axis=0) - system.positions.min(axis=0)
        side = max(float(extent.max()), 1.0)
    e = energy_scale(system)
    low, high = _KAPPA_ENERGIES
    return params.kappa_scale * (e / min(max(e, low), high) if e > 0 else 1.0) / side


def _unknowns_per_site(positions: np.ndarray) -> float:
    return len(positions) / max(len(np.unique(positions, axis=0)), 1)


def localizer_memory_gb(system: System, params: LocalizerParams) -> float:
    """Estimated peak memory of one factorization of the system's (tiled) localizer."""
    prep = system.prepared
    copies = math.prod(tiles_for(system.period, params)) if system.period else 1
    real = 2 if prep.majorana else 4  # the localizer doubles, the real form of class A doubles
    unknowns = real * copies * prep.matrix.shape[0]
    per_site = real * _unknowns_per_site(prep.positions)
    return factor_memory_gb(unknowns, per_site)


def check_memory(system: System, params: LocalizerParams) -> float:
    """The estimate, or MemoryLimitError when one factorization would exceed max_memory_gb."""
    need = localizer_memory_gb(system, params)
    if need > params.max_memory_gb:
        raise MemoryLimitError(
            f"a localizer factorization of {system.states} states needs about {need:.1f} GB, "
            f"above max_memory_gb = {params.max_memory_gb:g} (raise it: "
            "labeling.localizer.max_memory_gb, rgtopo chern --max-memory-gb)")
    return need


def torus_gap_matrix(system: System) -> tuple[sp.csr_matrix, bool]:
    """(real symmetric form of H - E_F, spectrum symmetric about 0): [[0, -A], [A, 0]] for
    class D (eigenvalues +-|E|), else [[Re, -Im], [Im, Re]] of H - E_F (or H - E_F if real)."""
    prep = system.prepared
    if prep.majorana:
        a = prep.matrix
        return sp.bmat([[None, -a], [a, None]], format="csr"), True
    h = prep.matrix
    return (realify(h) if np.iscomplexobj(h.data) else sp.csr_matrix(h)), False


def torus_gapped(system: System, min_gap: float, solver: InertiaSolver) -> bool:
    """Whether no eigenvalue of H lies within min_gap of E_F, from inertias alone: as many
    eigenvalues below E_F - min_gap as below E_F + min_gap (one factorization where the
    spectrum is symmetric: exactly half below -min_gap)."""
    m, symmetric = torus_gap_matrix(system)
    m = solver.compact(m)
    low = inertia(m, solver, -min_gap)
    low.release()
    if symmetric:
        return bool(low.exact and low.negative == m.shape[0] // 2)
    high = inertia(m, solver, min_gap)
    high.release()
    return bool(low.exact and high.exact and low.negative == high.negative)


def torus_gap(system: System, solver: InertiaSolver) -> float:
    """min |E - E_F| on the torus by Lanczos on the inverse (one factor, its solves)."""
    m, _ = torus_gap_matrix(system)
    factor = inertia(solver.compact(m), solver)
    try:
        return smallest_magnitude(m, factor.solve)
    finally:
        factor.release()


def localizer_label(system: System, params: LocalizerParams, min_gap: float, *,
                    log: Callable[[str], None] | None = None) -> LocalizerLabel:
    """Chern number of one system by the (tiled) spectral localizer, certified (module doc)."""
    check_memory(system, params)
    solver = get_solver(params.solver)
    prep = system.prepared
    kappa = kappa_for(system, params)
    window = params.min_gap_ratio * kappa
    torus = system.period is not None
    tiles = tiles_for(system.period, params) if torus else (1, 1)
    indices, windows_clear = [], True
    for view in range(params.views):
        if torus:
            shift = (system.period[0] / 2, system.period[1] / 2) if view else (0.0, 0.0)
            h, pos = tile(prep.matrix, prep.positions, system.period, tiles, shift)
        else:
            h, pos = prep.matrix, prep.positions
        low, high = pos.min(axis=0), pos.max(axis=0)
        centre = (low + high) / 2 + (view * (high - low) / 8 if not torus else 0.0)
        m = solver.compact(localizer_real(h, pos[:, 0] - centre[0], pos[:, 1] - centre[1],
                                          kappa, majorana=prep.majorana))
        del h
        per_index = 2 if prep.majorana else 4  # C = -signature(L) / 2; the real form doubles L
        counts = counts_outside(m, window, solver)
        if counts is None:  # an eigenvalue near 0: the label stands, uncertified
            windows_clear = False
            factor = inertia(m, solver)
            factor.release()
            signature = factor.signature
        else:
            signature = counts[1] - counts[0]
        indices.append(-signature // per_index)
        if log is not None:
            log(f"{system.states} states: localizer view {view + 1} of {params.views} "
                f"({m.shape[0]} real unknowns, tiled {tiles[0]}x{tiles[1]}, kappa {kappa:.3g}): "
                f"index {indices[-1]}, {'no' if counts is not None else 'an'} eigenvalue "
                f"within {window:.3g} of 0")
    is_gapped = torus and torus_gapped(system, min_gap, solver)
    gap = torus_gap(system, solver) if params.bdg_gap and torus else float("nan")
    agree = len(set(indices)) == 1
    big_enough = not torus or min(system.period) >= params.min_certified_size
    certified = bool(agree and windows_clear and big_enough and (is_gapped or not torus))
    return LocalizerLabel(indices[0], certified, window if windows_clear else 0.0, kappa,
                          max(tiles), agree, bool(is_gapped), gap)


def workers_for(count: int, need_gb: float, threads: int, params: LocalizerParams) -> int:
    """Systems labeled at once: at most ``threads`` and ``count``, and as many factors of
    ``need_gb`` as fit in ``params.max_memory_gb`` (at least one)."""
    return max(1, min(threads, count, int(params.max_memory_gb // max(need_gb, 1e-9))))


def localizer_labels(systems: Sequence[System], params: LocalizerParams, min_gap: float, *,
                     threads: int | None = None,
                     progress: Callable[[int], None] | None = None,
                     log: Callable[[str], None] | None = None) -> list[LocalizerLabel]:
    """Labels of many systems over ``threads`` worker threads (factorizations release the GIL).

    Workers are capped so that their factors fit in ``params.max_memory_gb``; the solver's
    own threads share what is left of ``threads``.
    """
    threads = max(1, int(threads or os.cpu_count() or 1))
    need = max((check_memory(s, params) for s in systems), default=0.0)
    workers = workers_for(len(systems), need, threads, params)
    inner = max(1, threads // workers)
    out: list[LocalizerLabel | None] = [None] * len(systems)
    with threadpool_limits(limits=inner):
        if workers == 1:
            for i, one in enumerate(systems):
                out[i] = localizer_label(one, params, min_gap, log=log)
                if progress is not None:
                    progress(i + 1)
        else:
            with ThreadPoolExecutor(workers) as pool:
                futures = [pool.submit(localizer_label, one, params, min_gap) for one in systems]
                for i, future in enumerate(futures):
                    out[i] = future.result()
                    if progress is not None:
                        progress(i + 1)
    return out


def localizer_table(labels: Sequence[LocalizerLabel]) -> ChernResult:
    """The localizer's labels as the common table."""
    count = len(labels)
    column = lambda name, dtype: np.array([getattr(x, name) for x in labels], dtype=dtype)  # noqa: E731
    return ChernResult(column("chern", np.int64), column("certified", bool),
                       np.full(count, "localizer"), column("gapped", bool), column("gap", float),
                       np.full(count, np.nan), column("localizer_gap", float),
                       column("kappa", float), column("tiles", np.int64))


