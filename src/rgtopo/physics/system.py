"""A 2D lattice Hamiltonian as the Chern core reads it, and the one table every method fills.

A ``System`` is an n x n Hermitian H (dense or any scipy.sparse format), the (n, 2) positions
of its basis states (orbitals repeat their site's position), a Fermi energy, and either a
torus ``period`` or None (an open flake). Built from arrays, kwant systems or ``Model``
records (``systems_from``); the real forms (Majorana basis for class D) the localizer uses
where they are exact live here too, beside the symmetry tests that choose them.
"""


from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import SpecError

COLUMNS = ("chern", "certified", "method", "gapped", "gap", "bott_deviation", "localizer_gap",
           "kappa", "tiles")
"""The columns of every labeling method's table, in order (``rgtopo chern``'s output)."""

_HERMITIAN_RTOL = 1e-8  # |H - H^dagger| allowed, relative to max |H| (then H is symmetrized)
_CLASS_D_RTOL = 1e-10  # |Re H| (or the particle-hole defect) below which H is taken as class D
_WRAP_FRACTION = 0.75  # a flake's bond longer than this fraction of its extent: a torus bond


class ChernResult(NamedTuple):
    """Chern labels of a batch with the certificate of each.

    chern: the integer label. certified: whether the method's certificate holds
    (both: spectral gap on the torus >= labeling.min_gap; Bott: bott_deviation <=
    max_bott_deviation; localizer: its centres agree and none of their localizers
    has an eigenvalue within localizer_gap of 0). method: "bott" or "localizer"
    per row. gapped: spectral gap around the Fermi energy on the torus >= min_gap (0 for
    an open flake, which has no torus). gap: that gap min |E - E_F| (the localizer's rows:
    NaN unless labeling.localizer.bdg_gap). bott_deviation: |raw Bott sum - chern|
    (NaN for the localizer). localizer_gap (0 where an eigenvalue lies closer),
    kappa, tiles: the localizer's certificate and rule (NaN, NaN, 0 for Bott; tiles is
    the larger of Mx, My).
    """

    chern: np.ndarray
    certified: np.ndarray
    method: np.ndarray
    gapped: np.ndarray
    gap: np.ndarray
    bott_deviation: np.ndarray
    localizer_gap: np.ndarray
    kappa: np.ndarray
    tiles: np.ndarray

    @property
    def deviation(self) -> np.ndarray:
        """The Bott deviation under the name of ``bott.BottResult`` (NaN for localizer rows)."""
        return self.bott_deviation

    @classmethod
    def concatenate(cls, parts: list[ChernResult]) -> ChernResult:
        return cls(*(np.concatenate(cols) for cols in zip(*parts)))


class Model(NamedTuple):
    """A system as a user states it: H, positions, period (None: an open flake); what the
    builders of ``rgtopo.models`` return and ``hamiltonian_chern(model)`` accepts."""

    hamiltonian: object
    positions: np.ndarray
    period: tuple[float, float] | None


@dataclasses.dataclass(frozen=True)
class System:
    """One checked input: H (CSR, complex or real), positions (n, 2), torus period or None."""

    hamiltonian: sp.csr_matrix
    positions: np.ndarray
    period: tuple[float, float] | None
    fermi_energy: float

    @property
    def states(self) -> int:
        return self.hamiltonian.shape[0]

    @functools.cached_property
    def prepared(self) -> _Prepared:
        """The matrix the localizer and the gap checks factorize, made once per system (the
        memory estimate, the localizer and the torus gap all read it)."""
        return _prepare(self)


def as_system(hamiltonian, positions, *, period=None, fermi_energy: float = 0.0,
              name: str = "hamiltonian") -> System:
    """Check and normalize one input; SpecError naming the problem in one line."""
    try:
        return _as_system(hamiltonian, positions, period, fermi_energy, name)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(f"{name}: {exc}") from None


