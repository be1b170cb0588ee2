"""Every figure of the paper, drawn from result files.

Each ``figN`` function reads results (shards, histories, metrics, saved
models), writes ``<stem>.png``, ``<stem>.pdf`` and the plotted values as
``<stem>.csv``, and returns the values as a DataFrame. What is plotted is
computed elsewhere: run times in ``timing``, the reference realizations in
``reference``, the RG analyses in ``rg_analysis``; Table 1 is written by
``metrics.write_headline_table``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from . import io  # noqa: E402
from .metrics import CLEAN_FORMULA, MAJORITY_CLASS, STATISTICS_BASELINE  # noqa: E402
from .phase_diagram import clean_chern_number  # noqa: E402
from .reference import compare_on_realization, reference_realization  # noqa: E402
from .shards import read_shard  # noqa: E402
from .timing import fit_power_law  # noqa: E402

CHERN_VALUES = np.arange(-2, 3)
CHERN_CMAP = ListedColormap(["#542788", "#998ec3", "#f7f7f7", "#f1a340", "#b35806"])
CHERN_NORM = BoundaryNorm(np.arange(-2.5, 3.5), CHERN_CMAP.N)
# The same colours with the trivial phase in grey, for points on a white background.
CHERN_POINTS_CMAP = ListedColormap(["#542788", "#998ec3", "#bdbdbd", "#f1a340", "#b35806"])
XI_LABEL = r"$\mu / 2t^+$"
ETA_LABEL = r"$t^- / t^+$"


def save(fig, stem, table: pd.DataFrame | None = None) -> None:
    """Write stem.png, stem.pdf (and stem.csv) atomically and close the figure."""
    stem = Path(stem)
    try:
        io.save_figure(fig, stem.with_suffix(".png"), dpi=150, bbox_inches="tight")
        io.save_figure(fig, stem.with_suffix(".pdf"), bbox_inches="tight")
    finally:
        plt.close(fig)
    if table is not None:
        io.write_frame(stem.with_suffix(".csv"), table)


def draw_phase_boundaries(ax, **kw) -> None:
    """The clean phase boundaries mu/2 = +-1 and mu/2 = +-t_minus in the (xi, eta) plane."""
    style = {"color": "k", "lw": 1.0, **kw}
    for xi in (-1, 1):
        ax.axvline(xi, **style)
    line = np.array([-2.0, 2.0])
    ax.plot(line, line, **style)
    ax.plot(line, -line, **style)
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)


# ----------------------------------------------------------------------- Fig. 1(b)
def fig1b(timing: pd.DataFrame, stem) -> pd.DataFrame:
    """Time per lattice against linear size N, normalized to the 4x4 Bott time, log-log."""
    ref = timing.query("method == 'bott' and size == 4")["seconds_per_lattice"].iloc[0]
    table = timing.assign(normalized_time=timing["seconds_per_lattice"] / ref)
    fig, ax = plt.subplots(figsize=(5, 4))
    for method, label, marker in (("bott", "Bott index", "o"), ("network", "RG + base network", "s")):
        sub = table[table["method"] == method]
        expo, pref = fit_power_law(sub["size"], sub["normalized_time"])
        ax.loglog(sub["size"], sub["normalized_time"], marker, label=f"{label}: $\\propto N^{{{expo:.2f}}}$")
        grid = np.geomspace(sub["size"].min(), sub["size"].max(), 50)
        ax.loglog(grid, pref * grid**expo, "--", color=ax.lines[-1].get_color(), lw=1)
    ax.set_xlabel("linear lattice size $N$")
    ax.set_ylabel("time per lattice / Bott time at $4\\times4$")
    ax.set_xscale("log", base=2)
    ax.legend(title="fitted power laws")
    ax.set_title("Fig. 1(b): run time scaling")
    save(fig, stem, table)
    return table


# ----------------------------------------------------------------------- Fig. 2
def fig2(reference_files: Sequence, base_model, grid: int, delta0: float, threads: int, stem):
    """Clean phase diagram (a) and, per realization, Bott (b, d, f) against network (c, e, g)."""
    from .nn.saving import load_model  # lazy: TensorFlow only for the figures of networks

    base = load_model(base_model)
    tables = []
    fig, axes = plt.subplots(3, 3, figsize=(11, 10.5), constrained_layout=True)
    xi = np.linspace(-2, 2, 400)
    clean = clean_chern_number(2 * xi[None, :], xi[:, None])
    axes[0, 0].imshow(clean, origin="lower", extent=(-2, 2, -2, 2), cmap=CHERN_CMAP,
                      norm=CHERN_NORM, aspect="auto")
    axes[0, 0].set_title("(a) clean")
    for ax in axes[1:, 0]:
        ax.axis("off")
    letters = iter("bcdefg")
    for k, path in enumerate(reference_files, start=1):
        points = compare_on_realization(reference_realization(path), base, grid, delta0, threads)
        points["realization"] = k
        right = points["bott"] == points["network"]
        decided = points["disorder_decided"]
        agree = float(np.mean(right))
        agree_decided = float(np.mean(right[decided])) if decided.any() else float("nan")
        n = int(round(np.sqrt(len(points))))
        for col, (key, name) in enumerate((("bott", "Bott index"), ("network", "base network")), 1):
            ax = axes[k - 1, col]
            img = points[key].to_numpy().reshape(n, n).T
            ax.imshow(img, origin="lower", extent=(-2, 2, -2, 2), cmap=CHERN_CMAP,
                      norm=CHERN_NORM, aspect="auto", interpolation="nearest")
            if key == "network":
                extra = (f"\nagreement {100 * agree:.2f}% overall,\n{100 * agree_decided:.1f}% "
                         f"on the {int(decided.sum())} disorder-decided points")
            else:
                extra = f"\n{int(decided.sum())} of {len(points)} points disorder-decided"
            ax.set_title(f"({next(letters)}) realization {k}: {name}{extra}", fontsize=9)
        tables.append(points)
    for ax in axes.ravel():
        if ax.has_data():
            ax.set_xlabel(XI_LABEL)
            ax.set_ylabel(ETA_LABEL)
    cbar = fig.colorbar(plt.cm.ScalarMappable(norm=CHERN_NORM, cmap=CHERN_CMAP), ax=axes[1:, 0],
                        ticks=CHERN_VALUES, shrink=0.6, location="left")
    cbar.set_label("Chern number $\\mathcal{C}$")
    table = pd.concat(tables, ignore_index=True)
    save(fig, stem, table)
    return table


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


def _accuracy_with_band(ax, history, size, **style):
    s = f"{size}x{size}"
    line, = ax.plot(history["epoch"], 100 * history[f"validation_accuracy_{s}"], **style)
    ax.fill_between(history["epoch"], 100 * history[f"validation_accuracy_low_{s}"],
                    100 * history[f"validation_accuracy_high_{s}"], color=line.get_color(),
                    alpha=0.2, lw=0)
    return line.get_color()


def _baseline_line(ax, history, size, color, prefix=""):
    name, value = stronger_baseline(history, size)
    ax.axhline(100 * value, color=color, ls="--", lw=1,
               label=f"{prefix}{name} baseline {100 * value:.1f}%")


def _mark_selected(ax, history, column):
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
        color = _accuracy_with_band(ax, history, size, marker=marker, ls="-",
                                    label=f"${size}\\times{size}$ ({n} lattices)")
        _baseline_line(ax, history, size, color, f"${size}\\times{size}$ ")
    _mark_selected(ax, history, f"validation_accuracy_{select_size}x{select_size}")
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
            _accuracy_with_band(ax, hist, size, marker="o", ms=3, ls="-",
                                label=run.replace("_", " "))
        tables.append(hist[["epoch", *_band_columns(hist, sizes), "selected"]].assign(run=run))
    for ax, size in zip(axes, sizes):
        _baseline_line(ax, first, size, "k")
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


# ----------------------------------------------------------------------- Fig. 4
def fig4(train_shards: Sequence, alpha: float, bins: int, stem) -> pd.DataFrame:
    """Histogram of the training set's mean (mu/2, t_minus): biased toward the boundaries."""
    means = np.concatenate([read_shard(p)["lattices"].mean(axis=(1, 2)) for p in train_shards])
    counts, xe, ye = np.histogram2d(means[:, 0] / 2, means[:, 1], bins=bins,
                                    range=[[-2, 2], [-2, 2]])
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    img = ax.pcolormesh(xe, ye, counts.T, cmap="viridis", shading="flat")
    draw_phase_boundaries(ax, color="w", lw=0.8)
    fig.colorbar(img, ax=ax, label="training lattices per bin")
    ax.set_xlabel(XI_LABEL)
    ax.set_ylabel(ETA_LABEL)
    ax.set_title(f"Fig. 4: boundary-biased training means ($\\alpha$ = {alpha}, "
                 f"{len(means)} lattices)", fontsize=9)
    xc, yc = np.meshgrid(0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1]), indexing="ij")
    table = pd.DataFrame({"xi": xc.ravel(), "eta": yc.ravel(), "count": counts.ravel().astype(int)})
    save(fig, stem, table)
    return table


