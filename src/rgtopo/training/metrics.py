"""Accuracy with its interval and its baselines, so no number stands alone.

A network only earns its keep where it beats what needs no network:

* the *clean formula*: the clean phase diagram (``clean_chern_number``) read at
  the lattice-averaged mu and t_minus;
* the *majority class*: always the most frequent label of the same lattices;
* the *statistics baseline*: gradient-boosted trees on per-lattice disorder statistics,
  nothing positional (``statistics_baseline``), where its predictions are given.

The strongest of them on the same lattices is the one a network is judged against
(the ``stronger_baseline`` columns).

The lattices whose label differs from the clean formula are *disorder-decided*:
only there does a correct answer show that the disorder was read. Those whose
BdG gap is at least ``min_gap`` are the *gapped* disorder-decided lattices: on
large lattices most disorder-decided labels belong to nearly gapless lattices
whose Bott index changes under a perturbation of a few percent of the disorder
(``benchmarks/label_stability.py``), so the gapped ones show what a network can
be asked to learn. Every accuracy carries a Wilson 95 % interval. Pure NumPy, no TensorFlow; Table 1
(``write_headline_table``) shows each headline number this way.
"""

from __future__ import annotations

import html

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import io
from ..errors import RgtopoError
from ..physics.lattice import BASE_SIZE
from ..physics.phase_diagram import clean_chern_number

CLEAN_FORMULA = "clean formula"
MAJORITY_CLASS = "majority class"
STATISTICS_BASELINE = "statistics baseline"


def chain_key(size: int) -> str:
    """The metrics row that measures what ``predict`` runs at linear size N: the base network
    at the base size, the selected RG epoch's chain above it."""
    n = int(size)
    return f"base_{n}x{n}" if n == BASE_SIZE else f"selected_epoch_{n}x{n}"


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion hits / n (NaNs when n is 0).

    Unlike the normal approximation it stays inside [0, 1] and is not empty
    at 0 / n or n / n, which small 32x32 sets and disorder-decided subsets reach.
    """
    hits, n = int(hits), int(n)
    if n < 0 or not 0 <= hits <= n:
        raise RgtopoError(f"need 0 <= hits <= n, got hits={hits}, n={n}")
    if n == 0:
        return math.nan, math.nan
    p, z2 = hits / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def clean_formula(lattices) -> np.ndarray:
    """Clean-phase-diagram Chern number at each lattice's averaged mu and t_minus."""
    lat = np.asarray(lattices, dtype=np.float64)
    return np.asarray(clean_chern_number(lat[..., 0].mean(axis=(1, 2)),
                                         lat[..., 1].mean(axis=(1, 2))), dtype=np.int64)


def _percent(hits: int, n: int, z: float) -> tuple[float, float, float]:
    low, high = wilson_interval(hits, n, z)
    value = hits / n if n else math.nan
    return 100 * value, 100 * low, 100 * high


