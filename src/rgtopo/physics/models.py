"""Lattice models as (H, positions, period) for ``rgtopo.hamiltonian_chern``: QWZ, Haldane, BdG.

Each builder returns a ``Model`` (``rgtopo.physics.system.Model``): a sparse Hermitian H, the
(n, 2) positions of its basis states, and the torus period (None for an open flake), so
``hamiltonian_chern(qwz(64, 1.0))`` labels it. They are the worked examples of
docs/usage.md, the inputs of the benchmarks against pybott, and the topological Anderson
insulator showcase (``rgtopo.anderson``). Disorder is drawn from a ``numpy`` Generator so a
seed reproduces it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import SpecError
from .lattice import as_lattice_batch
from .localizer import majorana_sparse
from .system import Model, majorana_to_nambu

_SIGMA_X = np.array([[0, 1], [1, 0]], dtype=complex)
_SIGMA_Y = np.array([[0, -1j], [1j, 0]])
_SIGMA_Z = np.array([[1, 0], [0, -1]], dtype=complex)


def _side(name: str, value, least: int = 3) -> int:
    """A torus side: at least 3 cells, so that no bond is exactly half a period long (its
    image would be ambiguous, and the two images' hoppings would be summed)."""
    if not isinstance(value, int | np.integer) or value < least:
        raise SpecError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def qwz(size: int, mass: float, *, disorder: float = 0.0, rng: np.random.Generator | None = None,
        periodic: bool = True) -> Model:
    """The Qi-Wu-Zhang Chern insulator on a size x size square lattice, two orbitals per site.

    H(k) = sin kx sigma_x + sin ky sigma_y + (mass + cos kx + cos ky) sigma_z, plus an on-site
    potential uniform in [-disorder / 2, disorder / 2] (the same on both orbitals: Anderson
    disorder, as in the topological Anderson insulator). |C| = 1 for 0 < |mass| < 2, C = 0
    for |mass| > 2. State index 2 * (x * size + y) + orbital.
    """
    n = _side("size", size)
    if disorder and rng is None:
        raise SpecError("qwz: a disordered lattice needs rng (numpy.random.default_rng(seed))")
    sites = n * n
    x, y = np.divmod(np.arange(sites), n)
    potential = rng.uniform(-0.5, 0.5, sites) * disorder if disorder else np.zeros(sites)
    h = (sp.kron(sp.diags(np.full(sites, float(mass))), _SIGMA_Z)
         + sp.kron(sp.diags(potential), sp.identity(2)))
    for dx, dy, sigma in ((1, 0, _SIGMA_X), (0, 1, _SIGMA_Y)):
        keep = np.ones(sites, bool) if periodic else ((x + dx < n) & (y + dy < n))
        src = np.arange(sites)[keep]
        dst = (((x + dx) % n) * n + (y + dy) % n)[keep]
        hop = sp.csr_matrix((np.ones(len(src)), (dst, src)), shape=(sites, sites))
        # c_{r+d}^dagger T c_r + h.c. with T = (sigma_z + i sigma)/2 gives cos k sigma_z + sin k sigma
        t = (_SIGMA_Z + 1j * sigma) / 2
        term = sp.kron(hop, t)
        h = h + term + term.conj().T
    positions = np.repeat(np.stack([x, y], axis=1).astype(float), 2, axis=0)
    return Model(sp.csr_matrix(h), positions, (float(n), float(n)) if periodic else None)


def haldane(cells_x: int, cells_y: int, *, t1: float = 1.0, t2: float = 0.2,
            phi: float = np.pi / 2, mass: float = 0.0, disorder: float = 0.0,
            rng: np.random.Generator | None = None, periodic: bool = True) -> Model:
    """The Haldane model on a honeycomb torus of cells_x x cells_y rectangular 4-site cells.

    Nearest-neighbour distance 1, rectangular cell sqrt(3) x 3, so the period is
    (sqrt(3) cells_x, 3 cells_y). Hoppings t1 (nearest) and t2 exp(+-i phi) (next-nearest,
    + for a left turn through the common neighbour), a sublattice mass +-mass and an on-site
    potential uniform in [-disorder / 2, disorder / 2]. |C| = 1 where
    |mass| < 3 sqrt(3) |t2 sin phi|.
    """
    from scipy.spatial import cKDTree  # lazy: only this builder needs it

    cx, cy = _side("cells_x", cells_x), _side("cells_y", cells_y)
    if disorder and rng is None:
        raise SpecError("haldane: a disordered lattice needs rng (numpy.random.default_rng(seed))")
    root3 = np.sqrt(3.0)
    basis = np.array([[0.0, 0.0], [root3 / 2, 0.5], [root3 / 2, 1.5], [0.0, 2.0]])
    sublattice = np.array([0, 1, 0, 1])
    i, j = np.meshgrid(np.arange(cx), np.arange(cy), indexing="ij")
    origins = np.stack([i.ravel() * root3, j.ravel() * 3.0], axis=1)
    pos = (origins[:, None, :] + basis[None, :, :]).reshape(-1, 2)
    sub = np.tile(sublattice, len(origins))
    period = np.array([cx * root3, cy * 3.0])
    count = len(pos)
    tree = cKDTree(np.mod(pos, period), boxsize=period) if periodic else cKDTree(pos)
    pairs = tree.query_pairs(1.0 + 1e-6, output_type="ndarray")
    pairs = np.concatenate([pairs, pairs[:, ::-1]])
    neighbours = [[] for _ in range(count)]
    for a, b in pairs:
        neighbours[a].append(b)

    def bond(a, b):
        d = pos[b] - pos[a]
        return d - period * np.rint(d / period) if periodic else d

    rows, cols, vals = list(pairs[:, 0]), list(pairs[:, 1]), [t1] * len(pairs)
    for a in range(count):
        for b in neighbours[a]:
            for c in neighbours[b]:
                if c == a:
                    continue
                d1, d2 = bond(a, b), bond(b, c)
                turn = np.sign(d1[0] * d2[1] - d1[1] * d2[0])
                rows.append(c)
                cols.append(a)
                vals.append(t2 * np.exp(1j * turn * phi))
    onsite = mass * np.where(sub == 0, 1.0, -1.0)
    if disorder:
        onsite = onsite + rng.uniform(-0.5, 0.5, count) * disorder
    h = sp.csr_matrix((np.array(vals, dtype=complex), (rows, cols)), shape=(count, count))
    h = h + sp.diags(onsite)
    return Model(sp.csr_matrix(h), pos, (float(period[0]), float(period[1])) if periodic else None)


def pip_bdg(lattice) -> Model:
    """The paper's p+ip lattice (N, N, 3) as a BdG matrix in the Nambu basis (c, c^dagger):
    [[h, D], [D^dagger, -h]] on the torus, particles then holes, both at the site's position.
    In class D, so the generic core takes its Majorana form (as ``chern_numbers`` does)."""
    lat = as_lattice_batch(lattice, name="lattice")
    if lat.shape[0] != 1:
        raise SpecError(f"lattice: expected one lattice, got a batch of {lat.shape[0]}")
    n = lat.shape[1]
    h = majorana_to_nambu(majorana_sparse(lat[0], periodic=True))
    x, y = np.divmod(np.arange(n * n), n)
    site = np.stack([x, y], axis=1).astype(float)
    return Model(h, np.concatenate([site, site]), (float(n), float(n)))
