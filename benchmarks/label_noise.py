"""Are the labels a model bundle misses unstable under changes far below the disorder?

Each fresh uniform lattice of each size (the sets and cache of ``fresh_check.py``)
is relabeled after ``label_stability.py``'s perturbation: uniform noise of eps
times the config's disorder widths at that size, zero mean per lattice (the
averages and the clean formula stay). Prints the share of labels that change,
among the bundle's right and wrong answers and by BdG gap; then the lattices whose
label survives 4 draws at --stable-eps ("stable"), and the bundle's accuracy on
the stable and the unstable lattices.

Run: python benchmarks/label_noise.py [--sizes 4=100000] [--eps 0.01 0.05 0.2] [--bundle DIR]
"""

from pathlib import Path

import numpy as np

import rgtopo
from fresh_check import fresh_config, fresh_parser, fresh_set
from label_stability import relabel_changes
from rgtopo.training.metrics import clean_formula
from rgtopo.params import DatasetSpec
from rgtopo.physics.sampling import disorder_widths

GAP_BINS = ((0, 0.01), (0.01, 0.1), (0.1, 0.3), (0.3, 10))


def share(mask) -> str:
    """Percentage of a boolean array, 'n/a' when it is empty."""
    return f"{100 * np.mean(mask):.2f} %" if np.size(mask) else "n/a"


def main(argv=None):
    p = fresh_parser(__doc__.splitlines()[0], seed=7, sizes=["4=100000"])
    p.add_argument("--eps", nargs="+", type=float, default=[0.01, 0.05, 0.2],
                   help="perturbations / disorder width, one pass each")
    p.add_argument("--stable-eps", type=float, default=0.1,
                   help="a lattice is stable when 4 draws at this eps keep its label")
    p.add_argument("--bundle", default=None, help="model bundle directory (default: shipped)")
    a = p.parse_args(argv)
    config = fresh_config(p, a)
    bundle = rgtopo.load_bundle(a.bundle)
    rng = np.random.default_rng(0)
    for item in a.sizes:
        size, count = (int(v) for v in item.split("="))
        spec = DatasetSpec.from_config(config, distribution="uniform", size=size, stream="widths")
        widths = disorder_widths(spec, size)
        x, y, gap = fresh_set(config, size, count, a.seed, Path(a.cache), a.threads)
        wrong = np.rint(bundle.predict(x, batch_size=256)).astype(int) != y
        decided = y != clean_formula(x)
        print(f"{size}x{size}, {count} lattices, disorder widths {widths.tolist()}, "
              f"bundle {share(~wrong)}")
        for eps in a.eps:
            flipped = relabel_changes(x, y, widths, eps, 1, rng, a.threads)[:, 0]
            print(f"eps {eps}: labels changed {share(flipped)}; among right answers "
                  f"{share(flipped[~wrong])}, among wrong ones {share(flipped[wrong])} "
                  f"({int(flipped[wrong].sum())} of {int(wrong.sum())})")
            for lo, hi in GAP_BINS:
                s = (gap >= lo) & (gap < hi)
                print(f"  gap [{lo}, {hi}): changed {share(flipped[s])} of {int(s.sum())}")
        unstable = relabel_changes(x, y, widths, a.stable_eps, 4, rng, a.threads).any(axis=1)
        print(f"unstable at eps {a.stable_eps} (any of 4 draws): {share(unstable)} of lattices, "
              f"{share(unstable[decided])} of the disorder-decided ones")
        for name, s in (("stable", ~unstable), ("unstable", unstable)):
            print(f"  bundle on {name}: {share(~wrong[s])} overall, "
                  f"{share(~wrong[s & decided])} of {int((s & decided).sum())} disorder-decided")


if __name__ == "__main__":
    main()
