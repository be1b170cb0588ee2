"""Where a run's minutes went: Snakemake's per-job benchmark files summed by stage.

    python benchmarks/where_time_went.py [results/benchmarks]

Prints one row per stage (wall seconds summed over its jobs, job count) and the total. On a
2-core machine the default profile runs the 2-thread jobs one at a time, so the total is close
to the run's wall time; on more cores jobs overlap and the total exceeds it.
"""

import sys
from pathlib import Path

import pandas as pd


def stage_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    if rel.parts[0] in ("label", "sample"):
        return f"{rel.parts[0]} {rel.parts[1]}"
    return rel.stem


def main(root="results/benchmarks") -> pd.DataFrame:
    root = Path(root)
    rows = [{"stage": stage_of(p, root), "seconds": float(pd.read_csv(p, sep="\t")["s"].iloc[0])}
            for p in sorted(root.rglob("*.tsv"))]
    if not rows:
        sys.exit(f"no benchmark files under {root}")
    table = pd.DataFrame(rows).groupby("stage")["seconds"].agg(["sum", "count"])
    table = table.sort_values("sum", ascending=False)
    table.loc["total"] = [table["sum"].sum(), table["count"].sum()]
    table["minutes"] = (table["sum"] / 60).round(1)
    print(table.to_string())
    return table


if __name__ == "__main__":
    main(*sys.argv[1:])