@dataclass
class Tally:
    """Counts of one evaluation, added batch by batch so sets need not fit in memory.

    min_gap: the BdG gap from which a disorder-decided lattice counts as gapped
    (None: no gapped subset is counted).
    """

    min_gap: float | None = None
    lattices: int = 0
    hits: int = 0
    clean_hits: int = 0
    decided: int = 0
    decided_hits: int = 0
    gapped_decided: int = 0
    gapped_decided_hits: int = 0
    labels: Counter = field(default_factory=Counter)
    statistics: bool = False  # whether statistics-baseline predictions were added
    statistics_hits: int = 0
    statistics_decided_hits: int = 0
    statistics_gapped_hits: int = 0

    def add(self, predictions, labels, clean, gap=None, statistics=None) -> Tally:
        """Add one batch: integer predictions (None: baselines only), labels, clean formula,
        the BdG gaps (needed when ``min_gap`` is set) and the statistics baseline's
        predictions (every batch or none)."""
        labels = np.asarray(labels, dtype=np.int64).ravel()
        clean = np.asarray(clean, dtype=np.int64).ravel()
        if clean.shape != labels.shape:
            raise RgtopoError(f"{clean.size} clean-formula values for {labels.size} labels")
        decided = labels != clean
        gapped = np.zeros_like(decided)
        if self.min_gap is not None:
            if gap is None:
                raise RgtopoError("min_gap is set but no BdG gaps were given")
            gap = np.asarray(gap, dtype=np.float64).ravel()
            if gap.shape != labels.shape:
                raise RgtopoError(f"{gap.size} gaps for {labels.size} labels")
            if not np.all(np.isfinite(gap)):
                raise RgtopoError("BdG gaps must be finite")
            gapped = decided & (gap >= self.min_gap)
        if predictions is not None and np.size(predictions) != labels.size:
            raise RgtopoError(f"{np.size(predictions)} predictions for {labels.size} labels")
        if statistics is not None and np.size(statistics) != labels.size:
            raise RgtopoError(f"{np.size(statistics)} statistics-baseline predictions for "
                              f"{labels.size} labels")
        if self.lattices and (statistics is not None) != self.statistics:
            raise RgtopoError("statistics-baseline predictions must come with every batch or none")
        self.statistics = statistics is not None
        if statistics is not None:
            right = np.asarray(statistics).ravel() == labels
            self.statistics_hits += int(np.sum(right))
            self.statistics_decided_hits += int(np.sum(right & decided))
            self.statistics_gapped_hits += int(np.sum(right & gapped))
        self.lattices += labels.size
        self.clean_hits += int(np.sum(~decided))
        self.decided += int(np.sum(decided))
        self.gapped_decided += int(np.sum(gapped))
        self.labels.update(labels.tolist())
        if predictions is not None:
            right = np.asarray(predictions).ravel() == labels
            self.hits += int(np.sum(right))
            self.decided_hits += int(np.sum(right & decided))
            self.gapped_decided_hits += int(np.sum(right & gapped))
        return self

    def majority(self) -> tuple[int, int]:
        """(most frequent label, its count); ties go to the smallest label."""
        if not self.labels:
            return 0, 0
        top = max(self.labels.values())
        return min(k for k, v in self.labels.items() if v == top), top

    def baselines(self, z: float = 1.96) -> dict:
        """Accuracy of each baseline (percent, Wilson interval; the statistics baseline's NaN when
        it gave no predictions), and the strongest named (ties: the earlier in
        clean formula, majority class, statistics baseline)."""
        label, count = self.majority()
        clean = _percent(self.clean_hits, self.lattices, z)
        major = _percent(count, self.lattices, z)
        stats = _percent(self.statistics_hits, self.lattices if self.statistics else 0, z)
        scores = {CLEAN_FORMULA: clean[0], MAJORITY_CLASS: major[0], STATISTICS_BASELINE: stats[0]}
        stronger = max((k for k in scores if not math.isnan(scores[k])),
                       key=lambda k: scores[k], default=CLEAN_FORMULA)
        return {
            "clean_formula_percent": clean[0], "clean_formula_ci_low": clean[1],
            "clean_formula_ci_high": clean[2], "majority_label": label,
            "majority_percent": major[0], "majority_ci_low": major[1],
            "majority_ci_high": major[2], "statistics_percent": stats[0],
            "statistics_ci_low": stats[1], "statistics_ci_high": stats[2],
            "stronger_baseline": stronger, "stronger_baseline_percent": scores[stronger],
        }

    def summary(self, z: float = 1.96) -> dict:
        """Accuracy, baselines and the disorder-decided subsets, percentages with intervals.

        The gapped columns are NaN (0 lattices) when ``min_gap`` is None."""
        measured = _percent(self.hits, self.lattices, z)
        decided = _percent(self.decided_hits, self.decided, z)
        gapped = _percent(self.gapped_decided_hits, self.gapped_decided, z)
        stats_decided = _percent(self.statistics_decided_hits,
                                 self.decided if self.statistics else 0, z)
        stats_gapped = _percent(self.statistics_gapped_hits,
                                self.gapped_decided if self.statistics else 0, z)
        return {
            "measured_percent": measured[0], "measured_ci_low": measured[1],
            "measured_ci_high": measured[2], "lattices": self.lattices,
            **self.baselines(z),
            "disorder_decided_lattices": self.decided, "disorder_decided_percent": decided[0],
            "disorder_decided_ci_low": decided[1], "disorder_decided_ci_high": decided[2],
            "gapped_decided_lattices": self.gapped_decided, "gapped_decided_percent": gapped[0],
            "gapped_decided_ci_low": gapped[1], "gapped_decided_ci_high": gapped[2],
            "statistics_decided_percent": stats_decided[0],
            "statistics_decided_ci_low": stats_decided[1],
            "statistics_decided_ci_high": stats_decided[2],
            "statistics_gapped_percent": stats_gapped[0],
            "statistics_gapped_ci_low": stats_gapped[1],
            "statistics_gapped_ci_high": stats_gapped[2],
        }


def accuracy_summary(predictions, labels, clean, gap=None, min_gap: float | None = None,
                     z: float = 1.96, statistics=None) -> dict:
    """Tally.summary of one set of integer predictions, labels, clean-formula values
    (and BdG gaps, for the gapped subset from ``min_gap``; the statistics baseline's
    predictions, where there are some)."""
    return Tally(min_gap=min_gap).add(predictions, labels, clean, gap, statistics).summary(z)


