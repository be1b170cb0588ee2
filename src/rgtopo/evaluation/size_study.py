"""How far the RG chain carries: label fractions and the chain's accuracy against lattice size.

The paper grows the mu disorder width as N / 4 (Appendix B 2), so at large N the question
changes: the labels turn trivial and gapless. The size study draws uniform lattices at every
size under several disorder conventions (``rgtopo.params.size_study_sets``), labels them with
the certified labeler, and reports per convention and size

* the label fractions (``convention_fractions``): C != 0, disorder-decided (label != the clean
  formula), certified, and certified disorder-decided, each with a Wilson interval;
* the chain's accuracy (``size_accuracy``) beside the three baselines that need no network
  (``metrics``), on all lattices and on the certified ones, with the certified
  disorder-decided subset.

Only certified labels can judge a network: an uncertified label may flip under noise far
below the disorder. ``accuracy_record`` turns the accuracy table into the bundle card's
``accuracy_by_size`` record, which ``Bundle.accuracy_caveat`` reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io
from .bundle import Bundle
from ..errors import SpecError
from ..training.metrics import Tally, clean_formula, markdown_table_html, wilson_interval
from ..params import SizeStudyParams
from ..data.shards import read_shard
from ..training.statistics_baseline import StatisticsBaseline

FRACTIONS = ("nonzero", "disorder_decided", "certified", "gapped", "certified_decided")
"""The label fractions of ``convention_fractions``, each with ``_ci_low`` and ``_ci_high``."""
RECORD_KEYS = ("convention", "size", "lattices", "measured_percent", "measured_ci_low",
               "measured_ci_high", "stronger_baseline", "stronger_baseline_percent",
               "clean_formula_percent", "majority_percent", "statistics_percent",
               "certified_lattices", "certified_percent", "certified_ci_low", "certified_ci_high",
               "certified_stronger_baseline", "certified_stronger_baseline_percent",
               "certified_clean_formula_percent", "certified_majority_percent",
               "certified_statistics_percent", "certified_decided_lattices",
               "certified_decided_percent", "certified_decided_ci_low",
               "certified_decided_ci_high", "certified_statistics_decided_percent")
"""The columns of the accuracy table the bundle card keeps per convention and size."""


def parse_sets(args: Sequence[str]) -> dict[str, list[str]]:
    """{set name: [shard paths]} from ``NAME=PATH`` entries (a set may span several shards)."""
    sets: dict[str, list[str]] = {}
    for arg in args:
        name, sep, path = arg.partition("=")
        if not sep or not path or "_" not in name or not name.rsplit("_", 1)[1].isdigit():
            raise SpecError(f"--sets: '{arg}' is not CONVENTION_SIZE=PATH")
        sets.setdefault(name, []).append(path)
    return sets


def split_name(name: str) -> tuple[str, int]:
    """(convention, size) of a set name ``<convention>_<N>``."""
    convention, size = name.rsplit("_", 1)
    return convention, int(size)


def _read(paths: Sequence) -> dict:
    """The lattices and label columns of a set's shards, concatenated."""
    parts = [read_shard(p, labeled=True) for p in paths]
    keys = ("lattices", "chern", "certified", "gapped")
    for part, path in zip(parts, paths):
        if "certified" not in part:
            raise SpecError(f"{path}: shard without certificates (labeled before format 2)")
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def fraction_row(chern, certified, gapped, clean) -> dict:
    """The label fractions of one set with Wilson 95 % intervals (fractions, not percent)."""
    chern, clean = np.asarray(chern, np.int64), np.asarray(clean, np.int64)
    certified, gapped = np.asarray(certified, bool), np.asarray(gapped, bool)
    decided = chern != clean
    hits = {"nonzero": chern != 0, "disorder_decided": decided, "certified": certified,
            "gapped": gapped, "certified_decided": certified & decided}
    row: dict = {"lattices": int(chern.size)}
    for name in FRACTIONS:
        k = int(np.sum(hits[name]))
        low, high = wilson_interval(k, chern.size)
        row.update({name: k / chern.size if chern.size else math.nan,
                    f"{name}_ci_low": low, f"{name}_ci_high": high})
    return row


