"""Chern numbers of large lattices by the spectral localizer, in sparse real arithmetic.

The localizer of a BdG Hamiltonian H with positions X, Y (measured from a
centre) is L = [[H, kappa (X - iY)], [kappa (X + iY), -H]], and its index is
signature(L) / 2 (Loring and Schulz-Baldes, arXiv:1701.07455). In the Majorana
basis H = i A with A real antisymmetric; with W = [[1, i], [1, -i]] / sqrt 2,
W^dagger L W is the real symmetric

    M = [[kappa X, -(A + kappa Y)], [A - kappa Y, -kappa X]],

so the signature needs one sparse real factorization P M P^T = L D L^T and
Sylvester's law of inertia (the signs of D), never an eigendecomposition.

The workflow's labels are Bott indices on the torus, so the lattice is first
tiled M x M (periodic copies, open outer boundary, M N >= ``min_tiled_size``):
around the centre the localizer then sees the periodic lattice, not a cut.
kappa = ``kappa_scale`` / (M N) keeps the position term below the gap across
the tiled lattice, which makes the index global. The conventions, the rule and
what agreement with the Bott index they reach are in docs/usage.md
("Labeling methods").

The certificate of a label, from inertias alone (no eigensolver): M - w I and
M + w I (w = min_gap_ratio * kappa) have no eigenvalue between them, so the
index is read off their inertias and, by Weyl's inequality, is that of every
Hamiltonian within w of this one (operator norm); the torus BdG gap is at
least ``labeling.min_gap`` (one factorization of [[0, -A], [A, 0]] + min_gap I),
where the localizer index and the Bott index were measured to agree; and, with
``views: 2``, the index is the same at a second centre (the lattice rolled by
N/2 in x and y before tiling).
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from .errors import SpecError
from .lattice import T_PLUS, as_lattice_batch
from .params import LocalizerParams

SOLVERS = ("auto", "pardiso", "superlu")
_LANCZOS_TOL = 1e-3  # relative accuracy of the localizer-gap estimate


def majorana_sparse(lattice: np.ndarray, *, periodic: bool = False) -> sp.csr_matrix:
    """Real antisymmetric A (2N^2 x 2N^2, Majorana index 2 * site + c) with H = i A.

    The same bonds as ``lattice._blocks`` (each bond owned by the site it leaves,
    Delta on x-bonds, i Delta on y-bonds); open boundaries drop the bonds that
    wrap around, ``periodic=True`` keeps them (the torus of the Bott index).
    """
    n = lattice.shape[0]
    x, y = np.divmod(np.arange(n * n), n)
    mu, t_minus, delta = (lattice[..., c].ravel() for c in range(3))
    rows, cols, vals = [], [], []

    def add(block_row, block_col, i, j, v):
        rows.append(2 * i + block_row)
        cols.append(2 * j + block_col)
        vals.append(v)

    sites = np.arange(n * n)
    # On-site -mu in h: A[0,1] block gets h, A[1,0] block gets -h.
    add(0, 1, sites, sites, -mu)
    add(1, 0, sites, sites, mu)
    for axis, t_bond in ((0, 0.5 * (T_PLUS + t_minus)), (1, 0.5 * (T_PLUS - t_minus))):
        keep = np.ones(n * n, bool) if periodic else ((x if axis == 0 else y) < n - 1)
        j = sites[keep]
        k = (((x + 1) % n) * n + y if axis == 0 else x * n + (y + 1) % n)[keep]
        t = t_bond[keep]
        d = 0.5 * delta[keep]
        # h symmetric hopping: A01 += h, A10 -= h (both orientations).
        add(0, 1, j, k, t)
        add(0, 1, k, j, t)
        add(1, 0, j, k, -t)
        add(1, 0, k, j, -t)
        if axis == 0:  # D_r antisymmetric: A01 -= D_r, A10 -= D_r
            add(0, 1, j, k, -d)
            add(0, 1, k, j, d)
            add(1, 0, j, k, -d)
            add(1, 0, k, j, d)
        else:  # D_i antisymmetric: A00 += D_i, A11 -= D_i
            add(0, 0, j, k, d)
            add(0, 0, k, j, -d)
            add(1, 1, j, k, -d)
            add(1, 1, k, j, d)
    size = 2 * n * n
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(size, size))



def tiles_for(n: int, params: LocalizerParams) -> int:
    """M: copies per side so that the tiled lattice is at least ``min_tiled_size`` across."""
    return max(1, math.ceil(params.min_tiled_size / n))


def kappa_for(n: int, params: LocalizerParams) -> float:
    """kappa = kappa_scale / (M N), M N the tiled lattice's side."""
    return params.kappa_scale / (tiles_for(n, params) * n)