# Table 1: the columns of the evaluation's metrics table that the headline table shows.
TABLE1_COLUMNS = [
    "key", "description", "paper_percent", "measured_percent", "measured_ci_low",
    "measured_ci_high", "stronger_baseline", "stronger_baseline_percent", "clean_formula_percent",
    "majority_label", "majority_percent", "statistics_percent", "statistics_ci_low",
    "statistics_ci_high", "disorder_decided_lattices", "disorder_decided_percent",
    "disorder_decided_ci_low", "disorder_decided_ci_high", "statistics_decided_percent",
    "statistics_decided_ci_low", "statistics_decided_ci_high", "gapped_decided_lattices",
    "gapped_decided_percent", "gapped_decided_ci_low", "gapped_decided_ci_high",
    "statistics_gapped_percent", "epoch",
    "selected_on",
    "test_lattices",
]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pct(value, low=None, high=None) -> str:
    if _missing(value):
        return "n/a"
    return f"{value:.2f}" if low is None else f"{value:.2f} [{low:.2f}, {high:.2f}]"


def headline_markdown(table, config_name: str) -> str:
    """Table 1 as Markdown: each headline number beside this run's value, interval and baselines.

    table: rows of the evaluation's metrics table (``TABLE1_COLUMNS``); brackets
    are Wilson 95 % intervals, all on the test lattices.
    """
    lines = [f"# Table 1: headline accuracies (config: {config_name})", "",
             "Test lattices only; brackets: Wilson 95 % intervals. Baselines on the same lattices: "
             "the clean formula (clean phase diagram at the lattice-averaged mu, t_minus), the "
             "majority class (always the most frequent label) and the statistics baseline "
             "(gradient-boosted trees on per-lattice disorder statistics, nothing positional); "
             "the strongest is shown, and the statistics baseline beside it. "
             "Disorder-decided: lattices whose label differs from the clean formula; gapped: "
             "those of them whose BdG gap is at least the config's evaluation.min_gap. "
             "Epochs are chosen on the validation set named, never on a test set.", "",
             "| quantity | paper (%) | this run (%) | strongest baseline (%) | statistics "
             "baseline (%) | disorder-decided: lattices | this run on them (%) | statistics "
             "baseline on them (%) | gapped disorder-decided: lattices | this run on them (%) | "
             "epoch (chosen on) | test lattices |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        epoch = "" if _missing(r.epoch) else f"{int(r.epoch)} ({r.selected_on})"
        measured = _pct(r.measured_percent, r.measured_ci_low, r.measured_ci_high)
        decided = _pct(r.disorder_decided_percent, r.disorder_decided_ci_low,
                       r.disorder_decided_ci_high)
        gapped = _pct(r.gapped_decided_percent, r.gapped_decided_ci_low,
                      r.gapped_decided_ci_high)
        stats = _pct(r.statistics_percent, r.statistics_ci_low, r.statistics_ci_high)
        stats_decided = _pct(r.statistics_decided_percent, r.statistics_decided_ci_low,
                             r.statistics_decided_ci_high)
        lines.append(
            f"| {r.description} | {_pct(r.paper_percent)} | {measured} | "
            f"{_pct(r.stronger_baseline_percent)} ({r.stronger_baseline}) | {stats} | "
            f"{int(r.disorder_decided_lattices)} | {decided} | {stats_decided} | "
            f"{int(r.gapped_decided_lattices)} | {gapped} | {epoch} | {int(r.test_lattices)} |")
    return "\n".join(lines) + "\n"


def write_headline_table(metrics, stem, config_name: str):
    """Table 1 from the metrics table (a DataFrame): ``<stem>.csv``, ``.md`` and ``.html``

    (the report shows HTML inline)."""
    stem = Path(stem)
    table = metrics[TABLE1_COLUMNS]
    io.write_frame(stem.with_suffix(".csv"), table)
    markdown = headline_markdown(table, config_name)
    io.write_text(stem.with_suffix(".md"), markdown)
    io.write_text(stem.with_suffix(".html"), markdown_table_html(markdown.splitlines()))
    return table


def markdown_table_html(lines) -> str:
    """A page of a Markdown title, paragraphs and one table (the report shows HTML inline)."""
    cells = [[html.escape(c.strip()) for c in line.strip().strip("|").split("|")]
             for line in lines if line.startswith("|") and not line.startswith("|---")]
    head = "".join(f"<th>{c}</th>" for c in cells[0])
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells[1:])
    text = [line for line in lines if line and not line.startswith("|")]
    title, paragraphs = text[0].lstrip("# "), "".join(f"<p>{html.escape(t)}</p>" for t in text[1:])
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif}}"
            "td,th{padding:.1em .6em;border-bottom:1px solid #ddd;text-align:right}"
            "td:first-child,th:first-child{text-align:left}</style></head><body>\n"
            f"<h2>{html.escape(title)}</h2>\n{paragraphs}\n<table>\n<tr>{head}</tr>\n{body}\n"
            "</table>\n</body></html>\n")

