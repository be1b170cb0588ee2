"""The paper's figures drawn from computed tables: the shared look (colours, phase boundaries,
``save``) and Figs. 1(b), 2, 4, 7 and 8.

Every drawing function only draws: it takes the table a computing function made (run times
in ``evaluation.timing``, the reference realizations in ``evaluation.reference``, the RG
analyses in ``evaluation.rg_analysis``, lattice averages in ``data.datasets``; the registry
joins the two), writes ``<stem>.png``, ``<stem>.pdf`` and the plotted values as ``<stem>.csv``,
and returns the values as a DataFrame. Training curves are in ``curves``, the size study's
figures in ``sizes``; Table 1 is written by ``training.metrics.write_headline_table``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402

from .. import io  # noqa: E402
from ..physics.phase_diagram import clean_chern_number  # noqa: E402
from ..evaluation.timing import fit_power_law  # noqa: E402

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
def fig2(points: pd.DataFrame, stem) -> pd.DataFrame:
    """Clean phase diagram (a) and, per realization, Bott (b, d, f) against network (c, e, g),
    from ``rgtopo.evaluation.reference.phase_diagram_points``."""
    fig, axes = plt.subplots(3, 3, figsize=(11, 10.5), constrained_layout=True)
    xi = np.linspace(-2, 2, 400)
    clean = clean_chern_number(2 * xi[None, :], xi[:, None])
    axes[0, 0].imshow(clean, origin="lower", extent=(-2, 2, -2, 2), cmap=CHERN_CMAP,
                      norm=CHERN_NORM, aspect="auto")
    axes[0, 0].set_title("(a) clean")
    for ax in axes[1:, 0]:
        ax.axis("off")
    letters = iter("bcdefg")
    for k, realization in points.groupby("realization", sort=True):
        right = realization["bott"] == realization["network"]
        decided = realization["disorder_decided"]
        agree = float(np.mean(right))
        agree_decided = float(np.mean(right[decided])) if decided.any() else float("nan")
        n = int(round(np.sqrt(len(realization))))
        for col, (key, name) in enumerate((("bott", "Bott index"), ("network", "base network")), 1):
            ax = axes[k - 1, col]
            img = realization[key].to_numpy().reshape(n, n).T
            ax.imshow(img, origin="lower", extent=(-2, 2, -2, 2), cmap=CHERN_CMAP,
                      norm=CHERN_NORM, aspect="auto", interpolation="nearest")
            if key == "network":
                extra = (f"\nagreement {100 * agree:.2f}% overall,\n{100 * agree_decided:.1f}% "
                         f"on the {int(decided.sum())} disorder-decided points")
            else:
                extra = f"\n{int(decided.sum())} of {len(realization)} points disorder-decided"
            ax.set_title(f"({next(letters)}) realization {k}: {name}{extra}", fontsize=9)
    for ax in axes.ravel():
        if ax.has_data():
            ax.set_xlabel(XI_LABEL)
            ax.set_ylabel(ETA_LABEL)
    cbar = fig.colorbar(plt.cm.ScalarMappable(norm=CHERN_NORM, cmap=CHERN_CMAP), ax=axes[1:, 0],
                        ticks=CHERN_VALUES, shrink=0.6, location="left")
    cbar.set_label("Chern number $\\mathcal{C}$")
    table = points.reset_index(drop=True)
    save(fig, stem, table)
    return table


# ----------------------------------------------------------------------- Fig. 4
def fig4(means: np.ndarray, alpha: float, bins: int, stem) -> pd.DataFrame:
    """Histogram of the training set's mean (mu/2, t_minus): biased toward the boundaries.
    ``means``: (B, 3) lattice averages (``rgtopo.data.datasets.lattice_means``)."""
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
def fig7(table: pd.DataFrame, grid: int, steps: int, stem) -> pd.DataFrame:
    """Fig. 7: the clean grid and its images after 1, 2, 3 RG applications
    (``rgtopo.evaluation.rg_analysis.points_mapping_table``)."""
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
def fig8(table: pd.DataFrame, size, site, mu0, t_minus0, delta0, strengths, stem) -> pd.DataFrame:
    """Fig. 8: 4x4 difference maps of mu, t_minus, Delta after the RG network.

    The clean row shows RG(clean) minus the clean values (how far the network is
    from leaving a clean lattice unchanged); impurity rows show RG(impure) minus
    RG(clean), the part due to the impurity alone. Both are in the CSV
    (``rgtopo.evaluation.rg_analysis.impurity_table``).
    """
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