def localizer_matrix(lattice: np.ndarray, kappa: float, *, tiles: int = 1,
                     roll: int = 0) -> sp.csr_matrix:
    """Real symmetric localizer M (4 (M N)^2 square, index 4 * site + 2 * block + Majorana).

    The lattice is rolled by ``roll`` sites in x and y, tiled ``tiles`` x ``tiles``
    with open outer boundaries; positions are measured from the tiled lattice's
    centre ((M N - 1) / 2, between sites for even M N, so X and Y have no zero).
    """
    lat = np.tile(np.roll(lattice, (roll, roll), axis=(0, 1)), (tiles, tiles, 1))
    side = lat.shape[0]
    a = majorana_sparse(lat).tocoo()
    centre = (side - 1) / 2.0
    x, y = np.divmod(np.arange(side * side), side)
    px = np.repeat(kappa * (x - centre), 2)  # per Majorana index
    py = np.repeat(kappa * (y - centre), 2)
    diag = np.arange(2 * side * side)

    def index(block, i):
        return 4 * (i // 2) + 2 * block + i % 2

    rows = np.concatenate([index(0, diag), index(1, diag), index(0, a.row), index(1, a.row),
                           index(0, diag), index(1, diag)])
    cols = np.concatenate([index(0, diag), index(1, diag), index(1, a.col), index(0, a.col),
                           index(1, diag), index(0, diag)])
    vals = np.concatenate([px, -px, -a.data, a.data, -py, -py])
    size = 4 * side * side
    return sp.csr_matrix((vals, (rows, cols)), shape=(size, size))


def bdg_gap_matrix(lattice: np.ndarray) -> sp.csr_matrix:
    """[[0, -A], [A, 0]] on the torus: its eigenvalues are +-|E|, so its smallest |eigenvalue|
    is the BdG gap that qualifies a Bott label (the localizer at kappa = 0, untiled, periodic)."""
    a = majorana_sparse(lattice, periodic=True)
    return sp.bmat([[None, -a], [a, None]], format="csr")


class Inertia(NamedTuple):
    """Inertia of a real symmetric matrix from one LDL^T factor, and solves with that factor.

    exact: the factorization pivoted without perturbation and met no zero pivot, so
    Sylvester's law applies (positive + negative = dimension).
    release: frees the factor (PARDISO keeps it outside Python's memory).
    """

    positive: int
    negative: int
    solve: Callable[[np.ndarray], np.ndarray]
    exact: bool
    release: Callable[[], None]

    @property
    def signature(self) -> int:
        return self.positive - self.negative


# PARDISO settings (MKL iparm, 1-based): user values, METIS nested dissection, pivots
# perturbed below 1e-8 (counted in iparm 14, which voids the inertia), Bunch-Kaufman 1x1 and
# 2x2 pivoting; iparm 22 and 23 then report the numbers of positive and negative eigenvalues.
_PARDISO_IPARM = {1: 1, 2: 2, 10: 8, 11: 1, 13: 1, 21: 1}


def _pardiso_available() -> bool:
    try:
        import pypardiso  # noqa: F401  (lazy: optional, MKL's PARDISO exists for x86-64 only)
    except ImportError:
        return False
    return True


_PARDISO_IDLE: queue.SimpleQueue = queue.SimpleQueue()  # released handles, for any thread


def _pardiso_solver():
    """An idle PARDISO handle, else a new one. pypardiso searches the disk for MKL on each
    construction (1.5 s), so released handles are kept for the next factorization of any
    thread: worker pools come and go with every batch (a shard of 1,000 64x64 lattices,
    labeled in progress chunks of two, paid that search per chunk: 870-900 s against 205 s)."""
    try:
        return _PARDISO_IDLE.get_nowait()
    except queue.Empty:
        pass
    from pypardiso import PyPardisoSolver  # lazy: optional dependency, imported when used

    solver = PyPardisoSolver(mtype=-2)
    solver.set_statistical_info_off()
    for key, value in _PARDISO_IPARM.items():
        solver.set_iparm(key, value)
    return solver


def _inertia_pardiso(m: sp.csr_matrix) -> Inertia:
    """PARDISO (MKL): METIS ordering, Bunch-Kaufman pivoting and its own inertia report.
    The handle is this factor's alone until released, then idle for reuse."""
    upper = sp.triu(m, format="coo")
    diag = np.arange(m.shape[0])  # PARDISO wants every diagonal entry stored, zeros included
    upper = sp.csr_matrix((np.concatenate([upper.data, np.zeros(m.shape[0])]),
                           (np.concatenate([upper.row, diag]), np.concatenate([upper.col, diag]))),
                          shape=m.shape)
    upper.sort_indices()
    solver = _pardiso_solver()
    released = threading.Event()

    def release():
        if not released.is_set():
            released.set()
            solver.free_memory(everything=True)
            _PARDISO_IDLE.put(solver)

    try:
        solver.factorize(upper)
    except BaseException:
        release()
        raise
    positive, negative, perturbed = (int(solver.get_iparm(i)) for i in (22, 23, 14))
    exact = perturbed == 0 and positive + negative == m.shape[0]
    return Inertia(positive, negative, lambda b: solver.solve(upper, b), exact, release)


def _inertia_superlu(m: sp.csr_matrix) -> Inertia:
    """SuperLU with symmetric minimum-degree ordering and diagonal pivots only (U's diagonal is D)."""
    lu = spla.splu(m.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                   options=dict(SymmetricMode=True))
    d = lu.U.diagonal()
    exact = bool(np.array_equal(lu.perm_r, lu.perm_c) and np.all(np.isfinite(d)) and np.all(d != 0))
    return Inertia(int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0)), lu.solve, exact,
                   lambda: None)


