"""Labels per second of the Bott labeler against two baselines, on the same cores.

(a) rgtopo.chern_numbers (batched Numba, real eigh of H^2 in the Majorana basis);
(b) a per-sample NumPy port of the authors' MATLAB algorithm (full 2N^2 basis);
(c) one numpy.linalg.eigh of the complex BdG matrix alone (the floor every exact
    method pays).

Run: OPENBLAS_NUM_THREADS=1 python benchmarks/bench_bott.py [--sizes 4 8 16 32] [--threads 1]
"""

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import rgtopo  # noqa: E402
from rgtopo.physics.bott import bott_index_reference  # noqa: E402
from rgtopo.physics.sampling import sample_lattices  # noqa: E402


def rate(fn, items, min_seconds):
    """Items per second of fn over a list, repeated until min_seconds have passed."""
    done, t0 = 0, time.perf_counter()
    while True:
        fn(items)
        done += len(items)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return done / elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16, 32])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--min-seconds", type=float, default=2.0)
    a = p.parse_args()
    spec = {
        "distribution": "uniform", "size": 4, "seed": 1, "stream": "bench",
        "mu_range": [-4, 4], "t_minus_range": [-2, 2], "delta_range": [0.1, 0.2],
        "disorder": {"mu": 0.3, "t_minus": 0.2, "Delta": 0.05},
        "mu_disorder_scaling": {"reference_size": 4, "exponent": 1},
    }
    rgtopo.chern_numbers(sample_lattices(spec, 0, 2), threads=a.threads)  # compile
    print(f"threads={a.threads}  (labels per second; higher is better)")
    print(f"{'N':>4} {'(a) rgtopo':>12} {'(b) MATLAB port':>16} {'(c) eigh only':>14}"
          f" {'a/b':>7} {'c/a':>7}")
    for n in a.sizes:
        spec["size"] = n
        count = max(2, int(20000 / n**4))
        lat = sample_lattices(spec, 0, count)
        ra = rate(lambda x: rgtopo.chern_numbers(x, threads=a.threads), lat, a.min_seconds)
        rb = rate(lambda x: [bott_index_reference(y) for y in x], lat[: max(2, count // 8)],
                  a.min_seconds)
        hams = [rgtopo.bdg_hamiltonian(y) for y in lat[: max(2, count // 8)]]
        rc = rate(lambda x: [np.linalg.eigh(h) for h in x], hams, a.min_seconds)
        print(f"{n:>4} {ra:>12.1f} {rb:>16.1f} {rc:>14.1f} {ra / rb:>7.2f} {rc / ra:>7.2f}")


if __name__ == "__main__":
    main()
