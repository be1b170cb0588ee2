"""Accuracies of every network the paper reports, with the paper's value beside each.

Accuracy is the fraction of test lattices whose rounded prediction equals the
Bott label. All predictions stream over the HDF5 test shards.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .datasets import open_shard, read_shard
from .lattice import average_pool
from .models import load_model, predict_chern, rg_steps

# Headline numbers of Phys. Rev. B 105, 205139 (percent), for comparison only.
PAPER = {
    "base_4x4": 99.02,
    "decimation_8x8": 93.52,
    "decimation_16x16": 91.91,
    "best_8x8_epoch_8x8": 98.72,
    "selected_epoch_8x8": 97.64,
    "selected_epoch_16x16": 95.60,
    "uninitialized_16x16": 72.49,
    "selected_epoch_32x32": None,
}

DESCRIPTIONS = {
    "base_4x4": "base network, 4x4 test set",
    "decimation_8x8": "average pooling into the base network, 8x8",
    "decimation_16x16": "average pooling (twice) into the base network, 16x16",
    "best_8x8_epoch_8x8": "RG epoch with the best 8x8 accuracy, 8x8",
    "selected_epoch_8x8": "selected RG epoch (best 16x16), 8x8",
    "selected_epoch_16x16": "selected RG epoch (best 16x16), 16x16",
    "uninitialized_16x16": "RG trained without decimation initialization, 16x16",
    "selected_epoch_32x32": "selected RG epoch, 32x32 (not in the paper)",
}


def _labeled(shards: Sequence):
    for path in shards:
        data = read_shard(path, labeled=True)
        yield data["lattices"].astype(np.float32), data["chern"].astype(np.int64)


def accuracy(base, shards: Sequence, rg=None, *, pooling: bool = False, batch_size: int = 512):
    """(accuracy, count) of base (after RG or average pooling down to 4x4) on labeled shards."""
    hits = total = 0
    for x, labels in _labeled(shards):
        if pooling:
            for _ in range(rg_steps(x.shape[1])):
                x = average_pool(x).astype(np.float32)
        pred = predict_chern(x, base, None if pooling else rg, batch_size)
        hits += int(np.sum(np.rint(pred) == labels))
        total += labels.size
    return (hits / total if total else float("nan")), total


def best_row(history: pd.DataFrame, column: str) -> pd.Series:
    """Row of the first epoch with the highest value of column."""
    return history.loc[history[column].idxmax()]


def evaluate(base_model, test_shards: Mapping[int, Sequence], main_history, selected_model,
             uninitialized_history, *, batch_size: int = 512) -> pd.DataFrame:
    """One row per headline number: key, description, paper %, measured %, epoch, lattices."""
    base = load_model(base_model)
    selected = load_model(selected_model)
    main = pd.read_csv(main_history)
    uninit = pd.read_csv(uninitialized_history)
    rows = []

    def add(key, value, count, epoch=None):
        rows.append({
            "key": key, "description": DESCRIPTIONS[key], "paper_percent": PAPER[key],
            "measured_percent": round(100 * value, 2), "epoch": epoch, "test_lattices": count,
        })

    add("base_4x4", *accuracy(base, test_shards[4], batch_size=batch_size))
    for size in (8, 16):
        add(f"decimation_{size}x{size}",
            *accuracy(base, test_shards[size], pooling=True, batch_size=batch_size))
    best8 = best_row(main, "accuracy_8x8")
    add("best_8x8_epoch_8x8", best8["accuracy_8x8"], _count(test_shards[8]), int(best8["epoch"]))
    sel = main.loc[main["selected"] == 1].iloc[0]
    for size in (8, 16):
        add(f"selected_epoch_{size}x{size}",
            *accuracy(base, test_shards[size], selected, batch_size=batch_size), int(sel["epoch"]))
    u16 = best_row(uninit, "accuracy_8x8")
    add("uninitialized_16x16", u16["accuracy_16x16"], _count(test_shards[16]), int(u16["epoch"]))
    if 32 in test_shards:
        add("selected_epoch_32x32",
            *accuracy(base, test_shards[32], selected, batch_size=batch_size), int(sel["epoch"]))
    return pd.DataFrame(rows)


def _count(shards) -> int:
    """Lattices in the shards, from their attributes (no data read)."""
    total = 0
    for path in shards:
        with open_shard(path) as f:
            total += int(f.attrs["count"])
    return total


def write_metrics(table: pd.DataFrame, csv_out, json_out) -> None:
    """The metrics table as CSV and as JSON keyed by metric."""
    Path(csv_out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(csv_out, index=False)
    records = {r["key"]: {k: v for k, v in r.items() if k != "key"}
               for r in json.loads(table.to_json(orient="records"))}
    Path(json_out).write_text(json.dumps(records, indent=2))