def inertia(m: sp.spmatrix, solver: str = "auto", shift: float = 0.0) -> Inertia:
    """Inertia of the real symmetric sparse ``m - shift * I`` by a sparse LDL^T solver.

    auto: PARDISO where pypardiso is installed, SuperLU otherwise.
    """
    if solver not in SOLVERS:
        raise SpecError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if solver == "pardiso" and not _pardiso_available():
        raise SpecError("solver 'pardiso' needs the package pypardiso (pip install pypardiso)")
    use_pardiso = solver == "pardiso" or (solver == "auto" and _pardiso_available())
    m = sp.csr_matrix(m)
    if shift:
        m = sp.csr_matrix(m - shift * sp.identity(m.shape[0], format="csr"))
    return _inertia_pardiso(m) if use_pardiso else _inertia_superlu(m)


def counts_outside(m: sp.spmatrix, window: float, solver: str = "auto") -> tuple[int, int] | None:
    """(eigenvalues below -window, eigenvalues above +window) of symmetric m, from the inertia
    of m + window I and m - window I; None when some eigenvalue lies in [-window, window] or a
    factorization was not exact. Two factorizations and no eigensolver: a rigorous window."""
    below, above = inertia(m, solver, -window), inertia(m, solver, window)
    below.release()
    above.release()
    if not (below.exact and above.exact) or below.negative + above.positive != m.shape[0]:
        return None
    return below.negative, above.positive


def smallest_magnitude(m: sp.spmatrix, solve: Callable) -> float:
    """min |eigenvalue| of a symmetric m by Lanczos on m^-1 (solves with its factor).

    Deterministic start vector; converged to a relative accuracy of 1e-3.
    """
    n = m.shape[0]
    op = spla.LinearOperator((n, n), matvec=lambda v: solve(np.asarray(v, float).ravel()),
                             dtype=np.float64)
    v0 = np.cos(np.arange(n) * 0.7) + 0.1
    theta = spla.eigsh(op, k=1, which="LM", v0=v0, tol=_LANCZOS_TOL,
                       return_eigenvectors=False, ncv=min(n - 1, 20))
    return float(1.0 / abs(theta[0]))


def bdg_gap(lattice: np.ndarray, solver: str = "auto") -> float:
    """min |E| of the BdG spectrum on the torus, by the same sparse factor and Lanczos."""
    m = bdg_gap_matrix(lattice)
    inert = inertia(m, solver)
    try:
        return smallest_magnitude(m, inert.solve)
    finally:
        inert.release()


