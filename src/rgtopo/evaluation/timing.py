"""Fig. 1(b)'s benchmark: seconds per lattice of the Bott labeler and of the compound network.

Both are timed on the same machine, each after a warm-up call (Numba
compilation, graph tracing), over at least ``min_seconds`` of repeated calls.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..physics.bott import chern_numbers
from .reference import REFERENCE_DELTA


def measure_timing(base, rg, bott_sizes: Sequence[int], network_sizes: Sequence[int], *,
                   min_seconds: float, network_batch: int, seed: int, threads: int) -> pd.DataFrame:
    """Seconds per lattice of the Bott labeler and of the compound network, same machine."""
    from ..nn.chain import predict  # lazy: figures import fit_power_law without TensorFlow

    rng = np.random.default_rng(seed)

    def lattices(n, count):
        lat = np.empty((count, n, n, 3))
        lat[..., 0] = rng.uniform(-4, 4, (count, 1, 1))
        lat[..., 1] = rng.uniform(-2, 2, (count, 1, 1))
        lat[..., 2] = REFERENCE_DELTA
        return lat

    def per_lattice(fn, batch):
        fn(batch)  # warm up (compilation, graph tracing)
        done, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < min_seconds or done == 0:
            fn(batch)
            done += len(batch)
        return (time.perf_counter() - t0) / done

    rows = []
    for n in bott_sizes:
        batch = lattices(n, max(1, min(2 * threads, 4096 // n**2)))
        t = per_lattice(lambda b: chern_numbers(b, threads=threads), batch)
        rows.append({"method": "bott", "size": n, "seconds_per_lattice": t})
    for n in network_sizes:
        batch = lattices(n, max(1, min(network_batch, network_batch * 256 // n**2)))
        t = per_lattice(lambda b: predict(b, base, rg, batch_size=len(b)), batch)
        rows.append({"method": "network", "size": n, "seconds_per_lattice": t})
    return pd.DataFrame(rows)


def fit_power_law(sizes, times) -> tuple[float, float]:
    """(exponent, prefactor) of the least-squares fit times = prefactor * size^exponent."""
    slope, icept = np.polyfit(np.log(sizes), np.log(times), 1)
    return float(slope), float(np.exp(icept))
