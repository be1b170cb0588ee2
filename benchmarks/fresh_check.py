"""Accuracy on fresh lattices drawn independently of the workflow's own sets.

Draws uniform test-distribution lattices with the config's physics but a seed
and stream names of their own (``fresh_<N>``, seed --seed), labels them exactly
(Bott index), caches them under --cache, and scores a model bundle (default: the
one shipped with the package) beside the three no-network baselines on the same
lattices (the statistics baseline: a workflow run's fitted trees, --statistics; its
columns are n/a where none has been fitted), with
Wilson 95 % intervals, the accuracy on the disorder-decided lattices (all of them, and
those with a BdG gap of at least the config's evaluation.min_gap), and the paired
comparison of the network with the statistics baseline (lattices only one of them gets
right, exact McNemar p). Prints one Markdown table; --csv also writes it.

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
from rgtopo.training.metrics import accuracy_summary, clean_formula
from rgtopo.params import DatasetSpec
from rgtopo.physics.sampling import sample_lattices
from rgtopo.evaluation.size_study import paired_columns
from rgtopo.training.statistics_baseline import load as load_statistics_baseline

REPO = Path(__file__).resolve().parents[1]
STATISTICS = REPO / "results" / "baseline" / "statistics_baseline.pkl"


def fresh_set(config, size: int, count: int, seed: int, cache: Path, threads: int,
              disorder_scale: tuple[float, float] = (1.0, 1.0)):
    """(lattices, labels, gaps) of a fresh uniform set, labeled once and then read from the cache
    (a cache file written before gaps were stored is labeled again). disorder_scale: each
    lattice's disorder widths times a factor uniform in this range (a stream of its own)."""
    scaled = tuple(disorder_scale) != (1.0, 1.0)
    tag = f"_scale{disorder_scale[0]:g}-{disorder_scale[1]:g}" if scaled else ""
    path = cache / f"fresh_seed{seed}_{size}x{size}_{count}{tag}.npz"
    if path.is_file():
        data = np.load(path)
        if "gap" in data:
            return data["lattices"], data["chern"], data["gap"]
    spec = DatasetSpec.from_config(config, distribution="uniform", size=size,
                                   stream=f"fresh_{size}{tag}", seed=seed,
                                   disorder_scale=tuple(disorder_scale))
    start = time.perf_counter()
    lattices = sample_lattices(spec, 0, count)
    result = rgtopo.chern_numbers(lattices, threads=threads)
    labels, gap = np.asarray(result.chern), np.asarray(result.gap)
    print(f"labeled {count} fresh {size}x{size} lattices in {time.perf_counter() - start:.0f} s",
          file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, lattices=lattices.astype(np.float32), chern=labels, gap=gap)
    return lattices.astype(np.float32), labels, gap


def fresh_parser(description: str, *, seed: int, sizes: list) -> argparse.ArgumentParser:
    """The options of every script that draws fresh sets: config, seed, sizes, threads, cache, csv."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    p.add_argument("--seed", type=int, default=seed, help="must differ from the config's seed")
    p.add_argument("--sizes", nargs="+", default=sizes, metavar="N=COUNT")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache", default=str(REPO / "benchmarks" / "results" / "fresh_cache"))
    p.add_argument("--csv", default=None)
    return p


def fresh_config(p: argparse.ArgumentParser, a: argparse.Namespace) -> dict:
    """The resolved config, after checking that the fresh seed is not the workflow's own."""
    config = load_config(a.config, REPO)
    if a.seed == config["seed"]:
        p.error(f"--seed {a.seed} is the workflow's own seed; fresh lattices need another")
    return config


def _p(value) -> str:
    """A p-value as printed: two digits, and below the floats' range as such."""
    return "< 1e-300" if value == 0 else f"{value:.2g}"


def main(argv=None):
    p = fresh_parser(__doc__.splitlines()[0], seed=7, sizes=["4=100000", "8=20000", "16=2000"])
    p.add_argument("--bundle", default=None, help="model bundle directory (default: shipped)")
    p.add_argument("--statistics", default=str(STATISTICS),
                   help="the statistics baseline a workflow run fitted "
                        "(snakemake statistics_baseline)")
    a = p.parse_args(argv)
    config = fresh_config(p, a)
    bundle = rgtopo.load_bundle(a.bundle)
    statistics = None
    if Path(a.statistics).is_file():
        statistics = load_statistics_baseline(a.statistics)
    else:
        print(f"no statistics baseline at {a.statistics} (`snakemake statistics_baseline` fits "
              "one): its columns are n/a", file=sys.stderr)
    rows = []
    for item in a.sizes:
        size, count = (int(v) for v in item.split("="))
        x, y, gap = fresh_set(config, size, count, a.seed, Path(a.cache), a.threads)
        pred = np.rint(bundle.predict(x)).astype(int)
        stats = None if statistics is None else statistics.predict(x)
        paired = ({"gained": 0, "lost": 0, "mcnemar_p": float("nan")} if stats is None
                  else paired_columns(pred, stats, y, np.ones(len(y), bool)))
        rows.append({"size": size, **accuracy_summary(
            pred, y, clean_formula(x), gap, config["evaluation"]["min_gap"], statistics=stats),
            "gained_over_statistics": paired["gained"], "lost_to_statistics": paired["lost"],
            "mcnemar_p": paired["mcnemar_p"]})
    table = pd.DataFrame(rows)
    if a.csv:
        table.to_csv(a.csv, index=False)
    f = "{:.2f}".format
    print("| N | lattices | network [95 % CI] | clean formula | majority | statistics baseline "
          "[95 % CI] | network right, statistics wrong / the reverse (McNemar p) | "
          "disorder-decided: lattices, network [95 % CI] | statistics baseline on them | "
          "gapped disorder-decided: lattices, network [95 % CI] |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in table.itertuples():
        print(f"| {r.size} | {r.lattices} | {f(r.measured_percent)} [{f(r.measured_ci_low)}, "
              f"{f(r.measured_ci_high)}] | {f(r.clean_formula_percent)} | "
              f"{f(r.majority_percent)} | {f(r.statistics_percent)} [{f(r.statistics_ci_low)}, "
              f"{f(r.statistics_ci_high)}] | {r.gained_over_statistics} / "
              f"{r.lost_to_statistics} ({_p(r.mcnemar_p)}) | {r.disorder_decided_lattices}: "
              f"{f(r.disorder_decided_percent)} [{f(r.disorder_decided_ci_low)}, "
              f"{f(r.disorder_decided_ci_high)}] | {f(r.statistics_decided_percent)} | "
              f"{r.gapped_decided_lattices}: "
              f"{f(r.gapped_decided_percent)} [{f(r.gapped_decided_ci_low)}, "
              f"{f(r.gapped_decided_ci_high)}] |")


if __name__ == "__main__":
    main()
