"""The size study's figures: label fractions per disorder convention and accuracy against size."""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..training.metrics import CLEAN_FORMULA, MAJORITY_CLASS, STATISTICS_BASELINE  # noqa: E402

from .curves import accuracy_with_band, baseline_line, mark_selected, validation_sizes  # noqa: E402
from .draw import save  # noqa: E402


FRACTION_PANELS = (("nonzero", "C != 0"), ("disorder_decided", "disorder-decided"),
                   ("certified", "certified"), ("certified_decided",
                                                "certified and disorder-decided"))


def _size_axis(ax, sizes) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(sizes), [str(n) for n in sorted(sizes)])
    ax.minorticks_off()
    ax.set_xlabel("lattice size N")


def _error_bars(value, low, high) -> np.ndarray:
    """Matplotlib's (below, above) lengths of an interval around value; at 0 or 100 % the
    interval's bound and the value differ by rounding, which must not turn negative."""
    return np.clip(np.array([value - low, high - value], dtype=float), 0.0, None)


def fig_conventions(fractions: pd.DataFrame, stem) -> pd.DataFrame:
    """The size study's label fractions against N, one line per disorder convention."""
    fig, axes = plt.subplots(1, len(FRACTION_PANELS), figsize=(15, 3.6), sharex=True)
    for ax, (column, title) in zip(axes, FRACTION_PANELS):
        for convention, rows in fractions.groupby("convention", sort=False):
            rows = rows.sort_values("size")
            err = _error_bars(rows[column], rows[f"{column}_ci_low"], rows[f"{column}_ci_high"])
            ax.errorbar(rows["size"], rows[column], yerr=err, marker="o", capsize=3,
                        label=convention)
        ax.set_title(f"fraction {title}")
        ax.set_ylim(-0.02, 1.02 if column in ("certified", "nonzero") else None)
        _size_axis(ax, fractions["size"].unique())
    axes[0].set_ylabel("fraction of lattices (Wilson 95 %)")
    axes[0].legend(title="disorder convention")
    save(fig, stem, fractions)
    return fractions


def fig_size_accuracy(accuracy: pd.DataFrame, stem) -> pd.DataFrame:
    """The chain's accuracy against N per disorder convention, beside the baselines, on all
    lattices and on the certified (and certified disorder-decided) ones."""
    conventions = list(dict.fromkeys(accuracy["convention"]))
    fig, axes = plt.subplots(1, len(conventions), figsize=(6.5 * len(conventions), 4.2),
                             squeeze=False, sharey=True)
    curves = (("measured", "chain, all lattices", "C0", "o"),
              ("certified", "chain, certified", "C3", "s"),
              ("certified_decided", "chain, certified disorder-decided", "C2", "^"))
    for ax, convention in zip(axes[0], conventions):
        rows = accuracy[accuracy["convention"] == convention].sort_values("size")
        for prefix, label, color, marker in curves:
            value = rows[f"{prefix}_percent"]
            err = _error_bars(value, rows[f"{prefix}_ci_low"], rows[f"{prefix}_ci_high"])
            ax.errorbar(rows["size"], value, yerr=err, color=color, marker=marker, capsize=3,
                        label=label)
        ax.plot(rows["size"], rows["clean_formula_percent"], "k--", label=CLEAN_FORMULA)
        ax.plot(rows["size"], rows["majority_percent"], "k:", label=MAJORITY_CLASS)
        if "statistics_percent" in rows:
            ax.plot(rows["size"], rows["statistics_percent"], color="C4", ls="-.",
                    label=STATISTICS_BASELINE)
        ax.plot(rows["size"], rows["certified_stronger_baseline_percent"], color="C3", ls="--",
                alpha=0.6, label="strongest baseline, certified")
        ax.set_title(f"disorder convention: {convention}")
        ax.set_ylim(0, 101)
        _size_axis(ax, rows["size"])
    axes[0][0].set_ylabel("accuracy (%), Wilson 95 %")
    axes[0][0].legend(fontsize=8, loc="lower left")
    save(fig, stem, accuracy)
    return accuracy


def fig_size_tuning(accuracy: pd.DataFrame, tuned: pd.DataFrame, history: pd.DataFrame,
                    stem) -> pd.DataFrame:
    """The size study's own run: the chain before and after training on in its convention,
    against N beside the clean formula, with the lattices gained and lost on the same test
    lattices (left), and its validation accuracy per epoch (right)."""
    convention = tuned["convention"].iloc[0]
    before = accuracy[accuracy["convention"] == convention].set_index("size")
    after = tuned.set_index("size")
    sizes = [n for n in after.index if n in before.index]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.3))
    for rows, name, color in ((before, "measured chain", "C0"), (after, "trained on", "C1")):
        rows = rows.loc[sizes]
        for prefix, what, marker in (("measured", "all", "o"), ("certified", "certified", "s")):
            value = rows[f"{prefix}_percent"]
            left.errorbar(sizes, value, color=color, marker=marker, capsize=3,
                          ls="-" if prefix == "measured" else "--",
                          yerr=_error_bars(value, rows[f"{prefix}_ci_low"],
                                           rows[f"{prefix}_ci_high"]),
                          label=f"{name}, {what} lattices")
    if "gained" in after:  # the paired comparison: lattices gained and lost on all of them
        for n in sizes:
            left.annotate(f"+{int(after.loc[n, 'gained'])} / -{int(after.loc[n, 'lost'])}",
                          (n, after.loc[n, "measured_percent"]), textcoords="offset points",
                          xytext=(0, 8), ha="center", fontsize=7, color="C1")
    left.plot(sizes, before.loc[sizes, "clean_formula_percent"], "k--", label=CLEAN_FORMULA)
    left.plot(sizes, before.loc[sizes, "majority_percent"], "k:", label=MAJORITY_CLASS)
    if "statistics_percent" in before:
        left.plot(sizes, before.loc[sizes, "statistics_percent"], color="C4", ls="-.",
                  label=STATISTICS_BASELINE)
    left.set_ylim(top=103)  # room for the gained / lost counts
    left.set_ylabel("test accuracy (%), Wilson 95 %")
    left.set_title(f"disorder convention: {convention}")
    left.legend(fontsize=7, loc="lower left")
    _size_axis(left, sizes)
    for size, marker in zip(validation_sizes(history), "os^vD"):
        color = accuracy_with_band(right, history, size, marker=marker, ls="-",
                                    label=f"${size}\\times{size}$ validation")
        baseline_line(right, history, size, color, f"${size}\\times{size}$ ")
    for start in history.loc[history["phase"] != history["phase"].shift(), "epoch"].iloc[1:]:
        right.axvline(start - 0.5, color="0.7", lw=1)
    mark_selected(right, history, f"validation_accuracy_{max(validation_sizes(history))}x"
                   f"{max(validation_sizes(history))}")
    right.set_xlabel("epoch (grey lines: a tied phase on larger lattices begins)")
    right.set_ylabel("validation accuracy (%)")
    right.legend(fontsize=7)
    table = pd.concat([before.loc[sizes].assign(chain="measured"),
                       after.loc[sizes].assign(chain="trained on")]).reset_index()
    save(fig, stem, table)
    return table