# ----------------------------------------------------------------------- Fig. 7
def fig7(rg_model, grid: int, steps: int, delta0: float, lattice_size: int, stem) -> pd.DataFrame:
    """Fig. 7: the clean grid and its images after 1, 2, 3 RG applications."""
    from .nn.saving import load_model  # lazy: TensorFlow only for the figures of networks
    from .rg_analysis import landing_phases, points_mapping  # lazy: imports TensorFlow

    table = landing_phases(points_mapping(load_model(rg_model), grid, steps, delta0, lattice_size))
    fig, axes = plt.subplots(1, steps + 1, figsize=(3.6 * (steps + 1), 3.8), sharey=True)
    for step, ax in enumerate(axes):
        sub = table[table["step"] == step]
        kept = np.mean(sub["start_chern"] == sub["landing_chern"])
        ax.scatter(sub["xi"], sub["eta"], c=sub["start_chern"], cmap=CHERN_POINTS_CMAP,
                   norm=CHERN_NORM, s=1.5, edgecolors="none")
        draw_phase_boundaries(ax)
        ax.set_title("clean grid" if step == 0 else
                     f"after RG $\\times${step}: {100 * kept:.1f}% in their phase", fontsize=9)
        ax.set_xlabel(XI_LABEL)
    axes[0].set_ylabel(ETA_LABEL)
    fig.suptitle(f"Fig. 7: RG points mapping ({grid}$\\times${grid} clean lattices; "
                 "colour: Chern number of the starting point)")
    save(fig, stem, table)
    return table


