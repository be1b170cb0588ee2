"""Disordered p+ip lattices and their Bogoliubov-de Gennes Hamiltonians.

Conventions (fixed by the authors' MATLAB code and confirmed on their 480,000
reference labels, see ``shared/reference/ml-topology/README.md``):

* a lattice is an array (N, N, 3): axis 0 is x, axis 1 is y, channels
  (mu, t_minus, Delta); t_plus = 1;
* site (x, y) has matrix index k = x * N + y (y runs fastest);
* hoppings t_x = (1 + t_minus) / 2 on the bond (x, y) -> (x + 1, y) and
  t_y = (1 - t_minus) / 2 on (x, y) -> (x, y + 1), periodic; on-site -mu;
* pairing Delta on x-bonds and i Delta on y-bonds, antisymmetrized (factor 1/2);
* BdG matrix [[h, D], [D^dagger, -h]] of size 2 N^2.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import LatticeError, SpecError
from ..params import BASE_SIZE

CHANNELS = ("mu", "t_minus", "Delta")
T_PLUS = 1.0


def as_lattice_batch(lattices, *, name: str = "lattices") -> np.ndarray:
    """Validate and return a C-contiguous float64 batch of shape (B, N, N, 3).

    A single lattice (N, N, 3) becomes a batch of one. Raises LatticeError naming
    the problem (rank, shape, size, non-finite values).
    """
    arr = np.asarray(lattices)
    if arr.dtype.kind not in "fiu":
        raise LatticeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise LatticeError(
            f"{name}: expected shape (N, N, 3) or (B, N, N, 3), got {arr.shape}"
        )
    if arr.shape[-1] != 3:
        raise LatticeError(
            f"{name}: last axis must hold the 3 channels {CHANNELS}, got {arr.shape[-1]}"
        )
    if arr.shape[1] != arr.shape[2]:
        raise LatticeError(f"{name}: lattice must be square N x N, got {arr.shape[1:3]}")
    if arr.shape[1] < 2:
        raise LatticeError(f"{name}: linear size N must be >= 2, got N = {arr.shape[1]}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr).all(axis=(1, 2, 3))))
        raise LatticeError(f"{name}: {bad} lattice(s) contain NaN or inf")
    return arr


def rg_steps(size: int) -> int:
    """k such that size = 4 * 2^k; LatticeError naming the nearest valid sizes otherwise."""
    k = math.log2(size / BASE_SIZE) if size >= BASE_SIZE else -1
    if k < 0 or k != int(k):
        below = BASE_SIZE * 2 ** max(int(math.floor(math.log2(max(size, 1) / BASE_SIZE))), 0)
        nearest = (f"{below} or {2 * below}" if BASE_SIZE < size else str(BASE_SIZE))
        raise LatticeError(
            f"lattice size {size} cannot be reached by the RG chain: sizes must be "
            f"4 * 2^k (4, 8, 16, ...); nearest valid sizes: {nearest}"
        )
    return int(k)



def level_code(levels: int, level: int, count: int) -> np.ndarray:
    """``count`` one-hot rows (float32) saying a lattice was coarse-grained ``level`` times."""
    if not 0 <= level < levels:
        raise SpecError(f"level {level} outside the base network's levels 0..{levels - 1}")
    return np.tile(np.eye(levels, dtype=np.float32)[level], (int(count), 1))

def clean_lattice(n: int, mu: float, t_minus: float, delta: float) -> np.ndarray:
    """A disorder-free N x N lattice with the given uniform parameters."""
    if int(n) < 2:
        raise LatticeError(f"linear size N must be >= 2, got {n}")
    out = np.empty((int(n), int(n), 3))
    out[..., 0], out[..., 1], out[..., 2] = mu, t_minus, delta
    return out


@numba.njit(cache=True)
def _blocks(lattice):
    """Real blocks h, D_r, D_i of the BdG matrix (D = D_r + i D_i)."""
    n_side = lattice.shape[0]
    m = n_side * n_side
    h = np.zeros((m, m))
    d_r = np.zeros((m, m))
    d_i = np.zeros((m, m))
    for x in range(n_side):
        for y in range(n_side):
            j = x * n_side + y
            j_x = ((x + 1) % n_side) * n_side + y
            j_y = x * n_side + (y + 1) % n_side
            mu, t_minus, delta = lattice[x, y, 0], lattice[x, y, 1], lattice[x, y, 2]
            h[j, j] -= mu
            t_x = 0.5 * (T_PLUS + t_minus)
            t_y = 0.5 * (T_PLUS - t_minus)
            h[j, j_x] += t_x
            h[j_x, j] += t_x
            h[j, j_y] += t_y
            h[j_y, j] += t_y
            d_r[j, j_x] += 0.5 * delta
            d_r[j_x, j] -= 0.5 * delta
            d_i[j, j_y] += 0.5 * delta
            d_i[j_y, j] -= 0.5 * delta
    return h, d_r, d_i


@numba.njit(cache=True)
def _majorana_matrix(lattice):
    """Real antisymmetric A with H_Majorana = i A (same spectrum as the BdG H).

    The Majorana basis (gamma_1 = c + c^dagger, gamma_2 = -i (c - c^dagger) per
    site) is local, so position operators stay diagonal with the same phases.
    """
    h, d_r, d_i = _blocks(lattice)
    m = h.shape[0]
    a = np.empty((2 * m, 2 * m))
    a[:m, :m] = d_i
    a[:m, m:] = h - d_r
    a[m:, :m] = -h - d_r
    a[m:, m:] = -d_i
    return a


def bdg_hamiltonian(lattice) -> np.ndarray:
    """Dense complex 2N^2 x 2N^2 BdG Hamiltonian [[h, D], [D^dagger, -h]] of one lattice."""
    lat = as_lattice_batch(lattice, name="lattice")
    if lat.shape[0] != 1:
        raise LatticeError(f"lattice: expected one lattice, got a batch of {lat.shape[0]}")
    h, d_r, d_i = _blocks(lat[0])
    d = d_r + 1j * d_i
    return np.block([[h, d], [d.conj().T, -h]])


def majorana_hamiltonian(lattice) -> np.ndarray:
    """Real antisymmetric A (2N^2 x 2N^2) such that the BdG Hamiltonian is unitarily i A."""
    lat = as_lattice_batch(lattice, name="lattice")
    if lat.shape[0] != 1:
        raise LatticeError(f"lattice: expected one lattice, got a batch of {lat.shape[0]}")
    return _majorana_matrix(lat[0])


def average_pool(lattices) -> np.ndarray:
    """Plain decimation: 2 x 2 average pooling of each channel, (B, 2N, 2N, 3) -> (B, N, N, 3)."""
    arr = np.asarray(lattices, dtype=np.float64)
    if arr.ndim != 4 or arr.shape[1] % 2 or arr.shape[2] % 2:
        raise LatticeError(f"average_pool: expected (B, 2N, 2N, C), got {arr.shape}")
    b, n2, _, c = arr.shape
    return arr.reshape(b, n2 // 2, 2, n2 // 2, 2, c).mean(axis=(2, 4))


def decimate(lattices, disorder_factor: float = 1.0) -> np.ndarray:
    """The decimation the RG network is initialized to: 2x2 pooling, disorder shrunk locally.

    Each pooled site's deviation from the mean of its 3x3 periodic neighbourhood
    is multiplied by ``disorder_factor``. 1 is the paper's plain average pooling.
    A factor below 1 encodes that weak disorder matters less on a larger lattice
    than on a 4x4 one with the same local spread (it is irrelevant under RG), so
    the base network, which reads 4x4 disorder, is not misled by the pooled
    lattice. The map stays local and linear, as a convolution can represent it.
    """
    pooled = average_pool(lattices)
    if disorder_factor == 1.0:
        return pooled
    neighbourhood = sum(np.roll(pooled, (i, j), axis=(1, 2))
                        for i in (-1, 0, 1) for j in (-1, 0, 1)) / 9.0
    return neighbourhood + disorder_factor * (pooled - neighbourhood)
