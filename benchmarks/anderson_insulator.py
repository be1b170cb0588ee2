"""The topological Anderson insulator of the disordered QWZ model, with certified labels.

Li, Chu, Jain and Shen (PRL 102, 136806, 2009) found that disorder turns a trivial
insulator near a topological one topological; Groth et al. (PRL 103, 196805, 2009)
explained it by the self-consistent Born approximation (SCBA): disorder renormalizes the
mass. Here, on the QWZ model H(k) = sin kx sx + sin ky sy + (m + cos kx + cos ky) sz
(topological for 0 < |m| < 2) at a mass m just outside (default 2.1), with an on-site
potential uniform in [-W/2, W/2] on both orbitals (variance W^2 / 12), at E_F = 0:

  SCBA: Sigma = (W^2/12) Int d^2k/(2 pi)^2 (E_F - H0(k) - Sigma)^-1. At E_F = 0 the
  identity and sx, sy parts vanish by symmetry and Sigma = Sigma_z sz with
  m_bar = m - (W^2/12) I(m_bar), I(m) = Int d^2k/(2 pi)^2 d_z / |d|^2,
  d = (sin kx, sin ky, m + cos kx + cos ky). I(2) > 0, so disorder lowers the mass and the
  renormalized gap at (pi, pi), m_bar - 2, closes at W_c^2 = 12 (m - 2) / I(2).

For each W on --widths and each size, --samples disordered tori are labeled by the
spectral localizer (``rgtopo.hamiltonian_chern``); each row of the labels file is written
as it finishes, so a rerun resumes. Output in --out: labels.csv, table.md (fraction of
C != 0 with Wilson 95 % intervals, among all labels and among certified ones) and
fig_anderson.png.

Run: python benchmarks/anderson_insulator.py [--sizes 32=20 64=12 128=6] [--mass 2.1]
"""

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIELDS = ("size", "width", "sample", "chern", "certified", "gapped", "localizer_gap", "seconds")


def scba_integral(mass: float, grid: int = 512) -> float:
    """I(m) = mean over the Brillouin zone of d_z / |d|^2 (a midpoint grid avoids k = pi)."""
    k = (np.arange(grid) + 0.5) * 2 * np.pi / grid
    kx, ky = np.meshgrid(k, k, indexing="ij")
    dz = mass + np.cos(kx) + np.cos(ky)
    return float(np.mean(dz / (np.sin(kx) ** 2 + np.sin(ky) ** 2 + dz**2)))


def scba_mass(mass: float, width: float, iterations: int = 200) -> float:
    """The self-consistent renormalized mass m_bar = m - (W^2/12) I(m_bar) (damped iteration)."""
    m_bar = mass
    for _ in range(iterations):
        m_bar = 0.5 * m_bar + 0.5 * (mass - width**2 / 12 * scba_integral(m_bar, 256))
    return m_bar


def scba_critical_width(mass: float) -> float:
    """W_c where the renormalized mass reaches the clean boundary 2: sqrt(12 (m - 2) / I(2))."""
    return float(np.sqrt(12 * (mass - 2.0) / scba_integral(2.0)))


def wilson(k: int, n: int) -> tuple[float, float]:
    from rgtopo.training.metrics import wilson_interval

    return wilson_interval(k, n) if n else (float("nan"), float("nan"))


def run(sizes: dict, widths, mass: float, seed: int, out: Path, threads: int) -> list[dict]:
    from rgtopo import hamiltonian_chern
    from rgtopo.models import qwz

    out.mkdir(parents=True, exist_ok=True)
    path = out / "labels.csv"
    rows = list(csv.DictReader(path.open())) if path.is_file() else []
    done = {(int(r["size"]), float(r["width"]), int(r["sample"])) for r in rows}
    new = not path.is_file()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new:
            writer.writeheader()
        for size, samples in sizes.items():
            for wi, width in enumerate(widths):
                todo = [s for s in range(samples) if (size, float(width), s) not in done]
                if not todo:
                    continue
                t0 = time.perf_counter()
                models = [qwz(size, mass, disorder=width,
                              rng=np.random.default_rng([seed, size, wi, s])) for s in todo]
                res = hamiltonian_chern(models, method="localizer", threads=threads)
                seconds = (time.perf_counter() - t0) / len(todo)
                for i, s in enumerate(todo):
                    row = dict(size=size, width=float(width), sample=s, chern=int(res.chern[i]),
                               certified=int(res.certified[i]), gapped=int(res.gapped[i]),
                               localizer_gap=float(res.localizer_gap[i]),
                               seconds=round(seconds, 3))
                    writer.writerow(row)
                    rows.append({k: str(v) for k, v in row.items()})
                f.flush()
                print(f"{size}x{size} W={width}: {len(todo)} labels, {seconds:.2f} s each",
                      file=sys.stderr, flush=True)
    return rows


