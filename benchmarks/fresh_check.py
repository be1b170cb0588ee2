"""Accuracy on fresh lattices drawn independently of the workflow's own sets.

Draws uniform test-distribution lattices with the config's physics but a seed
and stream names of their own (``fresh_<N>``, seed --seed), labels them exactly
(Bott index), caches them under --cache, and scores a model bundle (default: the
one shipped with the package) beside the two no-network baselines on the same
lattices, with Wilson 95 % intervals and the accuracy on the disorder-decided
lattices. Prints one Markdown table; --csv also writes it.

Run: python benchmarks/fresh_check.py [--bundle results/bundle] [--sizes 4=100000 8=20000 16=2000]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import rgtopo
from rgtopo.config import load_config
from rgtopo.metrics import accuracy_summary, clean_formula
from rgtopo.params import DatasetSpec
from rgtopo.sampling import sample_lattices

REPO = Path(__file__).resolve().parents[1]


def fresh_set(config, size: int, count: int, seed: int, cache: Path, threads: int):
    """(lattices, labels) of a fresh uniform set, labeled once and then read from the cache."""
    path = cache / f"fresh_seed{seed}_{size}x{size}_{count}.npz"
    if path.is_file():
        data = np.load(path)
        return data["lattices"], data["chern"]
    spec = DatasetSpec.from_config(config, distribution="uniform", size=size,
                                   stream=f"fresh_{size}", seed=seed)
    start = time.perf_counter()
    lattices = sample_lattices(spec, 0, count)
    labels = np.asarray(rgtopo.chern_numbers(lattices, threads=threads).chern)
    print(f"labeled {count} fresh {size}x{size} lattices in {time.perf_counter() - start:.0f} s",
          file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, lattices=lattices.astype(np.float32), chern=labels)
    return lattices.astype(np.float32), labels


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", default=None, help="model bundle directory (default: shipped)")
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    p.add_argument("--seed", type=int, default=7, help="must differ from the config's seed")
    p.add_argument("--sizes", nargs="+", default=["4=100000", "8=20000", "16=2000"],
                   metavar="N=COUNT")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache", default=str(REPO / "benchmarks" / "results" / "fresh_cache"))
    p.add_argument("--csv", default=None)
    a = p.parse_args(argv)
    config = load_config(a.config, REPO)
    if a.seed == config["seed"]:
        p.error(f"--seed {a.seed} is the workflow's own seed; fresh lattices need another")
    bundle = rgtopo.load_bundle(a.bundle)
    rows = []
    for item in a.sizes:
        size, count = (int(v) for v in item.split("="))
        x, y = fresh_set(config, size, count, a.seed, Path(a.cache), a.threads)
        pred = np.rint(bundle.predict(x)).astype(int)
        rows.append({"size": size, **accuracy_summary(pred, y, clean_formula(x))})
    table = pd.DataFrame(rows)
    if a.csv:
        table.to_csv(a.csv, index=False)
    f = "{:.2f}".format
    print("| N | lattices | network [95 % CI] | clean formula | majority | "
          "disorder-decided: lattices, network [95 % CI] |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in table.itertuples():
        print(f"| {r.size} | {r.lattices} | {f(r.measured_percent)} [{f(r.measured_ci_low)}, "
              f"{f(r.measured_ci_high)}] | {f(r.clean_formula_percent)} | "
              f"{f(r.majority_percent)} | {r.disorder_decided_lattices}: "
              f"{f(r.disorder_decided_percent)} [{f(r.disorder_decided_ci_low)}, "
              f"{f(r.disorder_decided_ci_high)}] |")


if __name__ == "__main__":
    main()
