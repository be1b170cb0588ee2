"""Accuracies of every network the paper reports, with the paper's value beside each.

Accuracy is the fraction of test lattices whose rounded prediction equals the
Bott label, shown with its Wilson interval, the clean-formula, majority-class and
statistics baselines and the disorder-decided subset, all of it and its gapped part
(``metrics``). Epochs are chosen on validation sets only. All predictions stream over the HDF5 test shards.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .. import io
from ..data.shards import read_shard
from ..nn import chain
from ..nn.saving import load_model
from ..params import EvaluationParams
from ..physics.lattice import BASE_SIZE, average_pool, rg_steps
from ..training.loop import epoch_file
from ..training.metrics import Tally, chain_key, clean_formula
from ..training.statistics_baseline import StatisticsBaseline
from ..training.statistics_baseline import load as load_statistics_baseline

# Headline numbers of Phys. Rev. B 105, 205139 (percent), for comparison only.
PAPER = {
    "base_4x4": 99.02,
    "decimation_8x8": 93.52,
    "decimation_16x16": 91.91,
    "best_8x8_epoch_8x8": 98.72,
    "selected_epoch_8x8": 97.64,
    "selected_epoch_16x16": 95.60,
    "uninitialized_16x16": 72.49,
}


def describe(key: str, select_size: int) -> str:
    """The row's quantity in words, e.g. 'average pooling (twice) into the base network, 16x16'."""
    what, size = key.rsplit("_", 1)
    steps = rg_steps(int(size.split("x")[0]))
    if what == "base":
        text = f"base network, {size} test set"
    elif what == "decimation":
        times = {1: "", 2: " (twice)"}.get(steps, f" ({steps} times)")
        text = f"average pooling{times} into the base network, {size}"
    elif what.startswith("best_"):
        text = f"RG epoch with the best {what.split('_')[1]} accuracy, {size}"
    elif what == "selected_epoch":
        text = f"selected RG epoch (best {select_size}x{select_size}), {size}"
    else:
        text = f"RG trained without decimation initialization, {size}"
    return text if key in PAPER else f"{text} (not in the paper)"


def _labeled(shards: Sequence):
    for path in shards:
        data = read_shard(path, labeled=True)
        yield data["lattices"].astype(np.float32), data["chern"].astype(np.int64), data["gap"]


def tally(base, shards: Sequence, rg=None, *, pooling: bool = False,
          batch_size: int = 512, min_gap: float | None = None,
          statistics: StatisticsBaseline | None = None) -> Tally:
    """Counts of base (after RG or average pooling down to 4x4) on labeled shards.

    The clean formula, the gap and the statistics baseline's answer are those of each
    lattice as stored, before any pooling. After average pooling a level-conditioned base
    network reads level 0, as the paper's base network does: the row measures the 4x4
    invariant of the pooled lattice.
    """
    counts = Tally(min_gap=min_gap)
    for x, labels, gap in _labeled(shards):
        clean = clean_formula(x)
        stats = None if statistics is None else statistics.predict(x)
        if pooling:
            for _ in range(rg_steps(x.shape[1])):
                x = average_pool(x).astype(np.float32)
        pred = chain.predict(x, base, None if pooling else rg, batch_size)
        counts.add(np.rint(pred), labels, clean, gap, stats)
    return counts


def best_row(history: pd.DataFrame, column: str) -> pd.Series:
    """Row of the first epoch with the highest value of column."""
    return history.loc[history[column].idxmax()]


def _epoch_model(epochs_dir, epoch: int):
    return load_model(epoch_file(epochs_dir, epoch))


class RunFiles(NamedTuple):
    """What the evaluation reads of one RG run: its history, its epoch files and, for the main
    run, the network it selected."""

    history: str | Path
    epochs: str | Path
    selected: str | Path | None = None


def evaluate(params: EvaluationParams, base_model, test_shards: Mapping[int, Sequence],
             main: RunFiles, uninitialized: RunFiles, statistics=None) -> pd.DataFrame:
    """One row per headline number, measured on test sets; every epoch is chosen on validation.

    Each row carries the accuracy with its Wilson 95 % interval, the clean-formula,
    majority-class and statistics baselines on the same test lattices (the strongest named)
    and the accuracy on the disorder-decided lattices (label != clean formula), all of
    them and those whose BdG gap is at least ``params.min_gap``. The RG runs are reported at
    their best validation epoch of ``params.train_size``; the main run's selected network on
    every larger test size. statistics: the statistics baseline's file, the third baseline on
    every row (None: two baselines).
    """
    stats = None if statistics is None else load_statistics_baseline(statistics)
    base = load_model(base_model)
    selected = load_model(main.selected)
    main_history = pd.read_csv(main.history)
    uninit = pd.read_csv(uninitialized.history)
    rows = []
    s, t = params.select_size, params.train_size

    def add(key, counts: Tally, epoch=None, selected_on=None):
        summary = counts.summary()
        row = {"key": key, "description": describe(key, s), "paper_percent": PAPER.get(key),
               "measured_percent": summary.pop("measured_percent"),
               "measured_ci_low": summary.pop("measured_ci_low"),
               "measured_ci_high": summary.pop("measured_ci_high"),
               "epoch": epoch, "selected_on": selected_on,
               "test_lattices": summary.pop("lattices"), **summary}
        rows.append({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})

    def on_test(size: int, rg=None, pooling: bool = False) -> Tally:
        return tally(base, test_shards[size], rg, pooling=pooling, batch_size=params.batch_size,
                     min_gap=params.min_gap, statistics=stats)

    b = BASE_SIZE
    add(chain_key(b), on_test(b))
    for n in params.eval_sizes:
        add(f"decimation_{n}x{n}", on_test(n, pooling=True))
    best = best_row(main_history, f"validation_accuracy_{t}x{t}")
    add(f"best_{t}x{t}_epoch_{t}x{t}", on_test(t, _epoch_model(main.epochs, best["epoch"])),
        int(best["epoch"]), f"validation_{t}")
    sel = main_history.loc[main_history["selected"] == 1].iloc[0]
    for n in sorted(m for m in test_shards if m > BASE_SIZE):
        add(chain_key(n), on_test(n, selected), int(sel["epoch"]),
            f"validation_{s}")
    u = best_row(uninit, f"validation_accuracy_{t}x{t}")
    add(f"uninitialized_{s}x{s}", on_test(s, _epoch_model(uninitialized.epochs, u["epoch"])),
        int(u["epoch"]), f"validation_{t}")
    return pd.DataFrame(rows)


def write_metrics(table: pd.DataFrame, csv_out, json_out) -> None:
    """The metrics table as CSV and as JSON keyed by metric, each written atomically."""
    records = {r["key"]: {k: v for k, v in r.items() if k != "key"}
               for r in json.loads(table.to_json(orient="records"))}
    io.write_frame(csv_out, table)
    io.write_json(json_out, records)