def summarize(rows, mass: float, out: Path) -> str:
    import pandas as pd

    df = pd.DataFrame(rows).astype({"size": int, "width": float, "chern": int, "certified": int,
                                    "gapped": int})
    wc = scba_critical_width(mass)
    lines = [f"QWZ at mass {mass} (clean: C = 0), E_F = 0; SCBA W_c = {wc:.2f}. Fraction of "
             "labels with C != 0, Wilson 95 % intervals.", "",
             "| N | W | SCBA mass | labels | C != 0 | certified | C != 0 among certified |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for (size, width), g in df.groupby(["size", "width"]):
        k, n = int((g.chern != 0).sum()), len(g)
        cert = g[g.certified == 1]
        kc, nc = int((cert.chern != 0).sum()), len(cert)
        lo, hi = wilson(k, n)
        clo, chi = wilson(kc, nc)
        among = (f"{kc} of {nc} ({100 * kc / nc:.0f} % [{100 * clo:.0f}, {100 * chi:.0f}])"
                 if nc else "none certified")
        lines.append(f"| {size} | {width:g} | {scba_mass(mass, width):.3f} | {n} | "
                     f"{100 * k / n:.0f} % [{100 * lo:.0f}, {100 * hi:.0f}] | {nc} | {among} |")
    table = "\n".join(lines) + "\n"
    (out / "table.md").write_text(table)
    figure(df, mass, wc, out / "fig_anderson.png")
    return table


def figure(df, mass: float, wc: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 1.4]})
    for size, g in df.groupby("size"):
        stats = g.groupby("width").agg(k=("chern", lambda c: int((c != 0).sum())),
                                       n=("chern", "size"),
                                       cert=("certified", "sum"))
        frac = stats.k / stats.n
        lo_hi = np.array([wilson(int(k), int(n)) for k, n in zip(stats.k, stats.n)])
        below, above = np.maximum(frac - lo_hi[:, 0], 0), np.maximum(lo_hi[:, 1] - frac, 0)
        line = ax.errorbar(stats.index, frac, yerr=[below, above],
                           marker="o", capsize=3, label=f"{size}x{size}")
        bx.plot(stats.index, stats.cert / stats.n, marker="s", color=line[0].get_color(),
                label=f"{size}x{size}")
    ax.axvline(wc, color="k", ls="--", lw=1, label=f"SCBA boundary W_c = {wc:.2f}")
    ax.set_ylabel("fraction with C != 0")
    ax.set_title(f"Topological Anderson insulator: disordered QWZ, mass {mass}")
    ax.legend(fontsize=8)
    ax.set_ylim(-0.03, 1.03)
    widths = np.linspace(0, df.width.max(), 60)
    twin = bx.twinx()
    twin.plot(widths, [scba_mass(mass, w) for w in widths], color="0.5", lw=1)
    twin.axhline(2.0, color="0.5", ls=":", lw=1)
    twin.set_ylabel("SCBA mass", color="0.4")
    bx.set_ylabel("fraction certified")
    bx.set_xlabel("disorder strength W")
    bx.set_ylim(-0.03, 1.03)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["32=20", "64=12", "128=6"], metavar="N=COUNT")
    p.add_argument("--widths", nargs="+", type=float,
                   default=[0.0, 0.5, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0,
                            6.0, 7.0, 8.0])
    p.add_argument("--mass", type=float, default=2.1)
    p.add_argument("--seed", type=int, default=2009)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "anderson"))
    a = p.parse_args(argv)
    if a.mass <= 2.0:
        p.error("--mass must lie outside the clean topological region (> 2)")
    sizes = {int(k): int(v) for k, v in (item.split("=") for item in a.sizes)}
    out = Path(a.out)
    rows = run(sizes, a.widths, a.mass, a.seed, out, a.threads)
    print(summarize(rows, a.mass, out))


if __name__ == "__main__":
    sys.exit(main() or 0)
