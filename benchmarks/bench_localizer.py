"""Time per lattice and peak memory of the labeling methods, one core, N = 16 ... 512 (1024).

Each (method, N) runs in a child process of its own with one thread, so its peak
resident memory (ru_maxrss) is that of one label: (a) ``rgtopo.chern_numbers(method=
"localizer")`` (the default rule: tiled to 48 sites, one view, two factorizations of
the localizer and one of the torus gap matrix), (b) the dense Bott index
(``method="bott"``) and (c) pybott (``pip install pybott``; not a dependency) where
they finish in reasonable time (--dense-max). The lattice is one of the fixed-disorder
convention (4x4 widths) at mean mu = 1, t_minus = 0, Delta = 0.15 (topological,
gapped); a 16x16 label first warms up Numba and MKL outside the timing.

Run: python benchmarks/bench_localizer.py [--sizes 16 32 64 128 256 512] [--dense-max 32]
"""

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {here!r})
n, method = {n}, {method!r}
rng = np.random.default_rng(n)

def lattice(size):
    return np.stack([1.0 + 0.3 * rng.uniform(-0.5, 0.5, (size, size)),
                     0.2 * rng.uniform(-0.5, 0.5, (size, size)),
                     0.15 + 0.05 * rng.uniform(-0.5, 0.5, (size, size))], axis=-1)

import rgtopo
if method == "pybott":
    from bench_user import pybott_raw
    label = lambda x: int(np.rint(pybott_raw(x)))
else:
    label = lambda x: int(rgtopo.chern_numbers(x, method=method, threads=1).chern[0])
label(lattice(16))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
x = lattice(n)
t0 = time.perf_counter()
chern = label(x)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(seconds=seconds, peak_gb=peak / 1e6, warm_gb=before / 1e6, chern=chern)))
"""


def measure(n: int, method: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    code = CHILD.format(here=os.path.dirname(os.path.abspath(__file__)), n=n, method=method)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", type=int, default=[16, 32, 64, 128, 256, 512])
    p.add_argument("--dense-max", type=int, default=32, help="largest N for Bott and pybott")
    a = p.parse_args(argv)
    try:
        import pybott  # noqa: F401
        baselines = ["bott", "pybott"]
    except ImportError:
        baselines = ["bott"]
    print(f"# load average {os.getloadavg()[0]:.2f} at start, {time.strftime('%Y-%m-%d')}")
    print("| N | localizer s | localizer peak GB | " +
          " | ".join(f"{b} s | {b} peak GB" for b in baselines) + " | labels agree |")
    print("|---:|---:|---:|" + "---:|---:|" * len(baselines) + "---|")
    for n in a.sizes:
        rows = {"localizer": measure(n, "localizer")}
        for b in baselines:
            rows[b] = measure(n, b) if n <= a.dense_max else {}
        cells = []
        for name in ["localizer", *baselines]:
            r = rows[name]
            cells += ([f"{r['seconds']:.3g}", f"{r['peak_gb']:.2f}"] if "seconds" in r
                      else [r.get("error", "not run")[:40], ""])
        labels = {r["chern"] for r in rows.values() if "chern" in r}
        print(f"| {n} | " + " | ".join(cells) + f" | {'yes' if len(labels) == 1 else labels} |",
              flush=True)


if __name__ == "__main__":
    sys.exit(main() or 0)