# ----------------------------------------------------------------------- Fig. 8
def fig8(rg_model, size, site, mu0, t_minus0, delta0, strengths, stem) -> pd.DataFrame:
    """Fig. 8: 4x4 difference maps of mu, t_minus, Delta after the RG network.

    The clean row shows RG(clean) minus the clean values (how far the network is
    from leaving a clean lattice unchanged); impurity rows show RG(impure) minus
    RG(clean), the part due to the impurity alone. Both are in the CSV.
    """
    from .nn.saving import load_model  # lazy: TensorFlow only for the figures of networks
    from .rg_analysis import impurity_response  # lazy: imports TensorFlow

    table = impurity_response(load_model(rg_model), size, site, mu0, t_minus0, delta0, strengths)
    channels = ("mu", "t_minus", "Delta")
    symbols = (r"$\delta\mu$", r"$\delta t^-$", r"$\delta\Delta$")
    fig, axes = plt.subplots(len(strengths), 3, figsize=(9, 2.6 * len(strengths)),
                             constrained_layout=True, squeeze=False)
    half = size // 2
    for r, dmu in enumerate(strengths):
        for c, (ch, sym) in enumerate(zip(channels, symbols)):
            sub = table[(table["delta_mu"] == dmu) & (table["channel"] == ch)]
            column = "difference" if dmu == 0 else "impurity_response"
            img = sub[column].to_numpy().reshape(half, half)
            lim = max(np.abs(img).max(), 1e-6)
            ax = axes[r, c]
            im = ax.imshow(img.T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.plot(site[0] / 2, site[1] / 2, "kx")
            if dmu == 0:
                ax.text(half / 2 - 0.5, -0.2, f"mean {img.mean():+.3f}", ha="center", fontsize=9,
                        bbox={"fc": "w", "alpha": 0.8})
            what = "RG(clean) $-$ clean" if dmu == 0 else f"$\\delta\\mu$={dmu:g}: RG $-$ RG(clean)"
            ax.set_title(f"{sym}, {what}", fontsize=9)
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(f"Fig. 8: single $\\mu$ impurity at site {tuple(site)} (0-based) of a clean "
                 f"{size}$\\times${size} lattice ($\\mu_0$={mu0}, $t^-_0$={t_minus0}, "
                 f"$\\Delta_0$={delta0})")
    save(fig, stem, table)
    return table


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
        color = _accuracy_with_band(right, history, size, marker=marker, ls="-",
                                    label=f"${size}\\times{size}$ validation")
        _baseline_line(right, history, size, color, f"${size}\\times{size}$ ")
    for start in history.loc[history["phase"] != history["phase"].shift(), "epoch"].iloc[1:]:
        right.axvline(start - 0.5, color="0.7", lw=1)
    _mark_selected(right, history, f"validation_accuracy_{max(validation_sizes(history))}x"
                   f"{max(validation_sizes(history))}")
    right.set_xlabel("epoch (grey lines: a tied phase on larger lattices begins)")
    right.set_ylabel("validation accuracy (%)")
    right.legend(fontsize=7)
    table = pd.concat([before.loc[sizes].assign(chain="measured"),
                       after.loc[sizes].assign(chain="trained on")]).reset_index()
    save(fig, stem, table)
    return table
