"""The p+ip lattice on the generic localizer core: its Majorana matrix, positions and torus.

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
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from ..params import LocalizerParams
from . import spectral_localizer
from .lattice import T_PLUS, as_lattice_batch
from .solvers import factor_memory_gb as _factor_memory_gb
from .solvers import get_solver
from .spectral_localizer import LocalizerLabel
from .system import System, majorana_form


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



def lattice_system(lattice: np.ndarray) -> System:
    """The lattice as a system of the generic core: H = i A on the torus (class D, so the
    core takes the Majorana form), each Majorana at its site, period (N, N)."""
    n = lattice.shape[0]
    a = majorana_sparse(lattice, periodic=True)
    x, y = np.divmod(np.arange(n * n), n)
    positions = np.repeat(np.stack([x, y], axis=1).astype(float), 2, axis=0)
    return System(sp.csr_matrix(1j * a), positions, (float(n), float(n)), 0.0)


def tiles_for(n: int, params: LocalizerParams) -> int:
    """M: copies per side so that the tiled lattice is at least ``min_tiled_size`` across."""
    return max(1, math.ceil(params.min_tiled_size / n))


def kappa_for(n: int, params: LocalizerParams) -> float:
    """kappa = kappa_scale / (M N), M N the tiled lattice's side."""
    return params.kappa_scale / (tiles_for(n, params) * n)


def localizer_matrix(lattice: np.ndarray, kappa: float, *, tiles: int = 1,
                     roll: int = 0) -> sp.csr_matrix:
    """Real symmetric localizer (4 (M N)^2 square) of the lattice rolled by ``roll`` sites in x
    and y and tiled ``tiles`` x ``tiles`` with open outer boundaries; positions measured from
    the tiled lattice's centre ((M N - 1) / 2, so X and Y have no zero at even M N)."""
    system = lattice_system(np.roll(lattice, (roll, roll), axis=(0, 1)))
    a, pos = majorana_form(system)
    h, pos = spectral_localizer.tile(a, pos, system.period, (tiles, tiles))
    centre = (pos.min(axis=0) + pos.max(axis=0)) / 2
    return spectral_localizer.localizer_real(h, pos[:, 0] - centre[0], pos[:, 1] - centre[1],
                                             kappa, majorana=True)


def bdg_gap_matrix(lattice: np.ndarray) -> sp.csr_matrix:
    """[[0, -A], [A, 0]] on the torus: its eigenvalues are +-|E|, so its smallest |eigenvalue|
    is the BdG gap that qualifies a Bott label (the localizer at kappa = 0, untiled, periodic)."""
    return spectral_localizer.torus_gap_matrix(lattice_system(lattice))[0]


def bdg_gap(lattice: np.ndarray, solver: str = "auto") -> float:
    """min |E| of the BdG spectrum on the torus, by a sparse factor and Lanczos."""
    return spectral_localizer.torus_gap(lattice_system(lattice), get_solver(solver))


def gapped(lattice: np.ndarray, min_gap: float, solver: str = "auto") -> bool:
    """Whether the torus BdG gap min |E| is at least min_gap (one factorization)."""
    return spectral_localizer.torus_gapped(lattice_system(lattice), min_gap, get_solver(solver))


def localizer_label(lattice: np.ndarray, params: LocalizerParams, min_gap: float, *,
                    log: Callable[[str], None] | None = None) -> LocalizerLabel:
    """Chern number of one lattice (N, N, 3) by the tiled spectral localizer, certified.

    The generic core's rule (``rgtopo.physics.hamiltonian``) on the lattice's torus: certified when
    N >= min_certified_size, the torus BdG gap is at least min_gap, every view's localizer
    has no eigenvalue in [-w, w] (w = min_gap_ratio * kappa), the factorizations were exact
    and the views agree. C = -signature / 2 is the project's Bott label.
    """
    return spectral_localizer.localizer_label(lattice_system(lattice), params, min_gap, log=log)


def workers_for(count: int, n: int, threads: int, params: LocalizerParams) -> int:
    """Lattices labeled at once: at most ``threads`` and ``count``, and as many as fit in
    ``params.max_memory_gb`` at the estimated peak of one factorization (at least one)."""
    return spectral_localizer.workers_for(count, factor_memory_gb(tiles_for(n, params) * n), threads,
                                   params)


def localizer_labels(lattices, params: LocalizerParams, min_gap: float, *,
                     threads: int | None = None,
                     progress: Callable[[int], None] | None = None,
                     log: Callable[[str], None] | None = None) -> list[LocalizerLabel]:
    """Labels of a batch (B, N, N, 3) on the generic core's worker threads (memory-capped)."""
    systems = [lattice_system(one) for one in as_lattice_batch(lattices)]
    return spectral_localizer.localizer_labels(systems, params, min_gap, threads=threads,
                                        progress=progress, log=log)


def factor_memory_gb(side: int) -> float:
    """Estimated peak memory of one localizer factorization of a side x side tiled lattice
    (4 real unknowns per site: two Majoranas, two localizer blocks)."""
    return _factor_memory_gb(4 * side * side, 4.0)
