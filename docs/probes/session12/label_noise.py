# Are the labels the shipped bundle misses unstable under tiny changes of the lattice?
# Each fresh seed-7 lattice of SIZE (benchmarks/fresh_check.py's set and cache, COUNT lattices) is
# relabeled after benchmarks/label_stability.py's perturbation: uniform noise of EPS times the
# config's disorder widths at that size, zero mean per lattice (the averages and the clean formula
# stay). Printed: the share of labels that change, among the bundle's right and wrong answers and by
# BdG gap; then the lattices whose label survives 4 draws at 10 % ("stable"), and the bundle on them.
# argv: size count eps...
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benchmarks"))
import numpy as np  # noqa: E402
import rgtopo  # noqa: E402
from fresh_check import fresh_set  # noqa: E402
from label_stability import relabel_changes  # noqa: E402
from rgtopo.config import load_config  # noqa: E402
from rgtopo.metrics import clean_formula  # noqa: E402
from rgtopo.params import DatasetSpec  # noqa: E402
from rgtopo.sampling import disorder_widths  # noqa: E402

SEED, THREADS = 7, 2
size, count = int(sys.argv[1]), int(sys.argv[2])
config = load_config(str(REPO / "config" / "config.yaml"), REPO)
widths = disorder_widths(DatasetSpec.from_config(config, distribution="uniform", size=size,
                                                 stream="widths"), size)
x, y, gap = fresh_set(config, size, count, SEED, REPO / "benchmarks/results/fresh_cache", THREADS)
wrong = np.rint(rgtopo.load_bundle().predict(x, batch_size=256)).astype(int) != y
dd = y != clean_formula(x)
rng = np.random.default_rng(0)
print(f"{size}x{size}, {count} lattices, disorder widths {widths.tolist()}, bundle "
      f"{100 * np.mean(~wrong):.2f} %")
for eps in (float(e) for e in sys.argv[3:]):
    flipped = relabel_changes(x, y, widths, eps, 1, rng, THREADS)[:, 0]
    print(f"eps {eps}: labels changed {100 * flipped.mean():.2f} %; among right answers "
          f"{100 * flipped[~wrong].mean():.2f} %, among wrong ones {100 * flipped[wrong].mean():.2f} % "
          f"({flipped[wrong].sum()} of {wrong.sum()})")
    for lo, hi in ((0, 0.01), (0.01, 0.1), (0.1, 0.3), (0.3, 10)):
        s = (gap >= lo) & (gap < hi)
        print(f"  gap [{lo}, {hi}): changed {100 * flipped[s].mean():.2f} % of {s.sum()}")
unstable = relabel_changes(x, y, widths, 0.1, 4, rng, THREADS).any(axis=1)
print(f"unstable at 10 % (any of 4 draws): {100 * unstable.mean():.2f} % of lattices, "
      f"{100 * unstable[dd].mean():.1f} % of the disorder-decided ones")
for name, s in (("stable", ~unstable), ("unstable", unstable)):
    print(f"  bundle on {name}: {100 * np.mean(~wrong[s]):.2f} % overall, "
          f"{100 * np.mean(~wrong[s & dd]):.1f} % of {int((s & dd).sum())} disorder-decided")
