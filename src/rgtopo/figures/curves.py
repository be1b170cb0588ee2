"""Training curves (Figs. 3, 5, 6 and the training overview), drawn from training histories."""

from __future__ import annotations

import re
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ..training.metrics import CLEAN_FORMULA, MAJORITY_CLASS  # noqa: E402

from .draw import save  # noqa: E402

# ----------------------------------------------------------------------- Figs. 3, 5, 6
def validation_sizes(history: pd.DataFrame) -> list[int]:
    """Lattice sizes N with a validation_accuracy_NxN column, ascending."""
    found = (re.fullmatch(r"validation_accuracy_(\d+)x\1", c) for c in history.columns)
    return sorted(int(m[1]) for m in found if m)


def stronger_baseline(history: pd.DataFrame, size: int) -> tuple[str, float]:
    """(name, accuracy) of the stronger baseline on the NxN validation lattices."""
    row = history.iloc[0]
    clean = float(row[f"validation_clean_formula_{size}x{size}"])
    major = float(row[f"validation_majority_{size}x{size}"])
    return (CLEAN_FORMULA, clean) if not major > clean else (MAJORITY_CLASS, major)


def accuracy_with_band(ax, history, size, **style):
    s = f"{size}x{size}"
    line, = ax.plot(history["epoch"], 100 * history[f"validation_accuracy_{s}"], **style)
    ax.fill_between(history["epoch"], 100 * history[f"validation_accuracy_low_{s}"],
                    100 * history[f"validation_accuracy_high_{s}"], color=line.get_color(),
                    alpha=0.2, lw=0)
    return line.get_color()


def baseline_line(ax, history, size, color, prefix=""):
    name, value = stronger_baseline(history, size)
    ax.axhline(100 * value, color=color, ls="--", lw=1,
               label=f"{prefix}{name} baseline {100 * value:.1f}%")


def mark_selected(ax, history, column):
    sel = history.loc[history["selected"] == 1]
    if len(sel):
        ax.axvline(sel["epoch"].iloc[0], color="0.5", ls=":", lw=1)
        ax.plot(sel["epoch"], 100 * sel[column], "k*", ms=12,
                label=f"selected epoch {int(sel['epoch'].iloc[0])}")


def _band_columns(history, sizes):
    return [f"validation_{q}_{n}x{n}" for n in sizes
            for q in ("accuracy", "accuracy_low", "accuracy_high", "decided_accuracy",
                      "clean_formula", "majority", "lattices")]


def fig3(history: pd.DataFrame, select_size: int, stem) -> pd.DataFrame:
    """RG training: validation accuracy against epoch per size, 95 % bands, baselines as lines."""
    sizes = validation_sizes(history)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for size, marker in zip(sizes, "os^vD"):
        n = int(history[f"validation_lattices_{size}x{size}"].iloc[0])
        color = accuracy_with_band(ax, history, size, marker=marker, ls="-",
                                    label=f"${size}\\times{size}$ ({n} lattices)")
        baseline_line(ax, history, size, color, f"${size}\\times{size}$ ")
    mark_selected(ax, history, f"validation_accuracy_{select_size}x{select_size}")
    ax.set_xlabel("epoch (0: decimation-initialized, before Chern training)")
    ax.set_ylabel("validation accuracy (%)")
    ax.legend(fontsize=7)
    ax.set_title("Fig. 3: RG network accuracy during training\n"
                 "(bands: Wilson 95% intervals; dashed: stronger baseline)", fontsize=10)
    table = history[["epoch", *_band_columns(history, sizes), "selected"]]
    save(fig, stem, table)
    return table


def fig5(history: pd.DataFrame, stem) -> pd.DataFrame:
    """RG training: loss of Eq. (A2) against epoch on each validation set."""
    sizes = validation_sizes(history)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for size, marker in zip(sizes, "os^vD"):
        ax.plot(history["epoch"], history[f"validation_loss_{size}x{size}"], f"{marker}-",
                label=f"${size}\\times{size}$ validation")
    if "loss" in history:
        ax.plot(history["epoch"], history["loss"], "^--", label="$8\\times8$ training", alpha=0.7)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss $|e| + e^2$ per lattice")
    ax.legend()
    ax.set_title("Fig. 5: RG network loss during training")
    cols = ["epoch", *(c for c in ("loss",) if c in history),
            *(f"validation_loss_{n}x{n}" for n in sizes)]
    table = history[cols]
    save(fig, stem, table)
    return table


def fig6(histories: Mapping[str, pd.DataFrame], stem) -> pd.DataFrame:
    """Validation accuracy against epoch for every RG run, 95 % bands, the stronger baseline."""
    first = next(iter(histories.values()))
    sizes = validation_sizes(first)
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4), sharey=True,
                             squeeze=False)
    axes = axes[0]
    tables = []
    for run, hist in histories.items():
        for ax, size in zip(axes, sizes):
            accuracy_with_band(ax, hist, size, marker="o", ms=3, ls="-",
                                label=run.replace("_", " "))
        tables.append(hist[["epoch", *_band_columns(hist, sizes), "selected"]].assign(run=run))
    for ax, size in zip(axes, sizes):
        baseline_line(ax, first, size, "k")
        n = int(first[f"validation_lattices_{size}x{size}"].iloc[0])
        ax.set_title(f"${size}\\times{size}$ validation lattices ({n})")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("validation accuracy (%)")
    fig.suptitle("Fig. 6: RG training runs compared (bands: Wilson 95% intervals; "
                 "dashed: stronger baseline)")
    table = pd.concat(tables, ignore_index=True)
    save(fig, stem, table)
    return table


