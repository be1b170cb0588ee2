"""Kills anywhere in the DAG: the workflow killed K times and resumed ends as if never killed.

Runs the workflow on a config (default config/test.yaml: the whole DAG in a few minutes)
once without interruption (the reference), then once more in another directory where the
whole process group (Snakemake and every job) is SIGKILLed at K moments drawn from --seed,
spread over the reference's wall time: sampling, labeling, the three training stages, the
statistics baseline, evaluation, figures and bundle. After each kill it resumes with the
documented command (docs/workflow.md, "Resume"):

    snakemake --unlock ...; snakemake --cores C --configfile CONFIG --rerun-incomplete

Then it compares every file under results/ with the reference, byte for byte. Files that
cannot be byte-identical are compared by what they declare (``compare``): timings are left
out, provenance and the bundle card without their timestamps, .keras archives by their
config and weights, PDFs without their creation date. Prints kills, resumes, files compared
and the files that differ, and exits 1 if any differs.

Run: python benchmarks/faults.py [--kills 30] [--seed 1] [--cores 2] [--work DIR]
"""

import argparse
import csv
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import h5py

REPO = Path(__file__).resolve().parents[1]
# Written by the run but not comparable: wall times and benchmark files measure this machine.
TIMINGS = ("results/benchmarks/", "results/timing/timing.csv", "results/figures/fig1b.")
TIME_COLUMNS = re.compile(r"^(wall_s|seconds.*|.*_seconds|time.*|s|h:m:s|max_rss|max_vms|"
                          r"max_uss|max_pss|io_in|io_out|mean_load|cpu_time)$")


def snakemake(work: Path, config: Path, cores: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
            "--directory", str(work), "--cores", str(cores), "--configfile", str(config), *extra]


def run(args, timeout=None) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def reference(work: Path, config: Path, cores: int) -> float:
    start = time.perf_counter()
    proc = run(snakemake(work, config, cores))
    if proc.wait() != 0:
        sys.exit(f"faults.py: the uninterrupted run failed in {work}")
    return time.perf_counter() - start


def campaign(work: Path, config: Path, cores: int, moments: list[float]) -> dict:
    """Kill at each moment of cumulative run time, resume each time; then run to the end."""
    kills, resumes, elapsed = [], 0, 0.0
    for moment in moments:
        subprocess.run(snakemake(work, config, cores, "--unlock"), cwd=REPO,
                       capture_output=True)
        proc = run(snakemake(work, config, cores, "--rerun-incomplete"))
        resumes += 1
        wait = max(moment - elapsed, 0.0)
        try:
            proc.wait(timeout=wait)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        elapsed += wait
        if finished:  # the run ended before this moment: nothing left to kill
            break
        running = sorted(p.parent.name + "/" + p.name for p in (work / "logs").rglob("*.log")
                         if time.time() - p.stat().st_mtime < 2) if (work / "logs").is_dir() \
            else []
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills.append({"at_s": round(moment, 1), "logs_being_written": running})
    subprocess.run(snakemake(work, config, cores, "--unlock"), cwd=REPO, capture_output=True)
    final = run(snakemake(work, config, cores, "--rerun-incomplete"))
    resumes += 1
    if final.wait() != 0:
        sys.exit(f"faults.py: the resumed run failed in {work}")
    return {"kills": kills, "resumes": resumes}


def _csv_without_times(data: bytes):
    rows = list(csv.reader(io.StringIO(data.decode())))
    if not rows:
        return rows
    keep = [i for i, name in enumerate(rows[0]) if not TIME_COLUMNS.match(name)]
    return [[row[i] for i in keep if i < len(row)] for row in rows]


