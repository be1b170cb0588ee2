# Are the 4x4 labels the shipped bundle misses unstable under tiny changes of the lattice?
# Each of the fresh seed-7 4x4 lattices (benchmarks/fresh_check.py's cache) gets uniform noise of
# EPS times the disorder widths (mu, t_minus, Delta: 0.3, 0.2, 0.05) on every site and channel, and is
# relabeled; reported: the share of labels that change, among the lattices the bundle gets right
# and among those it gets wrong, and by BdG gap.
import sys
from pathlib import Path
import numpy as np
import rgtopo
import rgtopo.metrics

REPO = Path(__file__).resolve().parents[3]
data = np.load(REPO / "benchmarks/results/fresh_cache/fresh_seed7_4x4_100000.npz")
x, y, gap = data["lattices"].astype(np.float64), data["chern"], data["gap"]
wrong = np.rint(rgtopo.load_bundle().predict(x.astype(np.float32), batch_size=4096)).astype(int) != y
widths = np.array([0.3, 0.2, 0.05])
rng = np.random.default_rng(0)
for eps in (float(e) for e in sys.argv[1:] or ["0.01", "0.05"]):
    noisy = x + eps * widths * rng.uniform(-0.5, 0.5, size=x.shape)
    flipped = np.asarray(rgtopo.chern_numbers(noisy, threads=2).chern) != y
    print(f"eps {eps}: labels changed {100 * flipped.mean():.2f} %; among right answers "
          f"{100 * flipped[~wrong].mean():.2f} %, among wrong ones {100 * flipped[wrong].mean():.2f} % "
          f"({flipped[wrong].sum()} of {wrong.sum()})")
    for lo, hi in ((0, 0.01), (0.01, 0.1), (0.1, 0.3), (0.3, 10)):
        s = (gap >= lo) & (gap < hi)
        print(f"  gap [{lo}, {hi}): changed {100 * flipped[s].mean():.2f} % of {s.sum()}")

# the lattices whose label survives 4 independent draws of noise at 10 % of the widths ("stable"),
# and the bundle's accuracy on them and on the others
unstable = np.zeros(len(y), bool)
for _ in range(4):
    noisy = x + 0.1 * widths * rng.uniform(-0.5, 0.5, size=x.shape)
    unstable |= np.asarray(rgtopo.chern_numbers(noisy, threads=2).chern) != y
dd = y != rgtopo.metrics.clean_formula(x)
print(f"unstable at 10 % (any of 4 draws): {100 * unstable.mean():.2f} % of lattices, "
      f"{100 * unstable[dd].mean():.1f} % of the disorder-decided ones")
for name, s in (("stable", ~unstable), ("unstable", unstable)):
    print(f"  bundle on {name}: {100 * np.mean(~wrong[s]):.2f} % overall, "
          f"{100 * np.mean(~wrong[s & dd]):.1f} % of {int((s & dd).sum())} disorder-decided")