# ----------------------------------------------------------------------- training curves
def _accuracy_columns(history: pd.DataFrame) -> list[str]:
    """Accuracy columns to plot as curves: their _low_/_high_ bands go with them, and the
    disorder-decided accuracy (often undefined on small sets) stays in the history."""
    return [c for c in history.columns if "accuracy" in c and not re.search(r"_(low|high)_", c)
            and "decided" not in c]


def _curve_label(column: str) -> str:
    """Legend text: the history's column name, marked when it is measured on training data."""
    return column if column.startswith(("val", "test")) else f"{column} (training)"


def _band(history: pd.DataFrame, column: str) -> tuple[str, str] | None:
    """(low, high) columns of validation_accuracy_NxN's interval, where the history has them."""
    if "accuracy_" not in column:
        return None
    low, high = (column.replace("accuracy_", f"accuracy_{q}_", 1) for q in ("low", "high"))
    return (low, high) if low in history and high in history else None


def fig_training(histories: Mapping[str, pd.DataFrame], stem, select_size: int | None = None):
    """Every training history: losses and learning rate, accuracies with bands, selection.

    One row per history (base network, decimation, each RG run): left, every loss
    column (log scale) with the learning rate on a second axis; right, every
    accuracy column in percent with its Wilson band where the history has one and
    the selected epoch marked (a history without accuracies gets the whole row).
    A history with nothing to plot (a stage run for 0 epochs) is named in the title.
    Columns are taken as found, so a history of any stage plots.
    """
    def numeric(hist, column):
        return pd.api.types.is_numeric_dtype(hist[column]) and hist[column].notna().any()

    def curves(hist):
        """(loss columns, accuracy columns) with values to plot."""
        return ([c for c in hist.columns if "loss" in c and numeric(hist, c)],
                [c for c in _accuracy_columns(hist) if numeric(hist, c)])

    columns = {name: curves(hist) for name, hist in histories.items()}
    untrained = [name for name, found in columns.items() if not any(found)]
    histories = {name: hist for name, hist in histories.items() if any(columns[name])}
    fig = plt.figure(figsize=(11, 3.2 * max(len(histories), 1)), constrained_layout=True)
    grid = fig.add_gridspec(max(len(histories), 1), 2)
    long = []

    def record(name, hist, column, epochs):
        values = hist[column].to_numpy(dtype=float)
        keep = np.isfinite(values)
        long.append(pd.DataFrame({"history": name, "epoch": epochs[keep], "quantity": column,
                                  "value": values[keep]}))

    for row, (name, hist) in enumerate(histories.items()):
        epochs = (hist["epoch"] if "epoch" in hist else pd.Series(range(len(hist)))).to_numpy()
        losses, accuracies = columns[name]
        ax_loss = fig.add_subplot(grid[row, 0] if accuracies else grid[row, :])
        for column in losses:
            ax_loss.plot(epochs, hist[column], "o-", ms=3, label=_curve_label(column))
            record(name, hist, column, epochs)
        if losses and (hist[losses] > 0).any().any():
            ax_loss.set_yscale("log")
        extra = []  # the learning rate's line joins the loss legend
        if "learning_rate" in hist and numeric(hist, "learning_rate"):
            ax_lr = ax_loss.twinx()
            extra = ax_lr.step(epochs, hist["learning_rate"], "k:", where="mid", lw=1,
                               label="learning rate (right axis)")
            ax_lr.set_yscale("log")
            ax_lr.set_ylabel("learning rate")
            record(name, hist, "learning_rate", epochs)
        ax_loss.set_title(f"{name}: loss", fontsize=10)
        ax_loss.set_ylabel("loss")
        axes = [ax_loss]
        if accuracies:
            ax_acc = fig.add_subplot(grid[row, 1])
            axes.append(ax_acc)
            for column in accuracies:
                line, = ax_acc.plot(epochs, 100 * hist[column], "o-", ms=3,
                                    label=_curve_label(column))
                record(name, hist, column, epochs)
                band = _band(hist, column)
                if band:
                    ax_acc.fill_between(epochs, 100 * hist[band[0]], 100 * hist[band[1]],
                                        color=line.get_color(), alpha=0.2, lw=0)
                    for column_q in band:
                        record(name, hist, column_q, epochs)
            ax_acc.set_title(f"{name}: accuracy (bands: Wilson 95% intervals)", fontsize=10)
            ax_acc.set_ylabel("accuracy (%)")
        if "selected" in hist and (hist["selected"] == 1).any():
            chosen = (hist["selected"] == 1).to_numpy()
            sel = int(epochs[chosen][0])
            record(name, hist, "selected", epochs)
            for ax in axes:
                ax.axvline(sel, color="0.5", ls=":", lw=1)
            key = f"validation_accuracy_{select_size}x{select_size}"
            if accuracies and key in hist:
                ax_acc.plot([sel], [100 * hist.loc[chosen, key].iloc[0]], "k*", ms=12,
                            label=f"selected epoch {sel}")
        for ax in axes:
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            handles = ax.get_legend_handles_labels()[0] + (extra if ax is ax_loss else [])
            if handles:
                ax.legend(handles=handles, fontsize=7)
    fig.suptitle("Training curves of every stage" + (
        f" (no epochs trained: {', '.join(untrained)})" if untrained else ""))
    table = pd.concat(long, ignore_index=True) if long else pd.DataFrame(
        columns=["history", "epoch", "quantity", "value"])
    save(fig, stem, table)
    return table