def _h5_contents(source) -> dict:
    out = {}
    with h5py.File(source, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[...].tobytes()
            out[name + "@attrs"] = sorted((k, str(v)) for k, v in obj.attrs.items())
        f.visititems(visit)
        out["@attrs"] = sorted((k, str(v)) for k, v in f.attrs.items())
    return out


def _keras_contents(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        out = {}
        for name in z.namelist():
            data = z.read(name)
            if name == "metadata.json":  # holds the date it was saved
                meta = json.loads(data)
                meta.pop("date_saved", None)
                out[name] = meta
            elif name.endswith(".h5"):
                out[name] = _h5_contents(io.BytesIO(data))
            else:
                out[name] = data
    return out


def _json_without(data: bytes, keys: tuple) -> dict:
    record = json.loads(data)
    return {k: v for k, v in record.items() if k not in keys}


def compare(rel: str, a: Path, b: Path) -> str | None:
    """None when the files agree (bytes, or declared contents); else how they differ."""
    x, y = a.read_bytes(), b.read_bytes()
    if x == y:
        return None
    if rel.endswith(".keras"):
        same = _keras_contents(a) == _keras_contents(b)
    elif rel.endswith(".h5"):
        same = _h5_contents(a) == _h5_contents(b)
    elif rel.endswith(".csv") or rel.endswith(".tsv"):
        same = _csv_without_times(x) == _csv_without_times(y)
    elif rel.endswith("provenance.json"):
        same = _json_without(x, ("date", "hostname")) == _json_without(y, ("date", "hostname"))
    elif rel.endswith("card.json"):
        same = _json_without(x, ("created",)) == _json_without(y, ("created",))
    elif rel.endswith(".pdf"):
        strip = re.compile(rb"/CreationDate \([^)]*\)")
        same = strip.sub(b"", x) == strip.sub(b"", y)
    elif rel.endswith("provenance.html"):
        strip = re.compile(rb"<tr><th>(date|hostname)</th><td>[^<]*</td></tr>")
        same = strip.sub(b"", x) == strip.sub(b"", y)
    else:
        same = False
    return None if same else f"{len(x)} / {len(y)} bytes, contents differ"


def files(root: Path) -> set:
    return {str(p.relative_to(root)) for p in (root / "results").rglob("*") if p.is_file()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--config", default=str(REPO / "config" / "test.yaml"))
    p.add_argument("--work", default=None, help="folder for both runs (default: a temporary one)")
    p.add_argument("--min-segment", type=float, default=6.0,
                   help="seconds a resumed run gets at least before the next kill")
    p.add_argument("--json", default=None, help="write the campaign's record here")
    a = p.parse_args(argv)
    work = Path(a.work or tempfile.mkdtemp(prefix="rgtopo-faults-"))
    config = Path(a.config).resolve()
    ref, killed = work / "reference", work / "killed"
    for d in (ref, killed):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    print(f"reference run in {ref} ...", file=sys.stderr)
    total = reference(ref, config, a.cores)
    rng = random.Random(a.seed)
    moments = sorted(rng.uniform(0, total) for _ in range(a.kills))
    spaced, last = [], 0.0
    for m in moments:  # every resumed run gets min_segment seconds, so the run moves on
        last = max(m, last + a.min_segment)
        spaced.append(last)
    print(f"reference: {total:.0f} s; campaign of {a.kills} kills in {killed} ...",
          file=sys.stderr)
    record = campaign(killed, config, a.cores, spaced)
    names = files(ref) | files(killed)
    skipped = sorted(n for n in names if n.startswith(TIMINGS))
    differ, missing = {}, []
    for rel in sorted(names - set(skipped)):
        if not (ref / rel).is_file() or not (killed / rel).is_file():
            missing.append(rel)
            continue
        why = compare(rel, ref / rel, killed / rel)
        if why:
            differ[rel] = why
    record.update(reference_s=round(total, 1), files_compared=len(names) - len(skipped),
                  timing_files_left_out=len(skipped), missing=missing, differ=differ,
                  seed=a.seed, config=str(config))
    print(f"kills: {len(record['kills'])}, resumes: {record['resumes']}, files compared: "
          f"{record['files_compared']} (timing files left out: {len(skipped)}), missing on "
          f"one side: {len(missing)}, differing: {len(differ)}")
    for kill in record["kills"]:
        print(f"  killed at {kill['at_s']:7.1f} s while writing {', '.join(kill['logs_being_written']) or '(no job log)'}")
    for rel in missing:
        print(f"  missing: {rel}")
    for rel, why in differ.items():
        print(f"  differs: {rel}: {why}")
    if a.json:
        Path(a.json).write_text(json.dumps(record, indent=2) + "\n")
    return 1 if differ or missing else 0


if __name__ == "__main__":
    sys.exit(main())
