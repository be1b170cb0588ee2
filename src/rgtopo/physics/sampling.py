"""Reproducible generators for the paper's lattice distributions.

Every random number is a pure function of (seed, dataset stream, sample index,
draw index): a vectorized SplitMix64 counter generator. Sample i is therefore
the same whether it is drawn alone, in shard 3 of 10 or in one job of 10^8,
which lets the workflow shard sampling freely.

Distributions (all constants come from the ``spec`` mapping, i.e. the config):

* ``boundary_biased`` (training, Eq. A1): (mu/2, t_minus) drawn with density
  1 / (alpha + x), x the distance to the nearest clean phase boundary, on a
  fine grid with uniform jitter inside a cell; Delta uniform;
* ``uniform`` (test): mu, t_minus, Delta means uniform in their ranges;
* ``wide_uniform`` (decimation initialization): every site and channel uniform
  in [low, high], no structure.

Disorder (first two): per site and channel uniform of full width w, minus its
lattice average; the mu width is scaled by (N / reference_size) ** exponent,
and every width by a per-lattice factor uniform in ``disorder_scale`` (the
paper: [1, 1]; a range teaches the base network what weaker and stronger
disorder do, which the RG chain's coarse lattices need).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np

from ..errors import SpecError
from ..params import DatasetSpec
from .phase_diagram import boundary_distance

DISTRIBUTIONS = ("boundary_biased", "uniform", "wide_uniform")
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MEAN_DRAWS = 4  # cell / mu, jitter / t_minus, jitter, Delta


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int, stream: str) -> int:
    """A 64-bit key for one dataset stream: the seed mixed with the stream's name."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer, got {seed!r}")
    with np.errstate(over="ignore"):
        z = np.array([seed, zlib.crc32(stream.encode())], dtype=np.uint64)
        return int(_mix(_mix(z[:1] * _GAMMA) ^ z[1:])[0])


def uniforms(key: int, first_index: int, count: int, draws: int) -> np.ndarray:
    """Uniform [0, 1) doubles, shape (count, draws), for samples first_index ... + count."""
    idx = np.arange(first_index, first_index + count, dtype=np.uint64)[:, None]
    pos = idx * np.uint64(draws) + np.arange(1, draws + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        z = _mix(np.uint64(key) + pos * _GAMMA)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _range(spec: DatasetSpec, key: str) -> tuple[float, float]:
    low, high = (float(v) for v in getattr(spec, key))
    if not low < high:
        raise SpecError(f"{key}: need low < high, got [{low}, {high}]")
    return low, high


def disorder_widths(spec: DatasetSpec | Mapping, n: int) -> np.ndarray:
    """Full disorder widths (mu, t_minus, Delta) at linear size n, mu scaled with n."""
    spec = DatasetSpec.of(spec)
    widths, scaling = spec.disorder, spec.mu_disorder_scaling
    scale = (n / float(scaling.reference_size)) ** float(scaling.exponent)
    out = np.array([widths.mu * scale, widths.t_minus, widths.Delta], dtype=float)
    if np.any(out < 0):
        raise SpecError(f"disorder widths must be >= 0, got {out.tolist()}")
    return out


def _biased_means(spec: DatasetSpec, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mu, t_minus) from the boundary-biased density of Eq. (A1)."""
    mu_lo, mu_hi = _range(spec, "mu_range")
    t_lo, t_hi = _range(spec, "t_minus_range")
    alpha = float(spec.alpha)
    cells = int(spec.density_grid)
    if alpha <= 0 or cells < 2:
        raise SpecError(f"need alpha > 0 and density_grid >= 2, got {alpha}, {cells}")
    mu_edges = np.linspace(mu_lo, mu_hi, cells + 1)
    t_edges = np.linspace(t_lo, t_hi, cells + 1)
    mu_c = 0.5 * (mu_edges[1:] + mu_edges[:-1])
    t_c = 0.5 * (t_edges[1:] + t_edges[:-1])
    density = biased_density(mu_c[:, None], t_c[None, :], alpha)
    cdf = np.cumsum(density.ravel())
    cell = np.searchsorted(cdf, u[:, 0] * cdf[-1], side="right").clip(0, cdf.size - 1)
    i, j = np.divmod(cell, cells)
    mu = mu_edges[i] + u[:, 1] * (mu_edges[1] - mu_edges[0])
    t_minus = t_edges[j] + u[:, 2] * (t_edges[1] - t_edges[0])
    return mu, t_minus


def biased_density(mu, t_minus, alpha: float):
    """Unnormalized training density 1 / (alpha + x(mu, t_minus)) of Eq. (A1)."""
    return 1.0 / (alpha + boundary_distance(mu, t_minus))


def sample_lattices(spec: DatasetSpec | Mapping, first_index: int, count: int) -> np.ndarray:
    """Samples first_index ... first_index + count - 1 of a dataset, shape (count, N, N, 3).

    spec (a ``rgtopo.params.DatasetSpec`` or its dict) holds: distribution,
    size, seed, stream, and the distribution's parameters (see config/README.md).
    """
    spec = DatasetSpec.of(spec)
    dist = spec.distribution
    if dist not in DISTRIBUTIONS:
        raise SpecError(f"unknown distribution {dist!r}; known: {', '.join(DISTRIBUTIONS)}")
    n = int(spec.size)
    if n < 2:
        raise SpecError(f"size must be >= 2, got {n}")
    if first_index < 0 or count < 0:
        raise SpecError(f"need first_index >= 0 and count >= 0, got {first_index}, {count}")
    key = stream_key(int(spec.seed), spec.stream)
    sites = n * n
    if dist == "wide_uniform":
        low, high = _range(spec, "value_range")
        u = uniforms(key, first_index, count, 3 * sites)
        return (low + (high - low) * u).reshape(count, n, n, 3)

    u = uniforms(key, first_index, count, _MEAN_DRAWS + 3 * sites)
    means = np.empty((count, 3))
    if dist == "boundary_biased":
        means[:, 0], means[:, 1] = _biased_means(spec, u)
    else:
        for c, name in ((0, "mu_range"), (1, "t_minus_range")):
            low, high = _range(spec, name)
            means[:, c] = low + (high - low) * u[:, c]
    d_lo, d_hi = _range(spec, "delta_range")
    means[:, 2] = d_lo + (d_hi - d_lo) * u[:, 3]

    noise = u[:, _MEAN_DRAWS:].reshape(count, n, n, 3) - 0.5
    noise *= disorder_widths(spec, n)
    noise -= noise.mean(axis=(1, 2), keepdims=True)
    noise *= disorder_multipliers(spec, first_index, count)[:, None, None, :]
    return means[:, None, None, :] + noise


def disorder_multipliers(spec: DatasetSpec, first_index: int, count: int) -> np.ndarray:
    """Per-lattice, per-channel factors on the disorder widths, uniform in ``disorder_scale``.

    Drawn from a stream of their own, so a dataset whose range is the single
    point [1, 1] (the paper's fixed strength) keeps every lattice it had.
    """
    low, high = (float(v) for v in spec.disorder_scale)
    if not 0.0 <= low <= high:
        raise SpecError(f"disorder_scale: need 0 <= low <= high, got [{low}, {high}]")
    if low == high:
        return np.full((count, 3), low)
    key = stream_key(int(spec.seed), f"{spec.stream}/disorder_scale")
    return low + (high - low) * uniforms(key, first_index, count, 3)
