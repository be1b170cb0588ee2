"""Upper bound of a decimate-then-label chain: the exact decimation, then the exact 4x4 Bott index.

For fresh uniform test-distribution lattices of each size (the sets and cache of
``fresh_check.py``), the exact decimation ``rgtopo.physics.lattice.decimate`` with each
disorder factor f is applied until the lattice is 4x4, and the Bott index of that
4x4 lattice stands in for the base network (no networks at all). Prints, per size
and f, the accuracy against the lattice's own label, the clean formula's, and the
accuracy on the disorder-decided lattices (label != clean formula); --csv also
writes the table.

Run: python benchmarks/exact_decimation.py [--sizes 8=4000 16=1000] [--factors 0 0.25 0.5 0.75 1]
"""

from pathlib import Path

import numpy as np
import pandas as pd

import rgtopo
from fresh_check import fresh_config, fresh_parser, fresh_set
from rgtopo.physics.lattice import decimate
from rgtopo.training.metrics import clean_formula


def main(argv=None):
    p = fresh_parser(__doc__.splitlines()[0], seed=11, sizes=["8=4000", "16=1000"])
    p.add_argument("--factors", nargs="+", type=float, default=[0.0, 0.25, 0.5, 0.75, 1.0])
    a = p.parse_args(argv)
    config = fresh_config(p, a)
    rows = []
    for item in a.sizes:
        size, count = (int(v) for v in item.split("="))
        x, y, _ = fresh_set(config, size, count, a.seed, Path(a.cache), a.threads)
        clean = clean_formula(x)
        decided = y != clean
        steps = int(np.log2(size // 4))
        for f in a.factors:
            z = x.astype(np.float64)
            for _ in range(steps):
                z = decimate(z, f)
            pred = np.asarray(rgtopo.chern_numbers(z, threads=a.threads).chern)
            rows.append({"size": size, "factor": f, "lattices": count,
                         "accuracy": 100 * np.mean(pred == y),
                         "clean_formula": 100 * np.mean(clean == y),
                         "disorder_decided": int(decided.sum()),
                         "disorder_decided_accuracy": 100 * np.mean(pred[decided] == y[decided])
                         if decided.any() else float("nan")})
    table = pd.DataFrame(rows)
    if a.csv:
        table.to_csv(a.csv, index=False)
    print("| N | f | lattices | exact decimation + exact 4x4 Bott | clean formula | "
          "disorder-decided: lattices, accuracy |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in table.itertuples():
        print(f"| {r.size} | {r.factor:g} | {r.lattices} | {r.accuracy:.2f} | "
              f"{r.clean_formula:.2f} | {r.disorder_decided}: {r.disorder_decided_accuracy:.1f} |")


if __name__ == "__main__":
    main()
