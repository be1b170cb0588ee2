"""Agreement of the localizer labeler with the dense Bott index, on gapped fresh lattices.

For each size N and disorder convention, draws uniform test-distribution
lattices (seed --seed, streams of their own), keeps those whose torus BdG gap
(sparse, cheap) is at least --min-gap until --count are found, labels them by
the dense Bott index (the reference; minutes per lattice at N >= 48, so the
labels are appended to a cache file as they finish and a rerun resumes), then
by the localizer rule of the config (``labeling.localizer``), and prints the
agreement, the flagged fraction and the agreement on certified labels, with
Wilson 95 % intervals.

Conventions: ``fixed`` (the 4x4 disorder widths at every N) and ``paper``
(the mu width grown as N / 4, the config's ``sampling.mu_disorder_scaling``).
--min-gap 0 keeps every lattice (gapless ones too); --rules compares localizer
rules (min_tiled_size:kappa_scale, default: the config's); --available scores
the labels cached so far instead of waiting for --count.

Run: python benchmarks/localizer_agreement.py --sizes 32=500 48=100 64=20 [--bott-only]
"""

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from rgtopo.physics.bott import chern_numbers as bott_labels
from rgtopo.config import load_config
from rgtopo.physics.localizer import bdg_gap, localizer_labels, tiles_for
from rgtopo.training.metrics import wilson_interval
from rgtopo.params import DatasetSpec, LabelingParams
from rgtopo.physics.sampling import sample_lattices

REPO = Path(__file__).resolve().parents[1]
CONVENTIONS = {"fixed": 0.0, "paper": None}  # mu-disorder exponent (None: the config's)


def convention_spec(config, size: int, convention: str, seed: int) -> DatasetSpec:
    """The test distribution at N under a disorder convention, on a stream of its own."""
    spec = DatasetSpec.from_config(config, distribution="uniform", size=size,
                                   stream=f"agreement_{convention}_{size}", seed=seed).as_dict()
    if CONVENTIONS[convention] is not None:
        spec["mu_disorder_scaling"] = {**spec["mu_disorder_scaling"],
                                       "exponent": CONVENTIONS[convention]}
    return DatasetSpec.from_dict(spec)


def gapped_set(config, size, count, convention, seed, min_gap, cache: Path, threads: int,
               available: bool = False):
    """(lattices, bott labels, gaps) of ``count`` gapped lattices; Bott labels cached as they finish."""
    path = cache / f"agreement_{convention}_seed{seed}_{size}x{size}_gap{min_gap}.npz"
    done = dict(np.load(path)) if path.is_file() else {}
    spec = convention_spec(config, size, convention, seed)
    picked = list(done.get("index", []))
    chern, gaps = list(done.get("chern", [])), list(done.get("gap", []))
    start = time.perf_counter()
    next_index = int(done["next_index"]) if "next_index" in done else 0
    while len(chern) < count and not available:
        lattice = sample_lattices(spec, next_index, 1)[0]
        next_index += 1
        if min_gap > 0 and bdg_gap(lattice) < min_gap:
            continue
        res = bott_labels(lattice, threads=threads)
        picked.append(next_index - 1)
        chern.append(int(res.chern[0]))
        gaps.append(float(res.gap[0]))
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, index=np.array(picked), chern=np.array(chern), gap=np.array(gaps),
                 next_index=next_index)
        print(f"{convention} {size}x{size}: {len(chern)}/{count} Bott labels "
              f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    index = np.array(picked[:count], dtype=np.int64)
    lattices = np.concatenate([sample_lattices(spec, int(i), 1) for i in index] or
                              [np.zeros((0, size, size, 3))])
    return lattices, np.array(chern[:count]), np.array(gaps[:count]), next_index


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    p.add_argument("--seed", type=int, default=31)
    p.add_argument("--sizes", nargs="+", default=["32=500"], metavar="N=COUNT")
    p.add_argument("--conventions", nargs="+", default=list(CONVENTIONS), choices=CONVENTIONS)
    p.add_argument("--min-gap", type=float, default=0.05)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache", default=str(REPO / "benchmarks" / "results" / "agreement_cache"))
    p.add_argument("--bott-only", action="store_true", help="only fill the Bott-label cache")
    p.add_argument("--available", action="store_true", help="score the cached labels so far")
    p.add_argument("--rules", nargs="+", default=None, metavar="SIZE:KAPPA_SCALE")
    a = p.parse_args(argv)
    config = load_config(a.config, REPO)
    labeling = LabelingParams.from_dict(config["labeling"])
    rules = [labeling.localizer] if a.rules is None else [
        dataclasses.replace(labeling.localizer, min_tiled_size=int(r.split(":")[0]),
                            kappa_scale=float(r.split(":")[1])) for r in a.rules]
    print("| convention | N | rule (tiled to, kappa scale) | lattices drawn | lattices | "
          f"gap >= {labeling.min_gap} | agree [95 % CI] | agree, gapped | flagged | "
          "agree among certified | s per lattice |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for convention in a.conventions:
        for item in a.sizes:
            size, count = (int(v) for v in item.split("="))
            x, y, gap, drawn = gapped_set(config, size, count, convention, a.seed, a.min_gap,
                                          Path(a.cache), a.threads, a.available)
            if a.bott_only or not len(x):
                continue
            for rule in rules:
                start = time.perf_counter()
                labels = localizer_labels(x, rule, labeling.min_gap, threads=a.threads)
                seconds = (time.perf_counter() - start) / len(x) * a.threads
                chern = np.array([r.chern for r in labels])
                certified = np.array([r.certified for r in labels])
                agree, gapped = chern == y, gap >= labeling.min_gap
                low, high = wilson_interval(int(agree.sum()), len(agree))
                print(f"| {convention} | {size} | {tiles_for(size, rule) * size}, "
                      f"{rule.kappa_scale} | {drawn} | {len(x)} | {int(gapped.sum())} | "
                      f"{100 * agree.mean():.2f} [{100 * low:.2f}, {100 * high:.2f}] | "
                      f"{int(agree[gapped].sum())} of {int(gapped.sum())} | "
                      f"{100 * (~certified).mean():.1f} % | "
                      f"{int((agree & certified).sum())} of {int(certified.sum())} | "
                      f"{seconds:.3g} |", flush=True)


if __name__ == "__main__":
    main()
