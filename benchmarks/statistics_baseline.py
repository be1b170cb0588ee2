"""Does the network read the lattice, or only how disordered it is? Accuracy against disorder.

Fresh uniform lattices (the cache and streams of ``fresh_check.py``) whose disorder widths
are each scaled by a factor uniform in --scale (default [0, 2]: the range train_4 covers),
labeled exactly. Per size it scores a model bundle, the clean formula, the majority class and
the statistics baseline a workflow run fitted, on all lattices and on the disorder-decided
ones, pairs the network with the statistics baseline (exact McNemar p), and bins every
lattice by its realized mu disorder (the standard deviation of its mu over sites, divided by
that of the nominal width at its size). Prints the tables, writes --csv and draws --figure
(accuracy against realized disorder, one panel per size). The features that carry the
baseline: results/baseline/importance.csv of the run. Above 8x8 neither the RG chain nor the
statistics baseline was trained on scaled disorder.

Run: python benchmarks/statistics_baseline.py --bundle results/bundle
         [--sizes 4=40000 8=10000 16=1000] [--figure docs/figures/statistics_baseline.png]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

import rgtopo  # noqa: E402
from fresh_check import STATISTICS, fresh_config, fresh_parser, fresh_set  # noqa: E402
from rgtopo.training.metrics import Tally, accuracy_summary, clean_formula, wilson_interval  # noqa: E402
from rgtopo.evaluation.size_study import paired_columns  # noqa: E402
from rgtopo.data.shards import read_shard  # noqa: E402
from rgtopo.training.statistics_baseline import StatisticsBaseline  # noqa: E402
from rgtopo.training.statistics_baseline import load as load_statistics_baseline  # noqa: E402

ANSWERS = ("network", "statistics baseline", "clean formula", "majority class")
STYLE = {"network": ("C0", "o", "-"), "statistics baseline": ("C3", "s", "-"),
         "clean formula": ("k", "^", "--"), "majority class": ("0.5", "v", ":")}


def realized_disorder(lattices, config) -> np.ndarray:
    """Per lattice: std of mu over sites / its expectation at the nominal mu width (a uniform
    draw's w / sqrt(12), times sqrt(1 - 1 / N^2) for the lattice average the sampler removes)."""
    size = lattices.shape[1]
    scaling = config["sampling"]["mu_disorder_scaling"]
    width = config["sampling"]["disorder"]["mu"] * (
        size / scaling["reference_size"]) ** scaling["exponent"]
    expected = width / np.sqrt(12) * np.sqrt(1 - 1 / size ** 2)
    return lattices[..., 0].reshape(len(lattices), -1).std(axis=1) / expected


def binned(answers: dict, labels, disorder, bins: int) -> pd.DataFrame:
    """Accuracy of every answer per quantile bin of realized disorder, with Wilson intervals."""
    edges = np.quantile(disorder, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, disorder, side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        keep = which == b
        if not keep.any():  # tied quantile edges leave a bin empty
            continue
        for name, pred in answers.items():
            hits, n = int(np.sum(pred[keep] == labels[keep])), int(keep.sum())
            low, high = wilson_interval(hits, n)
            rows.append({"bin": b, "disorder_low": edges[b], "disorder_high": edges[b + 1],
                         "disorder_median": float(np.median(disorder[keep])), "answer": name,
                         "lattices": n, "percent": 100 * hits / n, "ci_low": 100 * low,
                         "ci_high": 100 * high,
                         "disorder_decided": int(np.sum(keep & (labels != answers[
                             "clean formula"])))})
    return pd.DataFrame(rows)


def draw(tables: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, len(tables), figsize=(4.2 * len(tables), 3.6), squeeze=False)
    for ax, (size, table) in zip(axes[0], tables.items()):
        for name in ANSWERS:
            rows = table[table["answer"] == name]
            color, marker, line = STYLE[name]
            err = np.clip([rows["percent"] - rows["ci_low"], rows["ci_high"] - rows["percent"]],
                          0, None)  # a Wilson bound at 100 % may round a hair below it
            ax.errorbar(rows["disorder_median"], rows["percent"], yerr=err, color=color,
                        marker=marker, linestyle=line, capsize=2, markersize=4, label=name)
        ax.set_title(f"{size}x{size}")
        ax.set_xlabel("realized mu disorder (std / nominal)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy (%), Wilson 95 %")
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def _p(value) -> str:
    """A p-value as printed: two digits, and below the floats' range as such."""
    return "< 1e-300" if value == 0 else f"{value:.2g}"


def compare_pooling(statistics, shards) -> None:
    """The choice of statistics_baseline.pool_above, made on validation shards."""
    parts = [read_shard(path, labeled=True) for path in shards]
    x = np.concatenate([part["lattices"] for part in parts])
    y = np.concatenate([part["chern"] for part in parts]).astype(np.int64)
    print(f"{len(y)} lattices {x.shape[1]}x{x.shape[2]}: clean formula "
          f"{100 * np.mean(clean_formula(x) == y):.2f} %")
    for pool in (False, True):
        pred = StatisticsBaseline(statistics.classifiers, statistics.quantiles, pool).predict(x)
        print(f"pool_above {str(pool).lower()}: {100 * np.mean(pred == y):.2f} %")


def main(argv=None):
    p = fresh_parser(__doc__.splitlines()[0], seed=9,
                     sizes=["4=40000", "8=10000", "16=1000"])
    p.add_argument("--bundle", default=None, help="model bundle directory (default: shipped)")
    p.add_argument("--statistics", default=str(STATISTICS))
    p.add_argument("--scale", nargs=2, type=float, default=[0.0, 2.0], metavar=("LOW", "HIGH"))
    p.add_argument("--bins", type=int, default=6)
    p.add_argument("--figure", default=None, help="PNG of accuracy against realized disorder")
    p.add_argument("--compare-pooling", nargs="+", default=None, metavar="SHARD",
                   help="instead: the baseline's accuracy on these labeled shards (e.g. "
                        "results/data/validation_16/shard_*.h5) with pool_above off and on")
    a = p.parse_args(argv)
    config = fresh_config(p, a)
    if not Path(a.statistics).is_file():
        p.error(f"no statistics baseline at {a.statistics}: run `snakemake statistics_baseline`")
    if a.compare_pooling:
        return compare_pooling(load_statistics_baseline(a.statistics), a.compare_pooling)
    bundle = rgtopo.load_bundle(a.bundle)
    statistics = load_statistics_baseline(a.statistics)
    summary, tables = [], {}
    for item in a.sizes:
        size, count = (int(v) for v in item.split("="))
        x, y, gap = fresh_set(config, size, count, a.seed, Path(a.cache), a.threads,
                              disorder_scale=tuple(a.scale))
        y = np.asarray(y, np.int64)
        clean = clean_formula(x)
        majority = Tally().add(None, y, clean).majority()[0]
        answers = {"network": np.rint(bundle.predict(x)).astype(np.int64),
                   "statistics baseline": statistics.predict(x), "clean formula": clean,
                   "majority class": np.full_like(y, majority)}
        row = accuracy_summary(answers["network"], y, clean, gap,
                               config["evaluation"]["min_gap"],
                               statistics=answers["statistics baseline"])
        decided = y != clean
        paired = paired_columns(answers["network"], answers["statistics baseline"], y, decided)
        gained, lost = paired["certified_gained"], paired["certified_lost"]  # on decided ones
        summary.append({"size": size, **row, "gained": paired["gained"], "lost": paired["lost"],
                        "mcnemar_p": paired["mcnemar_p"], "decided_gained": gained,
                        "decided_lost": lost, "decided_mcnemar_p":
                            binomtest(gained, gained + lost).pvalue if gained + lost else 1.0})
        tables[size] = binned(answers, y, realized_disorder(x, config), a.bins).assign(size=size)
    table = pd.DataFrame(summary)
    f = "{:.2f}".format
    print(f"disorder scale uniform in [{a.scale[0]:g}, {a.scale[1]:g}], seed {a.seed}")
    print("| N | lattices | network [95 % CI] | statistics baseline [95 % CI] | clean formula | "
          "majority | disorder-decided: lattices, network, statistics baseline | network "
          "right and statistics wrong / the reverse, all (decided) | McNemar p, all (decided) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in table.itertuples():
        print(f"| {r.size} | {r.lattices} | {f(r.measured_percent)} [{f(r.measured_ci_low)}, "
              f"{f(r.measured_ci_high)}] | {f(r.statistics_percent)} [{f(r.statistics_ci_low)}, "
              f"{f(r.statistics_ci_high)}] | {f(r.clean_formula_percent)} | "
              f"{f(r.majority_percent)} | {r.disorder_decided_lattices}: "
              f"{f(r.disorder_decided_percent)}, {f(r.statistics_decided_percent)} | "
              f"{r.gained} / {r.lost} ({r.decided_gained} / {r.decided_lost}) | "
              f"{_p(r.mcnemar_p)} ({_p(r.decided_mcnemar_p)}) |")
    bins = pd.concat(tables.values(), ignore_index=True)
    wide = bins.pivot_table(index=["size", "bin", "disorder_median", "lattices"],
                            columns="answer", values="percent").reset_index()
    print(wide.round(2).to_string(index=False))
    if a.csv:
        table.to_csv(a.csv, index=False)
        bins.to_csv(Path(a.csv).with_name(Path(a.csv).stem + "_by_disorder.csv"), index=False)
    if a.figure:
        draw(tables, Path(a.figure))
        print(f"figure -> {a.figure}", file=sys.stderr)


if __name__ == "__main__":
    main()