def convention_fractions(sets: Mapping[str, Sequence]) -> pd.DataFrame:
    """One row per convention and size: the label fractions of its labeled shards."""
    rows = []
    for name, paths in sets.items():
        convention, size = split_name(name)
        data = _read(paths)
        rows.append({"convention": convention, "size": size,
                     **fraction_row(data["chern"], data["certified"], data["gapped"],
                                    clean_formula(data["lattices"]))})
    return pd.DataFrame(rows).sort_values(["convention", "size"], kind="stable",
                                          ignore_index=True)


def _summary(prefix: str, predictions, labels, clean, statistics=None) -> dict:
    """Tally.summary of one subset under ``prefix``, without the gapped columns (the certified
    subset is the one that matters here)."""
    summary = Tally().add(predictions, labels, clean, statistics=statistics).summary()
    out = {}
    for key, value in summary.items():
        if key.startswith(("gapped_", "statistics_gapped_")):
            continue
        key = key.replace("measured_", "").replace("disorder_decided", "decided")
        out[f"{prefix}_{key}" if prefix else key] = value
    return out


def accuracy_row(predictions, labels, clean, certified, statistics=None) -> dict:
    """The chain's accuracy on all lattices and on the certified ones, beside the baselines
    (the statistics baseline's where its predictions are given)."""
    predictions, labels = np.asarray(predictions), np.asarray(labels, np.int64)
    clean, certified = np.asarray(clean, np.int64), np.asarray(certified, bool)
    stats = None if statistics is None else np.asarray(statistics, np.int64)
    row = {"lattices": int(labels.size), **_summary("", predictions, labels, clean, stats)}
    row = {("measured_" + k if k in ("percent", "ci_low", "ci_high") else k): v
           for k, v in row.items()}
    return {**row, "certified_lattices": int(certified.sum()),
            **_summary("certified", predictions[certified], labels[certified], clean[certified],
                       None if stats is None else stats[certified])}


def paired_columns(predicted, reference, labels, certified) -> dict:
    """Two chains on the same lattices: the lattices only ``predicted`` gets right (gained),
    only ``reference`` gets right (lost), on all and on the certified ones, and the exact
    two-sided McNemar p-value of all of them (a binomial test on the discordant lattices).
    Paired, the comparison sees differences far below either accuracy's own interval."""
    from scipy.stats import binomtest  # lazy: only the paired comparison needs it

    right, before = predicted == labels, reference == labels
    out = {}
    for prefix, keep in (("", slice(None)), ("certified_", np.asarray(certified, bool))):
        gained, lost = int(np.sum(right[keep] & ~before[keep])), int(np.sum(before[keep]
                                                                           & ~right[keep]))
        out.update({f"{prefix}gained": gained, f"{prefix}lost": lost})
    discordant = out["gained"] + out["lost"]
    out["mcnemar_p"] = binomtest(out["gained"], discordant).pvalue if discordant else 1.0
    return out


def size_accuracy(bundle: Bundle, sets: Mapping[str, Sequence], params: SizeStudyParams,
                  log: Callable[[str], None] | None = None,
                  reference: Bundle | None = None,
                  statistics: StatisticsBaseline | None = None) -> pd.DataFrame:
    """One row per accuracy convention and size (``params``): the chain's accuracy beside the
    baselines (``statistics``: the statistics baseline, the third); with a ``reference``
    chain, also the paired comparison with it (``paired_columns``)."""
    rows = []
    for name, paths in sets.items():
        convention, size = split_name(name)
        if convention not in params.accuracy_conventions or size < params.accuracy_min_size:
            continue
        data = _read(paths)
        lattices = data["lattices"].astype(np.float32)
        predicted = np.rint(bundle.predict(lattices, params.batch_size)).astype(np.int64)
        stats = None if statistics is None else statistics.predict(lattices)
        row = accuracy_row(predicted, data["chern"], clean_formula(lattices), data["certified"],
                           stats)
        if reference is not None:
            before = np.rint(reference.predict(lattices, params.batch_size)).astype(np.int64)
            row.update(paired_columns(predicted, before, data["chern"], data["certified"]))
        rows.append({"convention": convention, "size": size, **row})
        if log is not None:
            log(f"{name}: {row['measured_percent']:.1f} % on {row['lattices']} lattices, "
                f"{row['certified_percent']:.1f} % on {row['certified_lattices']} certified")
    if not rows:
        raise SpecError("size_study: no set at an accuracy convention and size was given")
    order = {c: i for i, c in enumerate(params.accuracy_conventions)}
    table = pd.DataFrame(rows)
    return table.sort_values(["convention", "size"], key=lambda c: c.map(order)
                             if c.name == "convention" else c, kind="stable", ignore_index=True)