def _as_system(hamiltonian, positions, period, fermi_energy, name: str) -> System:
    if sp.issparse(hamiltonian):
        h = sp.csr_matrix(hamiltonian)
    else:
        arr = np.asarray(hamiltonian)
        if arr.dtype.kind not in "fiuc":
            raise SpecError(f"{name}: expected a numeric matrix, got dtype {arr.dtype}")
        if arr.ndim != 2:
            raise SpecError(f"{name}: expected a square matrix, got shape {arr.shape}")
        h = sp.csr_matrix(arr)
    n = h.shape[0]
    if h.ndim != 2 or h.shape[0] != h.shape[1] or n < 1:
        raise SpecError(f"{name}: expected a square matrix, got shape {h.shape}")
    if h.dtype.kind not in "fiuc":
        raise SpecError(f"{name}: expected a numeric matrix, got dtype {h.dtype}")
    h = h.astype(np.complex128 if h.dtype.kind == "c" else np.float64)
    h.sum_duplicates()
    h.eliminate_zeros()
    if not np.all(np.isfinite(h.data)):
        raise SpecError(f"{name}: contains NaN or inf")
    scale = float(abs(h).max()) if h.nnz else 0.0
    if h.nnz and float(abs(h - h.conj().T).max()) > _HERMITIAN_RTOL * scale:
        raise SpecError(f"{name}: not Hermitian (max |H - H^dagger| = "
                        f"{float(abs(h - h.conj().T).max()):.3g})")
    h = sp.csr_matrix((h + h.conj().T) / 2)
    h.eliminate_zeros()
    if np.iscomplexobj(h.data) and h.nnz and not np.any(h.data.imag):
        h = h.real.tocsr()
    pos = np.asarray(positions, dtype=float) if positions is not None else None
    if pos is None or pos.shape != (n, 2):
        got = "none" if pos is None else f"shape {pos.shape}"
        raise SpecError(f"{name}: positions must be (n, 2) = ({n}, 2), one row per state; "
                        f"got {got}")
    if not np.all(np.isfinite(pos)):
        raise SpecError(f"{name}: positions contain NaN or inf")
    if period is not None:
        per = np.asarray(period, dtype=float).ravel()
        if per.shape != (2,) or not np.all(np.isfinite(per)) or np.any(per <= 0):
            raise SpecError(f"{name}: period must be two positive lengths (Lx, Ly), got {period!r}")
        period = (float(per[0]), float(per[1]))
    if not isinstance(fermi_energy, int | float | np.number) or not np.isfinite(fermi_energy):
        raise SpecError(f"{name}: fermi_energy must be a finite number, got {fermi_energy!r}")
    if period is None:
        _check_flake(h, pos, name)
    return System(h, np.ascontiguousarray(pos), period, float(fermi_energy))


def _check_flake(h: sp.csr_matrix, positions: np.ndarray, name: str) -> None:
    """An open flake whose bonds reach across most of it is a torus given without its period:
    its localizer would be that of a wrong geometry, so say so instead."""
    coo = h.tocoo()
    extent = positions.max(axis=0) - positions.min(axis=0)
    span = np.abs(positions[coo.col] - positions[coo.row]).max(axis=0) if coo.nnz else 0 * extent
    wide = (extent >= 4) & (span > _WRAP_FRACTION * extent)
    if np.any(wide):
        raise SpecError(f"{name}: bonds reach across {span[wide].max():.3g} of an extent of "
                        f"{extent[wide].max():.3g}: a torus? give period=(Lx, Ly)")


def from_kwant(fsys, params: dict | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """(H, positions) of a finalized kwant system: its sparse Hamiltonian and, per orbital,
    the position of its site (kwant orders a site's orbitals together, sites in order)."""
    try:
        h = fsys.hamiltonian_submatrix(sparse=True, params=params)
    except Exception as exc:  # kwant raises many types for a system it cannot evaluate
        raise SpecError(f"kwant system: cannot build its Hamiltonian ({exc})") from None
    sites = list(fsys.sites)
    norbs = [getattr(site.family, "norbs", None) for site in sites]
    if any(k is None for k in norbs):
        raise SpecError("kwant system: every site family needs norbs (kwant.lattice.square("
                        "norbs=...)), so that each state gets its site's position")
    pos = np.array([np.asarray(site.pos, dtype=float)[:2] for site in sites])
    if pos.ndim != 2 or pos.shape[1] != 2:
        raise SpecError("kwant system: sites must have 2D positions")
    return h, np.repeat(pos, norbs, axis=0)


def _is_kwant(obj) -> bool:
    return hasattr(obj, "hamiltonian_submatrix") and hasattr(obj, "sites")


def systems_from(hamiltonian, positions=None, *, period=None, fermi_energy: float = 0.0,
                 kwant_params: dict | None = None) -> list[System]:
    """Every accepted input as a list of systems: one matrix with its positions, a kwant
    system, or a list of either (list items: a kwant system or a tuple (H, positions),
    (H, positions, period) or (H, positions, period, fermi_energy))."""
    if _is_kwant(hamiltonian):
        h, pos = from_kwant(hamiltonian, kwant_params)
        return [as_system(h, pos, period=period, fermi_energy=fermi_energy)]
    if isinstance(hamiltonian, Model):
        if positions is not None or period is not None:
            raise SpecError("hamiltonian: a Model carries its positions and period; give "
                            "neither again")
        h, pos, per = hamiltonian
        return [as_system(h, pos, period=per, fermi_energy=fermi_energy)]
    if isinstance(hamiltonian, list | tuple):
        if positions is not None:
            raise SpecError("hamiltonian: with a list of systems, give each its positions in "
                            "its tuple (H, positions[, period[, fermi_energy]])")
        out = []
        for i, item in enumerate(hamiltonian):
            if _is_kwant(item):
                h, pos = from_kwant(item, kwant_params)
                out.append(as_system(h, pos, period=period, fermi_energy=fermi_energy,
                                     name=f"system {i}"))
                continue
            if not isinstance(item, tuple) or not 2 <= len(item) <= 4:
                raise SpecError(f"system {i}: expected a kwant system or a tuple (H, positions"
                                "[, period[, fermi_energy]])")
            h, pos, *rest = item
            per = rest[0] if len(rest) >= 1 else period
            ef = rest[1] if len(rest) == 2 else fermi_energy
            out.append(as_system(h, pos, period=per, fermi_energy=ef, name=f"system {i}"))
        return out
    return [as_system(hamiltonian, positions, period=period, fermi_energy=fermi_energy)]


# ---------------------------------------------------------------- real forms

def realify(m: sp.spmatrix) -> sp.csr_matrix:
    """[[Re m, -Im m], [Im m, Re m]] with index 2 * i + part: real symmetric for Hermitian m,
    every eigenvalue of m twice (so its inertia is twice m's)."""
    m = sp.coo_matrix(m)
    re, im = m.data.real, m.data.imag
    r, c = m.row, m.col
    rows = np.concatenate([2 * r, 2 * r, 2 * r + 1, 2 * r + 1])
    cols = np.concatenate([2 * c, 2 * c + 1, 2 * c, 2 * c + 1])
    vals = np.concatenate([re, -im, im, re])
    keep = vals != 0
    n = 2 * m.shape[0]
    return sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))


