# Are the labels the shipped bundle misses unstable under tiny changes of the lattice?
# Each fresh seed-7 lattice of SIZE (benchmarks/fresh_check.py's cache, COUNT lattices) gets uniform
# noise of EPS times the config's disorder widths at that size on every site and channel, and is
# relabeled: the share of labels that change, among the bundle's right and wrong answers and by BdG
# gap. Then the lattices whose label survives 4 draws at 10 % ("stable"), and the bundle on them.
# argv: size count eps...
import sys
from pathlib import Path
import numpy as np
import rgtopo
from rgtopo.config import load_config
from rgtopo.metrics import clean_formula
from rgtopo.params import DatasetSpec
from rgtopo.sampling import disorder_widths

REPO = Path(__file__).resolve().parents[3]
size, count = int(sys.argv[1]), int(sys.argv[2])
config = load_config(str(REPO / "config" / "config.yaml"), REPO)
widths = disorder_widths(DatasetSpec.from_config(config, distribution="uniform", size=size,
                                                 stream="noise"), size)
data = np.load(REPO / f"benchmarks/results/fresh_cache/fresh_seed7_{size}x{size}_{count}.npz")
x, y, gap = data["lattices"].astype(np.float64), data["chern"], data["gap"]
wrong = np.rint(rgtopo.load_bundle().predict(x.astype(np.float32), batch_size=256)).astype(int) != y
dd = y != clean_formula(x)
rng = np.random.default_rng(0)


def relabel(eps):
    noisy = x + eps * widths * rng.uniform(-0.5, 0.5, size=x.shape)
    return np.asarray(rgtopo.chern_numbers(noisy, threads=2).chern) != y


print(f"{size}x{size}, {count} lattices, disorder widths {widths.tolist()}, bundle "
      f"{100 * np.mean(~wrong):.2f} %")
for eps in (float(e) for e in sys.argv[3:]):
    flipped = relabel(eps)
    print(f"eps {eps}: labels changed {100 * flipped.mean():.2f} %; among right answers "
          f"{100 * flipped[~wrong].mean():.2f} %, among wrong ones {100 * flipped[wrong].mean():.2f} % "
          f"({flipped[wrong].sum()} of {wrong.sum()})")
    for lo, hi in ((0, 0.01), (0.01, 0.1), (0.1, 0.3), (0.3, 10)):
        s = (gap >= lo) & (gap < hi)
        print(f"  gap [{lo}, {hi}): changed {100 * flipped[s].mean():.2f} % of {s.sum()}")
unstable = np.zeros(len(y), bool)
for _ in range(4):
    unstable |= relabel(0.1)
print(f"unstable at 10 % (any of 4 draws): {100 * unstable.mean():.2f} % of lattices, "
      f"{100 * unstable[dd].mean():.1f} % of the disorder-decided ones")
for name, s in (("stable", ~unstable), ("unstable", unstable)):
    print(f"  bundle on {name}: {100 * np.mean(~wrong[s]):.2f} % overall, "
          f"{100 * np.mean(~wrong[s & dd]):.1f} % of {int((s & dd).sum())} disorder-decided")
