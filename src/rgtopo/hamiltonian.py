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
  (``rgtopo.solvers``), never from eigenvalues. L is made real where that is exact:
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

import dataclasses
import functools
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from .errors import MemoryLimitError, SpecError
from .params import LabelingParams, LocalizerParams
from .solvers import InertiaSolver, counts_outside, factor_memory_gb, get_solver, inertia, \
    smallest_magnitude

METHODS = ("bott", "localizer", "auto")
COLUMNS = ("chern", "certified", "method", "gapped", "gap", "bott_deviation", "localizer_gap",
           "kappa", "tiles")
"""The columns of every labeling method's table, in order (``rgtopo chern``'s output)."""

_HERMITIAN_RTOL = 1e-8  # |H - H^dagger| allowed, relative to max |H| (then H is symmetrized)
_CLASS_D_RTOL = 1e-10  # |Re H| (or the particle-hole defect) below which H is taken as class D
_KAPPA_ENERGIES = (2.0, 16.0)  # energy scales between which kappa is the fixed rule's (p+ip)
_WRAP_FRACTION = 0.75  # a flake's bond longer than this fraction of its extent: a torus bond
_DENSE_BYTES_PER_ENTRY = 16 * 6  # complex H, its eigenvectors and the projected products


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