def _majorana_basis(m: int) -> sp.csr_matrix:
    """Omega: Nambu basis (c_1..c_m, c_1^dagger..c_m^dagger) from the Majorana basis, index
    2 * state + k (gamma_1 = c + c^dagger, gamma_2 = -i (c - c^dagger)), unitary."""
    k = np.arange(m)
    s = 1 / math.sqrt(2)
    rows = np.concatenate([k, m + k, k, m + k])
    cols = np.concatenate([2 * k, 2 * k, 2 * k + 1, 2 * k + 1])
    vals = np.concatenate([np.full(m, s), np.full(m, s), np.full(m, 1j * s), np.full(m, -1j * s)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(2 * m, 2 * m))


def nambu_to_majorana(h: sp.spmatrix) -> sp.csr_matrix:
    """A with Omega^dagger H Omega = i A for a BdG H in the Nambu basis; each Majorana sits at
    its state's position. A is real antisymmetric exactly when H has the particle-hole
    symmetry tau_x H^* tau_x = -H; the complex result is returned, so a caller can check that
    its real part vanishes."""
    omega = _majorana_basis(h.shape[0] // 2)
    return sp.csr_matrix(-1j * (omega.conj().T @ h @ omega))


def majorana_to_nambu(a: sp.spmatrix) -> sp.csr_matrix:
    """The Nambu-basis BdG matrix Omega (i A) Omega^dagger of a real antisymmetric A."""
    omega = _majorana_basis(a.shape[0] // 2)
    return sp.csr_matrix(omega @ (1j * sp.csr_matrix(a)) @ omega.conj().T)


def majorana_form(system: System) -> tuple[sp.csr_matrix, np.ndarray] | None:
    """(A, positions per Majorana) when the system is in class D at E_F = 0, else None.

    H = i A given directly (purely imaginary), or a Nambu-basis BdG matrix with
    particle-hole symmetry whose particle and hole halves sit at the same positions.
    """
    h = system.hamiltonian
    if system.fermi_energy != 0.0 or not np.iscomplexobj(h.data):
        return None
    tol = _CLASS_D_RTOL * float(abs(h).max())
    if not np.any(np.abs(h.data.real) > tol):
        return sp.csr_matrix(h.imag), system.positions
    n = system.states
    if n % 2 or not np.array_equal(system.positions[: n // 2], system.positions[n // 2:]):
        return None
    m = n // 2
    swap = sp.bmat([[None, sp.identity(m)], [sp.identity(m), None]], format="csr")
    if float(abs(swap @ h.conj() @ swap + h).max()) > tol:
        return None
    a = nambu_to_majorana(h)
    a = sp.csr_matrix(a.real)
    a.eliminate_zeros()
    return a, np.repeat(system.positions[:m], 2, axis=0)


@dataclasses.dataclass(frozen=True)
class _Prepared:
    """What the localizer factorizes for one system: the matrix it tiles, in its real form."""

    matrix: sp.csr_matrix  # A (majorana) or H - E_F
    positions: np.ndarray
    majorana: bool


def _prepare(system: System) -> _Prepared:
    form = majorana_form(system)
    if form is not None:
        return _Prepared(form[0], form[1], True)
    h = system.hamiltonian
    if system.fermi_energy:
        h = sp.csr_matrix(h - system.fermi_energy * sp.identity(system.states))
    return _Prepared(h, system.positions, False)
