"""Certified Chern numbers of any 2D lattice Hamiltonian: H and the position of each state.

One core for every model. A system is an n x n Hermitian H (dense or any scipy.sparse
format), the (n, 2) positions of its basis states (orbitals repeat their site's
position), a Fermi energy, and either ``period=(Lx, Ly)`` (H lives on a torus: its
wrap-around bonds are included, and a bond crosses the edge along its shortest image) or
``period=None`` (an open flake). Two methods, one table (``ChernResult``):

- ``bott``: the dense Loring-Hastings Bott index on the torus,
  C = Im Tr log(V U V^dagger U^dagger) / 2 pi with U, V = exp(2 pi i x / Lx),
  exp(2 pi i y / Ly) projected on the states below the Fermi energy (the opposite sign
  of pybott's). Exact on every torus; O(n^3).
- ``localizer``: the spectral localizer L = [[H - E_F, kappa (X - iY)], [kappa (X + iY),
  -(H - E_F)]] (Loring and Schulz-Baldes), C = -signature(L) / 2, the sign that makes it
  the Bott label. A torus is first tiled Mx x My (copies joined along the shortest
  images, open outer boundary, each side at least ``min_tiled_size``) so that around
  the centre the localizer sees the periodic system; a flake is used as it is, centred
  on its bounding box. The signature comes from inertias of sparse LDL^T factors
  (``rgtopo.physics.solvers``), never from eigenvalues. L is made real where that is exact:
  a class-D input (H = i A with A real, or a BdG matrix [[h, D], [D^dagger, -h^T]] in
  the Nambu basis, at E_F = 0) by the Majorana basis, W^dagger L W = [[kappa X,
  -(A + kappa Y)], [A - kappa Y, -kappa X]], the size of L; any other by
  [[Re L, -Im L], [Im L, Re L]], which has every eigenvalue of L twice.

The certificate means the same for every model: no eigenvalue of the localizer within
w = ``min_gap_ratio`` * kappa of 0 (two exact factorizations, Weyl: the index of every
Hamiltonian within w), on a torus a spectral gap of at least ``min_gap`` around E_F
(inertias of H - (E_F +- min_gap)) and a torus side of at least ``min_certified_size``,
and with ``views: 2`` the same index at a second centre (the torus shifted by half a
period before tiling; a flake's centre moved by an eighth of its extent). The memory of a
factorization is estimated before it starts; above ``max_memory_gb`` the label is refused
with one line (``MemoryLimitError``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from ..errors import MemoryLimitError, SpecError
from ..params import LABEL_METHODS, LabelingParams
from .spectral_localizer import localizer_labels, localizer_table
from .system import ChernResult, System, systems_from

METHODS = LABEL_METHODS
_DENSE_BYTES_PER_ENTRY = 16 * 6  # complex H, its eigenvectors and the projected products


# ---------------------------------------------------------------- dense Bott index

def bott_index(system: System) -> tuple[float, float]:
    """(raw Bott sum, min |E - E_F|) of a torus by dense diagonalization.

    C = Im Tr log(V U V^dagger U^dagger) / 2 pi, U and V the projected exp(2 pi i x / Lx)
    and exp(2 pi i y / Ly); the sum is over the eigenvalues of the product.
    """
    if system.period is None:
        raise SpecError("the Bott index needs a torus: give period=(Lx, Ly) (an open flake "
                        "is labeled by method='localizer')")
    h = system.hamiltonian.toarray()
    # LAPACK's MRRR driver: 5.8 s for 2,048 complex states on one core, numpy's default
    # divide-and-conquer 12.5 s (OpenBLAS, 2026-12-07)
    energies, vectors = scipy.linalg.eigh(h, driver="evr")
    gap = float(np.min(np.abs(energies - system.fermi_energy)))
    occupied = vectors[:, energies < system.fermi_energy]
    if occupied.shape[1] == 0:
        return 0.0, gap
    phase_x = np.exp(2j * np.pi * system.positions[:, 0] / system.period[0])
    phase_y = np.exp(2j * np.pi * system.positions[:, 1] / system.period[1])
    u = occupied.conj().T @ (phase_x[:, None] * occupied)
    v = occupied.conj().T @ (phase_y[:, None] * occupied)
    lam = np.linalg.eigvals(v @ u @ v.conj().T @ u.conj().T)
    return float(np.sum(np.angle(lam)) / (2 * np.pi)), gap


def bott_table(systems: Sequence[System], params: LabelingParams, *,
               threads: int | None = None,
               progress: Callable[[int], None] | None = None) -> ChernResult:
    """Dense Bott labels of tori as the common table (BLAS on ``threads`` cores)."""
    raw, gap = np.empty(len(systems)), np.empty(len(systems))
    limit = params.localizer.max_memory_gb
    for system in systems:
        need = _DENSE_BYTES_PER_ENTRY * system.states**2 / 1e9
        if need > limit:
            raise MemoryLimitError(f"the dense Bott index of {system.states} states needs about "
                                   f"{need:.1f} GB, above max_memory_gb = {limit:g}; use "
                                   "method='localizer'")
    with threadpool_limits(limits=threads, user_api="blas"):
        for i, system in enumerate(systems):
            raw[i], gap[i] = bott_index(system)
            if progress is not None:
                progress(i + 1)
    chern = np.rint(raw).astype(np.int64)
    deviation = np.abs(raw - chern)
    count = len(systems)
    gapped = gap >= params.min_gap
    return ChernResult(chern, gapped & (deviation <= params.max_bott_deviation),
                       np.full(count, "bott"), gapped, gap, deviation,
                       np.full(count, np.nan), np.full(count, np.nan), np.zeros(count, np.int64))


def resolve_method(method: str, system: System, params: LabelingParams) -> str:
    """The method for one system: ``auto`` is the dense Bott index on tori of fewer than
    ``params.auto_max_states`` states, the localizer otherwise (and on every flake)."""
    if method not in METHODS:
        raise SpecError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "auto":
        small = system.period is not None and system.states < params.auto_max_states
        return "bott" if small else "localizer"
    if method == "bott" and system.period is None:
        raise SpecError("method 'bott' needs a torus: give period=(Lx, Ly)")
    return method


def hamiltonian_chern(hamiltonian, positions=None, *, period=None, fermi_energy: float = 0.0,
                      method: str = "auto", threads: int | None = None,
                      params: LabelingParams | None = None, kwant_params: dict | None = None,
                      progress: Callable[[int], None] | None = None,
                      log: Callable[[str], None] | None = None) -> ChernResult:
    """Certified Chern numbers of any 2D lattice Hamiltonian (one row per system).

    hamiltonian: an n x n Hermitian matrix (dense or scipy.sparse), a ``Model`` (H,
    positions, period; what ``rgtopo.models`` builds), a finalized kwant system (positions from its sites; ``kwant_params`` are its parameters), or a list of
    kwant systems and tuples (H, positions[, period[, fermi_energy]]). positions: (n, 2),
    one row per basis state. period: (Lx, Ly) for a torus, None for an open flake.
    method: ``bott`` (dense, tori only), ``localizer`` or ``auto``. threads: cores (BLAS
    for the Bott index; systems at once, or the solver's threads, for the localizer).
    params: the labeling rule (default ``LabelingParams()``, config/config.yaml's values).
    """
    params = LabelingParams() if params is None else params
    if threads is not None and int(threads) < 1:
        raise SpecError(f"threads must be >= 1, got {threads}")
    systems = systems_from(hamiltonian, positions, period=period, fermi_energy=fermi_energy,
                           kwant_params=kwant_params)
    if not systems:
        raise SpecError("hamiltonian: an empty list; give at least one system")
    chosen = [resolve_method(method, s, params) for s in systems]
    parts: list[tuple[np.ndarray, ChernResult]] = []
    done = [0, 0]

    def tick(which: int):
        def report(count: int):
            done[which] = count
            if progress is not None:
                progress(sum(done))
        return report

    for which, name in enumerate(("bott", "localizer")):
        index = np.array([i for i, c in enumerate(chosen) if c == name], dtype=np.int64)
        if not len(index):
            continue
        picked = [systems[i] for i in index]
        if name == "bott":
            table = bott_table(picked, params, threads=threads, progress=tick(which))
        else:
            table = localizer_table(localizer_labels(picked, params.localizer, params.min_gap,
                                                     threads=threads, progress=tick(which),
                                                     log=log))
        parts.append((index, table))
    order = np.argsort(np.concatenate([index for index, _ in parts]))
    merged = ChernResult.concatenate([table for _, table in parts])
    return ChernResult(*(np.asarray(col)[order] for col in merged))
