"""Sparse LDL^T solvers behind one small interface: inertia (Sylvester's law) and solves.

The spectral localizer and the torus-gap certificate need only the inertia of real
symmetric sparse matrices (how many eigenvalues are positive, how many negative) and,
for the optional Lanczos gap, solves with the same factor. Each solver is an
``InertiaSolver``: ``available()`` and ``factorize(m) -> Inertia``. The physics asks
``get_solver(name)`` once, where its parameters name one, and hands the object down,
so choosing a solver is never a string switch inside the physics.

- ``pardiso``: MKL's PARDISO (METIS nested dissection, Bunch-Kaufman 1x1 and 2x2 pivots,
  the inertia reported by the solver). MKL is found once per process (pypardiso's search
  of the disk takes about 1.5 s); each factor then gets its own PARDISO handle.
- ``superlu``: SciPy's SuperLU with symmetric minimum-degree ordering and diagonal pivots
  only, so U's diagonal is D; everywhere, but slower and without 2x2 pivots.

A new solver is one class here with ``name``, ``available`` and ``factorize``, and its
name in ``SOLVER_NAMES`` (the config's ``labeling.localizer.solver`` choices).
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import SolverError, SpecError

_LANCZOS_TOL = 1e-3  # relative accuracy of a smallest-|eigenvalue| estimate


class Inertia(NamedTuple):
    """Inertia of a real symmetric matrix from one LDL^T factor, and solves with that factor.

    exact: the factorization pivoted without perturbation and met no zero pivot, so
    Sylvester's law applies (positive + negative = dimension).
    release: frees the factor (PARDISO keeps it outside Python's memory); idempotent.
    """

    positive: int
    negative: int
    solve: Callable[[np.ndarray], np.ndarray]
    exact: bool
    release: Callable[[], None]

    @property
    def signature(self) -> int:
        return self.positive - self.negative


class InertiaSolver:
    """A sparse symmetric indefinite factorization that reports the inertia."""

    name = ""

    def available(self) -> bool:
        return True

    def compact(self, m: sp.csr_matrix) -> sp.csr_matrix:
        """The form of a symmetric m to keep between factorizations (what ``factorize`` reads)."""
        return m

    def factorize(self, m: sp.csr_matrix, shift: float = 0.0) -> Inertia:
        """The inertia of m - shift I (m real symmetric CSR, or its ``compact`` form)."""
        raise NotImplementedError


# PARDISO settings (MKL iparm, 1-based): user values, METIS nested dissection, pivots
# perturbed below 1e-8 (counted in iparm 14, which voids the inertia), Bunch-Kaufman 1x1 and
# 2x2 pivoting; iparm 22 and 23 then report the numbers of positive and negative eigenvalues.
# MKL reports the inertia for real symmetric indefinite matrices (mtype -2) only: for complex
# Hermitian ones (mtype -4) iparm 22/23 stay 0, and the signs of pardiso_getdiag's diagonal
# with 1x1 pivots gave a wrong inertia on a 2,000 x 2,000 random matrix (2026-12-07), which
# is why complex matrices are made real before they get here (rgtopo.physics.hamiltonian).
_PARDISO_IPARM = {1: 1, 2: 2, 10: 8, 11: 1, 13: 1, 21: 1}
_REAL_SYMMETRIC_INDEFINITE = -2
_MKL_LOCK = threading.Lock()
_MKL: list = []  # the pardiso entry point, found once


def _pardiso_function():
    with _MKL_LOCK:
        if not _MKL:
            from pypardiso import PyPardisoSolver  # lazy: optional, x86-64 only

            fn = PyPardisoSolver().libmkl.pardiso
            ptr, i32 = ctypes.POINTER, ctypes.POINTER(ctypes.c_int32)
            fn.argtypes = [ptr(ctypes.c_int64), i32, i32, i32, i32, i32, ctypes.c_void_p, i32, i32,
                           i32, i32, i32, i32, ctypes.c_void_p, ctypes.c_void_p, i32]
            fn.restype = None
            _MKL.append(fn)
        return _MKL[0]


class PardisoSolver(InertiaSolver):
    name = "pardiso"

    def available(self) -> bool:
        """pypardiso installed and MKL found (the search runs once per process)."""
        try:
            _pardiso_function()
        except (ImportError, OSError, AttributeError):
            return False
        return True

    def compact(self, m: sp.csr_matrix) -> sp.csr_matrix:
        """The upper triangle: PARDISO reads no more, and a 512x512 QWZ localizer's full matrix
        is 0.55 GB that need not stay alive beside the factor."""
        return sp.triu(m, format="csr")

    def factorize(self, m: sp.csr_matrix, shift: float = 0.0) -> Inertia:
        n = m.shape[0]
        strict = sp.triu(m, k=1, format="csr")  # the upper triangle, the diagonal put first below
        strict.sort_indices()
        ia = (strict.indptr + np.arange(n + 1)).astype(np.int32)
        first = ia[:-1].astype(np.int64)  # PARDISO wants every diagonal entry stored
        others = np.ones(strict.nnz + n, bool)
        others[first] = False
        ja = np.empty(strict.nnz + n, np.int32)
        ja[first], ja[others] = np.arange(n), strict.indices
        data = np.empty(strict.nnz + n)
        data[first], data[others] = m.diagonal() - shift, strict.data
        del strict, others, first
        ia += 1  # PARDISO counts from 1
        ja += 1
        handle = np.zeros(64, np.int64)
        iparm = np.zeros(64, np.int32)
        for key, value in _PARDISO_IPARM.items():
            iparm[key - 1] = value
        fn = _pardiso_function()
        n = m.shape[0]
        lock = threading.Lock()

        def call(phase: int, b: np.ndarray | None = None) -> np.ndarray:
            rhs = np.zeros(n) if b is None else np.asfortranarray(b, dtype=np.float64)
            x = np.zeros_like(rhs)
            error = ctypes.c_int32(0)
            one = ctypes.c_int32(1)
            fn(handle.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), ctypes.byref(one),
               ctypes.byref(one), ctypes.byref(ctypes.c_int32(_REAL_SYMMETRIC_INDEFINITE)),
               ctypes.byref(ctypes.c_int32(phase)), ctypes.byref(ctypes.c_int32(n)),
               data.ctypes.data, ia.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
               ja.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
               np.zeros(1, np.int32).ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
               ctypes.byref(ctypes.c_int32(1 if rhs.ndim == 1 else rhs.shape[1])),
               iparm.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
               ctypes.byref(ctypes.c_int32(0)), rhs.ctypes.data, x.ctypes.data,
               ctypes.byref(error))
            if error.value != 0:
                raise SolverError(f"PARDISO failed with error {error.value} (phase {phase})")
            return np.ascontiguousarray(x)

        released = []

        def release():
            nonlocal data, ia, ja
            with lock:
                if not released:
                    released.append(True)
                    call(-1)
                    data, ia, ja = np.zeros(1), np.ones(2, np.int32), np.ones(1, np.int32)

        def solve(b: np.ndarray) -> np.ndarray:
            with lock:
                if released:
                    raise SolverError("solve with a released PARDISO factor")
                return call(33, b)

        try:
            call(12)  # analysis and numerical factorization
        except BaseException:
            release()
            raise
        positive, negative, perturbed = (int(iparm[i - 1]) for i in (22, 23, 14))
        exact = perturbed == 0 and positive + negative == n
        return Inertia(positive, negative, solve, exact, release)


class SuperLUSolver(InertiaSolver):
    name = "superlu"

    def factorize(self, m: sp.csr_matrix, shift: float = 0.0) -> Inertia:
        if shift:
            m = m - shift * sp.identity(m.shape[0], format="csr")
        lu = spla.splu(sp.csc_matrix(m), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options=dict(SymmetricMode=True))
        d = lu.U.diagonal()
        exact = bool(np.array_equal(lu.perm_r, lu.perm_c) and np.all(np.isfinite(d))
                     and np.all(d != 0))
        return Inertia(int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0)), lu.solve,
                       exact, lambda: None)


_SOLVERS = {s.name: s for s in (PardisoSolver(), SuperLUSolver())}
SOLVER_NAMES = ("auto", *_SOLVERS)


def get_solver(name: str | InertiaSolver = "auto") -> InertiaSolver:
    """The solver called ``name``; ``auto``: PARDISO where pypardiso is installed, else SuperLU."""
    if isinstance(name, InertiaSolver):
        return name
    if name not in SOLVER_NAMES:
        raise SpecError(f"solver must be one of {', '.join(SOLVER_NAMES)}, got {name!r}")
    if name == "auto":
        return _SOLVERS["pardiso"] if _SOLVERS["pardiso"].available() else _SOLVERS["superlu"]
    solver = _SOLVERS[name]
    if not solver.available():
        raise SpecError(f"solver {name!r} needs the package pypardiso (pip install pypardiso)")
    return solver


def inertia(m: sp.spmatrix, solver: str | InertiaSolver = "auto", shift: float = 0.0) -> Inertia:
    """Inertia of the real symmetric sparse ``m - shift * I``."""
    chosen = get_solver(solver)
    m = m if sp.issparse(m) and m.format == "csr" else sp.csr_matrix(m)
    if np.iscomplexobj(m.data):
        raise SpecError("inertia: expected a real symmetric matrix (make a complex one real first)")
    return chosen.factorize(m, float(shift))


def counts_outside(m: sp.spmatrix, window: float,
                   solver: str | InertiaSolver = "auto") -> tuple[int, int] | None:
    """(eigenvalues below -window, eigenvalues above +window) of symmetric m, from the inertia
    of m + window I and m - window I; None when some eigenvalue lies in [-window, window] or a
    factorization was not exact. Two factorizations, one alive at a time, and no eigensolver:
    a rigorous window."""
    below = inertia(m, solver, -window)
    below.release()
    above = inertia(m, solver, window)
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


_FACTOR_BYTES = 105.7
"""Bytes of peak memory per unknown, per sqrt(unknowns per site) and per log(sites) of one
factorization. Measured (peak less the interpreter, 2026-12-07): a 256x256 p+ip localizer (4
unknowns per site) 0.55 GB, 256x256 and 512x512 QWZ ones (8 per site, the real form of class
A) 1.6 and 7.8 GB: the fill of nested dissection on a 2D mesh grew as b^1.5 s log s for b
unknowns on s sites, and the constant is the largest of the three, so the estimate is not low."""


def factor_memory_gb(unknowns: int, per_site: float) -> float:
    """Estimated peak memory of one factorization of a 2D lattice matrix: ``unknowns`` rows,
    ``per_site`` of them per lattice site."""
    sites = max(unknowns / per_site, 2.0)
    return _FACTOR_BYTES * math.sqrt(per_site) * unknowns * math.log(sites) / 1e9