def gapped(lattice: np.ndarray, min_gap: float, solver: str = "auto") -> bool:
    """Whether the torus BdG gap min |E| is at least min_gap: one factorization of
    [[0, -A], [A, 0]] + min_gap I, whose spectrum is symmetric, so no eigenvalue below
    -min_gap beyond the N^2 x 2 negative ones means none in (-min_gap, min_gap)."""
    m = bdg_gap_matrix(lattice)
    shifted = inertia(m, solver, -min_gap)
    shifted.release()
    return bool(shifted.exact and shifted.negative == m.shape[0] // 2)


class LocalizerLabel(NamedTuple):
    """One lattice's localizer label and its certificate."""

    chern: int
    certified: bool
    localizer_gap: float  # every view's localizer has no eigenvalue within this of 0 (0: one has)
    kappa: float
    tiles: int
    views_agree: bool
    gapped: bool  # torus BdG gap >= min_gap
    gap: float  # torus BdG gap by Lanczos when params.bdg_gap, else NaN


def localizer_label(lattice: np.ndarray, params: LocalizerParams, min_gap: float, *,
                    log: Callable[[str], None] | None = None) -> LocalizerLabel:
    """Chern number of one lattice (N, N, 3) by the tiled spectral localizer, certified.

    Certified when N >= min_certified_size, the torus BdG gap is at least min_gap,
    every view's localizer has no eigenvalue in [-w, w] (w = min_gap_ratio * kappa;
    then the index is that of every Hamiltonian within w), the factorizations were
    exact and the views agree. The sign makes the label the project's Bott label (C = +Im sum
    log lambda(V U V^dagger U^dagger) / 2 pi): C = -signature / 2.
    """
    n = lattice.shape[0]
    tiles, kappa = tiles_for(n, params), kappa_for(n, params)
    window = params.min_gap_ratio * kappa
    indices, windows_clear = [], True
    for view in range(params.views):
        m = localizer_matrix(lattice, kappa, tiles=tiles, roll=view * (n // 2))
        counts = counts_outside(m, window, params.solver)
        if counts is None:  # an eigenvalue near 0: the label stands, uncertified
            windows_clear = False
            inert = inertia(m, params.solver)
            inert.release()
            signature = inert.signature
        else:
            signature = counts[1] - counts[0]
        indices.append(-signature // 2)
        if log is not None:
            log(f"{n}x{n} lattice: localizer view {view + 1} of {params.views} "
                f"(tiled {tiles * n}x{tiles * n}, kappa {kappa:.3g}): index {indices[-1]}, "
                f"{'no' if counts is not None else 'an'} eigenvalue within {window:.3g} of 0")
    is_gapped = gapped(lattice, min_gap, params.solver)
    gap = bdg_gap(lattice, params.solver) if params.bdg_gap else float("nan")
    agree = len(set(indices)) == 1
    certified = bool(agree and windows_clear and is_gapped and n >= params.min_certified_size)
    return LocalizerLabel(indices[0], certified, window if windows_clear else 0.0, kappa, tiles,
                          agree, is_gapped, gap)


def workers_for(count: int, n: int, threads: int, params: LocalizerParams) -> int:
    """Lattices labeled at once: at most ``threads`` and ``count``, and as many as fit in
    ``params.max_memory_gb`` at the estimated peak of one factorization (at least one)."""
    per_lattice = factor_memory_gb(tiles_for(n, params) * n)
    return max(1, min(threads, count, int(params.max_memory_gb // per_lattice)))


def localizer_labels(lattices, params: LocalizerParams, min_gap: float, *,
                     threads: int | None = None,
                     progress: Callable[[int], None] | None = None,
                     log: Callable[[str], None] | None = None) -> list[LocalizerLabel]:
    """Labels of a batch (B, N, N, 3): lattices spread over ``threads`` worker threads.

    The factorizations release the GIL. Workers are capped so that their
    factors fit in ``params.max_memory_gb`` (estimated from the tiled size);
    the solver's own threads share what is left of ``threads``.
    """
    lat = as_lattice_batch(lattices)
    threads = max(1, int(threads or os.cpu_count() or 1))
    workers = workers_for(len(lat), lat.shape[1], threads, params)
    inner = max(1, threads // workers)
    out: list[LocalizerLabel | None] = [None] * len(lat)
    with threadpool_limits(limits=inner):
        if workers == 1:
            for i, one in enumerate(lat):
                out[i] = localizer_label(one, params, min_gap, log=log)
                if progress is not None:
                    progress(i + 1)
        else:
            with ThreadPoolExecutor(workers) as pool:
                futures = [pool.submit(localizer_label, one, params, min_gap) for one in lat]
                for i, future in enumerate(futures):
                    out[i] = future.result()
                    if progress is not None:
                        progress(i + 1)
    return out


_FACTOR_BYTES_PER_UNKNOWN = 2100.0  # peak memory less the interpreter, measured at M N = 256


def factor_memory_gb(side: int) -> float:
    """Estimated peak memory of one localizer factorization of a side x side tiled lattice.

    Nested dissection fills O(n log n): calibrated at side 256 and grown by n log n.
    """
    n = 4 * side * side
    ref = 4 * 256 * 256
    return _FACTOR_BYTES_PER_UNKNOWN * ref * (n * math.log(n)) / (ref * math.log(ref)) / 1e9