def _pct(value, low=None, high=None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.1f}" if low is None else f"{value:.1f} [{low:.1f}, {high:.1f}]"


def accuracy_markdown(table: pd.DataFrame) -> str:
    """The accuracy table as Markdown: per convention and size, the chain beside the baselines."""
    lines = ["# Accuracy against lattice size", "",
             "The RG chain's accuracy (%) per disorder convention and size, brackets Wilson 95 % "
             "intervals. Baselines on the same lattices: the clean formula (clean phase diagram "
             "at the lattice-averaged mu, t_minus), the majority class and the statistics "
             "baseline (trees on per-lattice disorder statistics). Certified: labels "
             "whose certificate holds (torus BdG gap at least labeling.min_gap and the method's "
             "own check); certified disorder-decided: those of them that differ from the clean "
             "formula.", "",
             "| convention | size | lattices | chain | clean formula | majority | statistics "
             "baseline | certified: lattices | chain on them | strongest baseline on them | "
             "certified disorder-decided: lattices | chain on them | statistics baseline on "
             "them |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        lines.append(
            f"| {r.convention} | {r.size}x{r.size} | {r.lattices} | "
            f"{_pct(r.measured_percent, r.measured_ci_low, r.measured_ci_high)} | "
            f"{_pct(r.clean_formula_percent)} | {_pct(r.majority_percent)} | "
            f"{_pct(r.statistics_percent)} | {r.certified_lattices} | "
            f"{_pct(r.certified_percent, r.certified_ci_low, r.certified_ci_high)} | "
            f"{_pct(r.certified_stronger_baseline_percent)} ({r.certified_stronger_baseline}) | "
            f"{r.certified_decided_lattices} | "
            f"{_pct(r.certified_decided_percent, r.certified_decided_ci_low, r.certified_decided_ci_high)} | "
            f"{_pct(r.certified_statistics_decided_percent)} |")
    return "\n".join(lines) + "\n"


def write_accuracy_table(table: pd.DataFrame, stem) -> pd.DataFrame:
    """``<stem>.csv``, ``.md`` and ``.html`` of the accuracy table (the report shows HTML)."""
    stem = Path(stem)
    io.write_frame(stem.with_suffix(".csv"), table)
    markdown = accuracy_markdown(table)
    io.write_text(stem.with_suffix(".md"), markdown)
    io.write_text(stem.with_suffix(".html"), markdown_table_html(markdown.splitlines()))
    return table


def _plain(value):
    """A JSON-ready value: NumPy scalars as Python ones, NaN as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 2)
    return value


def accuracy_record(table: pd.DataFrame, source: str = "") -> dict:
    """The bundle card's ``accuracy_by_size`` record of an accuracy table: one row per
    convention and size (``RECORD_KEYS``), and where it came from."""
    missing = [k for k in RECORD_KEYS if k not in table.columns]
    if missing:
        raise SpecError(f"size-study table lacks columns {missing} (write it with "
                        "python -m rgtopo.workflow.steps size-accuracy)")
    rows = [{k: _plain(v) for k, v in zip(RECORD_KEYS, row)}
            for row in table[list(RECORD_KEYS)].itertuples(index=False)]
    return {"source": source, "rows": rows}


def read_accuracy_record(path) -> dict:
    """The card record of an accuracy table written by ``size_accuracy`` (a CSV path)."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise SpecError(f"{path}: not a readable size-study table ({exc})") from None
    return accuracy_record(table, source=str(path))
