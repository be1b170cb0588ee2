# Where the shipped bundle errs on the fresh seed-7 sets of benchmarks/fresh_check.py (labeled there if
# not cached): error rate by BdG gap (4x4, 8x8) and, at 4x4, by the distance of the lattice averages to
# the clean phase boundaries, beside that distance's share in session 7's boundary-biased training set.
import sys
from pathlib import Path

import numpy as np
import rgtopo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import CONFIG, REPO, fresh  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from fresh_check import fresh_set  # noqa: E402
from rgtopo.metrics import clean_formula  # noqa: E402
from rgtopo.phase_diagram import boundary_distance  # noqa: E402

bundle = rgtopo.load_bundle()


def table(name, key, edges, wrong, dd, extra=None):
    print(f"{name}: bin, share of lattices %, error %, errors, disorder-decided, their accuracy %"
          + (", share in training %" if extra is not None else ""))
    for lo, hi in zip(edges[:-1], edges[1:]):
        s = (key >= lo) & (key < hi)
        acc = 100 * np.mean(~wrong[s & dd]) if (s & dd).any() else float("nan")
        row = f"  [{lo}, {hi}): {100 * s.mean():5.2f} {100 * wrong[s].mean():5.2f} {wrong[s].sum():5d} {dd[s].sum():5d} {acc:5.1f}"
        if extra is not None:
            row += f" {100 * np.mean((extra >= lo) & (extra < hi)):5.1f}"
        print(row)


for size, count in ((4, 100000), (8, 10000)):
    x, y, gap = fresh_set(CONFIG, size, count, 7, REPO / "benchmarks/results/fresh_cache", 2)
    wrong = np.rint(bundle.predict(x, batch_size=4096)).astype(int) != y
    dd = y != clean_formula(x)
    print(f"{size}x{size}: accuracy {100 * np.mean(~wrong):.2f} %, {wrong.sum()} errors, "
          f"{(wrong & dd).sum()} of them disorder-decided")
    table("  by gap", gap, [0, 0.003, 0.01, 0.03, 0.1, 0.3, 10], wrong, dd)
    if size == 4:
        m = x.mean(axis=(1, 2))
        train = fresh(4, 1000000, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0))
        mt = train[0][:200000].mean(axis=(1, 2))
        table("  by boundary distance", boundary_distance(m[:, 0], m[:, 1]),
              [0, 0.02, 0.05, 0.1, 0.2, 0.4, 10], wrong, dd, boundary_distance(mt[:, 0], mt[:, 1]))
