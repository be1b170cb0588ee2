"""How robust are the disorder-decided labels? Re-label lattices after a tiny change of their disorder.

For fresh uniform test-distribution lattices of each size (the same sets as
``fresh_check.py``, cached there), every disorder-decided lattice (label != clean
formula) and as many of the others are copied --copies times with independent
uniform noise of eps times the disorder widths added to every site (zero mean
per lattice, so the averages and the clean formula stay), and labeled again with
the Bott index. A label that changes under a perturbation far below the disorder
itself is a property of the exact disorder configuration, not of anything a
coarse-grained (RG) description keeps; it is also the label of a nearly gapless
lattice. Prints one Markdown table; --csv also writes it.

Run: python benchmarks/label_stability.py [--sizes 4=20000 8=4000 16=1000 32=128] [--eps 0.05]
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import rgtopo
from fresh_check import fresh_config, fresh_parser, fresh_set
from rgtopo.training.metrics import clean_formula
from rgtopo.params import DatasetSpec
from rgtopo.physics.sampling import disorder_widths


def perturbed_labels(lattices, widths, eps: float, copies: int, rng, threads: int):
    """(lattices, copies) Bott labels of copies with uniform noise of eps times the disorder
    widths on every site and channel, zero mean per lattice (the averages stay)."""
    labels = np.zeros((len(lattices), copies), dtype=np.int64)
    for c in range(copies):
        noise = (rng.random(lattices.shape) - 0.5) * widths * eps
        noise -= noise.mean(axis=(1, 2), keepdims=True)
        copy = lattices.astype(np.float64) + noise
        labels[:, c] = np.asarray(rgtopo.chern_numbers(copy, threads=threads).chern)
    return labels


def relabel_changes(lattices, labels, widths, eps: float, copies: int, rng, threads: int):
    """(lattices, copies) booleans: did the Bott label of each perturbed copy change?"""
    return perturbed_labels(lattices, widths, eps, copies, rng, threads) != np.asarray(labels)[:, None]


def main(argv=None):
    p = fresh_parser(__doc__.splitlines()[0], seed=11,
                     sizes=["4=20000", "8=4000", "16=1000", "32=128"])
    p.add_argument("--eps", type=float, default=0.05, help="perturbation / disorder width")
    p.add_argument("--copies", type=int, default=2)
    p.add_argument("--max-group", type=int, default=1000,
                   help="at most this many lattices of each group are perturbed")
    a = p.parse_args(argv)
    config = fresh_config(p, a)
    min_gap = config["evaluation"]["min_gap"]
    rng = np.random.default_rng(a.seed)
    rows = []
    for item in a.sizes:
        size, count = (int(v) for v in item.split("="))
        x, y, gap = fresh_set(config, size, count, a.seed, Path(a.cache), a.threads)
        spec = DatasetSpec.from_config(config, distribution="uniform", size=size, stream="widths")
        widths = disorder_widths(spec, size)
        decided = y != clean_formula(x)
        start = time.perf_counter()
        for group, members in (("disorder-decided", np.flatnonzero(decided)),
                               ("others", np.flatnonzero(~decided))):
            members = members[:min(a.max_group, int(decided.sum()))]
            changed = relabel_changes(x[members], y[members], widths, a.eps, a.copies, rng,
                                      a.threads)
            gapless = gap[members] < min_gap
            rows.append({
                "size": size, "lattices": count, "group": group, "perturbed": len(members),
                "gapless_percent": 100 * gapless.mean(),
                "copies_changed_percent": 100 * changed.mean(),
                "any_copy_changed_percent": 100 * changed.any(axis=1).mean(),
                "gapped_copies_changed_percent": (100 * changed[~gapless].mean()
                                                  if (~gapless).any() else np.nan),
                "gapless_copies_changed_percent": (100 * changed[gapless].mean()
                                                   if gapless.any() else np.nan),
            })
        print(f"{size}x{size}: perturbed and relabeled in {time.perf_counter() - start:.0f} s",
              file=sys.stderr)
    table = pd.DataFrame(rows)
    if a.csv:
        table.to_csv(a.csv, index=False)
    f = "{:.1f}".format
    print(f"eps = {a.eps} of the disorder widths, {a.copies} copies per lattice, "
          f"gapless: BdG gap < {min_gap} (evaluation.min_gap)\n")
    print("| N | group | lattices perturbed | gapless % | copies whose label changed % | "
          "lattices with a changed copy % | changed %: gapped / gapless |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in table.itertuples():
        print(f"| {r.size} | {r.group} | {r.perturbed} | {f(r.gapless_percent)} | "
              f"{f(r.copies_changed_percent)} | {f(r.any_copy_changed_percent)} | "
              f"{f(r.gapped_copies_changed_percent)} / {f(r.gapless_copies_changed_percent)} |")


if __name__ == "__main__":
    main()
