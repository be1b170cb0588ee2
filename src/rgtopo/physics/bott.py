"""Exact Chern numbers by the Loring-Hastings Bott index, batched in Numba.

The label is C = Im sum_k log lambda_k / 2 pi over the eigenvalues of
V U V^dagger U^dagger, where U, V are exp(2 pi i x / N), exp(2 pi i y / N)
(x, y counted from 1) projected on the N^2 negative-energy BdG states
(the authors' convention, see ``lattice.py``).

Why this is fast: in the Majorana basis the BdG matrix is i A with A real and
antisymmetric, so H^2 = A^T A is real symmetric and sparse to build. One real
``eigh`` of H^2 (about 3x cheaper than the complex ``eigh`` of H) gives every
+-E pair; each pair's negative-energy state is (q - i A q / E) / sqrt(2).
Degenerate clusters (clean lattices) are resolved by a small Hermitian
eigenproblem inside the cluster. The projected operators are then N^2 x N^2,
so the final non-Hermitian eigenvalue problem is 8x smaller than the
authors' 2N^2 one.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import scipy.linalg.cython_lapack  # noqa: F401  (the LAPACK Numba calls: loaded before limiting)
from threadpoolctl import threadpool_limits

from ..errors import SpecError
from .lattice import _majorana_matrix, as_lattice_batch, bdg_hamiltonian

# Eigenvalues of H^2 closer than this (relative to the largest) form one cluster.
_CLUSTER_RTOL = 1e-8


class BottResult(NamedTuple):
    """Chern labels of a batch and the diagnostics that qualify them.

    chern: integer label per lattice (round of the raw Bott sum).
    gap: min |E| of the BdG spectrum; a label of a (near) gapless lattice is doubtful.
    deviation: |raw Bott sum - chern|; large values flag an unreliable label.
    """

    chern: np.ndarray
    gap: np.ndarray
    deviation: np.ndarray


@numba.njit(cache=True)
def _sparse_rows(a):
    """Column indices and values of the nonzeros of each row of a dense matrix."""
    n = a.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for j in range(n):
            if a[i, j] != 0.0:
                counts[i] += 1
    width = max(1, counts.max())
    cols = np.zeros((n, width), dtype=np.int64)
    vals = np.zeros((n, width))
    for i in range(n):
        k = 0
        for j in range(n):
            if a[i, j] != 0.0:
                cols[i, k] = j
                vals[i, k] = a[i, j]
                k += 1
    return counts, cols, vals


@numba.njit(cache=True)
def _occupied_states(a):
    """Negative-energy eigenvectors as rows (N^2 x 2N^2, Majorana basis) and min |E|."""
    n = a.shape[0]
    m = n // 2
    counts, cols, vals = _sparse_rows(a)
    h2 = np.zeros((n, n))
    for r in range(n):
        for p in range(counts[r]):
            for q in range(counts[r]):
                h2[cols[r, p], cols[r, q]] += vals[r, p] * vals[r, q]
    e2, q_vec = np.linalg.eigh(h2)
    q_rows = np.ascontiguousarray(q_vec.T)
    scale = max(e2[n - 1], 1e-300)
    tol = _CLUSTER_RTOL * scale
    e_floor = 1e-6 * np.sqrt(scale)
    w_rows = np.zeros((m, n), dtype=np.complex128)
    aq = np.empty(n)
    row = 0
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and (e2[stop] - e2[stop - 1] < tol or (stop - start) % 2 == 1):
            stop += 1
        size = stop - start
        energy = np.sqrt(max(e2[start], 0.0))
        if size == 2 and energy > e_floor:
            _sparse_matvec(counts, cols, vals, q_rows[start], aq)
            re, im = 1.0 / np.sqrt(2.0), -1.0 / (np.sqrt(2.0) * energy)
            for r in range(n):
                w_rows[row, r] = complex(re * q_rows[start, r], im * aq[r])
            row += 1
        else:
            qc = q_rows[start:stop]
            aqc = np.empty((size, n))
            for k in range(size):
                _sparse_matvec(counts, cols, vals, qc[k], aqc[k])
            bc = qc @ aqc.T
            hc = 0.5j * (bc - bc.T)
            _, vc = np.linalg.eigh(hc)
            half = size // 2
            w_rows[row : row + half] = np.ascontiguousarray(vc[:, :half].T) @ qc.astype(
                np.complex128
            )
            row += half
        start = stop
    return w_rows, np.sqrt(max(e2[0], 0.0))


@numba.njit(cache=True)
def _sparse_matvec(counts, cols, vals, x, out):
    for r in range(counts.size):
        acc = 0.0
        for p in range(counts[r]):
            acc += vals[r, p] * x[cols[r, p]]
        out[r] = acc


@numba.njit(cache=True)
def _bott_one(lattice):
    n_side = lattice.shape[0]
    m = n_side * n_side
    a = _majorana_matrix(lattice)
    w_rows, gap = _occupied_states(a)
    # Both projected position operators from one product W^dagger [Dx W, Dy W].
    dw = np.empty((2 * m, 2 * m), dtype=np.complex128)
    for k in range(m):
        phase_x = np.exp(2j * np.pi * (k // n_side + 1) / n_side)
        phase_y = np.exp(2j * np.pi * (k % n_side + 1) / n_side)
        for r in (k, k + m):
            for c in range(m):
                dw[r, c] = phase_x * w_rows[c, r]
                dw[r, m + c] = phase_y * w_rows[c, r]
    uv = np.conj(w_rows) @ dw
    u = np.ascontiguousarray(uv[:, :m])
    v = np.ascontiguousarray(uv[:, m:])
    uv_h = np.ascontiguousarray((u @ v).conj().T)
    lam = np.linalg.eigvals((v @ u) @ uv_h)
    raw = 0.0
    for k in range(m):
        raw += np.angle(lam[k])
    return raw / (2.0 * np.pi), gap


@numba.njit(parallel=True, cache=True)
def _bott_batch(lattices, raw, gap):
    for b in numba.prange(lattices.shape[0]):
        raw[b], gap[b] = _bott_one(lattices[b])


def chern_numbers(lattices, *, threads: int | None = None) -> BottResult:
    """Chern numbers of a lattice (N, N, 3) or a batch (B, N, N, 3) by the Bott index.

    threads: Numba threads for the parallel loop over samples (default: all
    Numba's). While the loop runs, BLAS is limited to one thread (each sample's
    linear algebra is small; BLAS threads on top of Numba's would oversubscribe
    the cores), whatever the caller's environment; both thread counts are
    restored afterwards.
    """
    lat = as_lattice_batch(lattices)
    if threads is not None and int(threads) < 1:
        raise SpecError(f"threads must be >= 1, got {threads}")
    raw = np.empty(lat.shape[0])
    gap = np.empty(lat.shape[0])
    previous = numba.get_num_threads()
    try:
        if threads is not None:
            numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
        with threadpool_limits(limits=1, user_api="blas"):
            _bott_batch(lat, raw, gap)
    finally:
        numba.set_num_threads(previous)
    chern = np.rint(raw).astype(np.int64)
    return BottResult(chern, gap, np.abs(raw - chern))


def bott_index_reference(lattice) -> float:
    """Raw Bott sum of one lattice by a direct NumPy port of the authors' MATLAB code.

    Full 2N^2 basis: eigh of the complex BdG matrix, projected exp(2 pi i x/N)
    operators padded with the identity on the empty states, eig of the full
    2N^2 product. Slow; kept as an independent check and benchmark baseline.
    """
    ham = bdg_hamiltonian(lattice)
    n = ham.shape[0]
    n_side = int(round(np.sqrt(n // 2)))
    _, psi = np.linalg.eigh(ham)
    x, y = np.divmod(np.arange(n_side * n_side), n_side)
    x_op = np.concatenate([x + 1, x + 1]) / n_side
    y_op = np.concatenate([y + 1, y + 1]) / n_side
    exp_x = psi.conj().T @ (np.exp(2j * np.pi * x_op)[:, None] * psi)
    exp_y = psi.conj().T @ (np.exp(2j * np.pi * y_op)[:, None] * psi)
    proj = np.zeros((n, n))
    proj[: n // 2, : n // 2] = np.eye(n // 2)
    eye = np.eye(n)
    u = proj @ exp_x @ proj + (eye - proj)
    v = proj @ exp_y @ proj + (eye - proj)
    prod = v @ u @ v.conj().T @ u.conj().T
    return float(np.imag(np.sum(np.log(np.linalg.eigvals(prod)))) / (2 * np.pi))
