"""Kills anywhere in the DAG: the workflow killed K times and resumed ends as if never killed.

Runs the workflow on a config (default config/test.yaml: the whole DAG in a few minutes)
once without interruption (the reference), then again from empty directories (--rounds, one
per 8 kills) where the whole process group (Snakemake and every job) is SIGKILLed at moments
drawn from --seed uniformly over the reference's wall time, so that they fall on sampling,
labeling, the three training stages, the statistics baseline, evaluation, figures and bundle.
After each kill it resumes with the documented command (docs/workflow.md, "Resume"):

    snakemake --unlock ...; snakemake --cores C --configfile CONFIG --rerun-incomplete

Then it compares every file under results/ with the reference, byte for byte. Files that
cannot be byte-identical are compared by what they declare (``compare``): timings are left
out, provenance and the bundle card without their timestamps, .keras archives by their
config and weights, PDFs without their creation date. Prints kills, resumes, files compared
and the files that differ, and exits 1 if any differs.

With --full-disk F [F ...] (as root) it also runs with results/ on a tmpfs holding the fraction
F of the reference's results, once per fraction: the run
must stop with one line in the log of each job that could not write, leave no temporary and
no unfinished output, and, once the tmpfs is given room again, resume to the same files.

Run: python benchmarks/faults.py [--kills 30] [--seed 1] [--cores 2] [--work DIR] [--rounds R]
                                 [--full-disk 0.1 0.4 0.8]
"""

import argparse
import base64
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


def campaign(work: Path, config: Path, cores: int, moments: list[float],
             restart: float) -> dict:
    """Kill at each moment of the run's own time (the reference's clock: each resumed run gets
    ``restart`` seconds more for Snakemake and its jobs to start again), resume each time; then
    run to the end."""
    kills, resumes, elapsed = [], 0, 0.0
    for moment in moments:
        subprocess.run(snakemake(work, config, cores, "--unlock"), cwd=REPO,
                       capture_output=True)
        proc = run(snakemake(work, config, cores, "--rerun-incomplete"))
        resumes += 1
        wait = max(moment - elapsed, 0.0)
        try:
            proc.wait(timeout=wait + (restart if resumes > 1 else 0.0))
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        elapsed += wait
        if finished:  # the run ended before this moment: nothing left to kill
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills.append({"at_s": round(moment, 1), "outputs_in_progress": in_progress(work)})
    subprocess.run(snakemake(work, config, cores, "--unlock"), cwd=REPO, capture_output=True)
    final = run(snakemake(work, config, cores, "--rerun-incomplete"))
    resumes += 1
    if final.wait() != 0:
        sys.exit(f"faults.py: the resumed run failed in {work}")
    return {"kills": kills, "resumes": resumes}


def in_progress(work: Path) -> list[str]:
    """The outputs Snakemake had marked incomplete when the run was killed (its jobs then)."""
    marks = work / ".snakemake" / "incomplete"
    names = []
    for mark in marks.iterdir() if marks.is_dir() else ():
        try:
            names.append(base64.urlsafe_b64decode(mark.name.encode() + b"==").decode())
        except (ValueError, UnicodeDecodeError):
            names.append(mark.name)
    return sorted(names)


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


def _normal(value):
    """A JSON value without what differs between two equal runs: wall times, Keras'
    ``shared_object_id`` (it marks objects shared in memory when the model was saved: a Python
    id(), and absent from a model that was loaded from a checkpoint, which shares none) and the
    byte digests of .keras files in training fingerprints (their zip entries carry dates)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()
                if not TIME_COLUMNS.match(k) and k != "shared_object_id"}
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], str) and value[0].endswith(".keras"):
            return [value[0]]
        return [_normal(v) for v in value]
    return value


def _keras_contents(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        out = {}
        for name in z.namelist():
            data = z.read(name)
            if name == "metadata.json":  # holds the date it was saved
                meta = json.loads(data)
                meta.pop("date_saved", None)
                out[name] = meta
            elif name.endswith(".json"):
                out[name] = _normal(json.loads(data))
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
        run = ("date", "hostname", "git_commit", "git_dirty")  # when, where and which commit
        same = _json_without(x, run) == _json_without(y, run)
    elif rel.endswith("card.json"):
        made = ("created", "git_commit", "git_dirty")
        same = _json_without(x, made) == _json_without(y, made)
    elif rel.endswith(".json"):
        same = _normal(json.loads(x)) == _normal(json.loads(y))
    elif rel.endswith(".pdf"):
        strip = re.compile(rb"/CreationDate \([^)]*\)")
        same = strip.sub(b"", x) == strip.sub(b"", y)
    elif rel.endswith("provenance.html"):
        strip = re.compile(rb"<tr><th>(date|hostname|git_commit|git_dirty)</th><td>[^<]*</td></tr>")
        same = strip.sub(b"", x) == strip.sub(b"", y)
    else:
        same = False
    return None if same else f"{len(x)} / {len(y)} bytes, contents differ"


def mount_tmpfs(where: Path, mb: float) -> str | None:
    """Mount a tmpfs of ``mb`` MB at ``where``; the reason as text where that is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={int(mb * 1024)}k", "tmpfs",
                           str(where)], capture_output=True, text=True)
    return None if done.returncode == 0 else (done.stderr.strip() or "mount failed")


def failed_jobs(text: str, work: Path) -> dict:
    """{rule's log file: its last line} for each job Snakemake reports as failed."""
    out = {}
    for block in text.split("Error in rule ")[1:]:
        log = re.search(r"^\s*log: (\S+)", block, re.M)
        if log:
            path = work / log.group(1)
            lines = [ln for ln in path.read_text().splitlines() if ln.strip()] \
                if path.is_file() else []
            out[log.group(1)] = {"last_line": lines[-1] if lines else "",
                                 "traceback": any(ln.startswith("Traceback") for ln in lines)}
    return out


RESUMABLE = ("/state/", ".progress/")
"""Where the package keeps what a stopped job resumes from (not Snakemake outputs): a training
phase's state directory and a label job's finished chunks beside its shard."""


def resumable_state(rel: str, path: Path) -> str | None:
    """Why a file of a resumable state (``RESUMABLE``) is not complete, or a training state is
    marked finished, or None. A run stopped midway leaves it at an earlier epoch or chunk than
    the uninterrupted run, by design."""
    try:
        if path.name == "state.json":
            if json.loads(path.read_text()).get("finished"):
                return "a state marked finished"
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix in (".keras", ".npz"):
            with zipfile.ZipFile(path) as z:
                if z.testzip() is not None:
                    return "a damaged archive"
        elif path.suffix == ".csv":
            list(csv.reader(io.StringIO(path.read_text())))
    except (OSError, ValueError, zipfile.BadZipFile, csv.Error) as exc:
        return f"unreadable ({exc})"
    return None


def complete_extra(path: Path) -> str | None:
    """Why a file the reference run no longer has (a temporary shard) is not complete, or None."""
    from rgtopo.data.shards import verify_shard
    from rgtopo.errors import ShardError

    if path.suffix != ".h5":
        return "not in the reference run"
    try:
        verify_shard(path)
    except ShardError as exc:
        return str(exc)
    return None


def full_disk(work: Path, ref: Path, config: Path, cores: int, mb: float) -> dict:
    """The workflow with results/ on a tmpfs of ``mb`` MB: it must stop with one line per job
    that cannot write and leave only finished outputs; given room again, the documented resume
    must end equal to the reference."""
    run_dir = work / f"full_disk_{mb:.1f}MB"
    if (run_dir / "results").is_mount():
        subprocess.run(["umount", "-l", str(run_dir / "results")])
    shutil.rmtree(run_dir, ignore_errors=True)
    why = mount_tmpfs(run_dir / "results", mb)
    if why:
        return {"skipped": f"cannot mount a tmpfs ({why}); run as root to measure a full disk"}
    record = {"disk_mb": mb}
    try:
        full = subprocess.run(snakemake(run_dir, config, cores), cwd=REPO, capture_output=True,
                              text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        (run_dir / "full_disk_snakemake.log").write_text(full.stdout + full.stderr)
        record["exit_when_full"] = full.returncode
        record["failed_jobs"] = failed_jobs(full.stdout + full.stderr, run_dir)
        names = files(run_dir)
        record["temporaries_left"] = sorted(n for n in names if ".tmp-" in n or ".old-" in n)
        record["files_when_full"] = len(names)
        # Files of both runs must be equal; a file the reference lacks is a temporary output
        # (an unlabeled shard) its consumer had not yet read: it must be complete too. What a
        # stopped job resumes from (RESUMABLE) may hold an earlier epoch or chunk: it must be
        # complete, and a training state unfinished.
        record["unfinished_files_when_full"] = {
            rel: why for rel in sorted(names) if not rel.startswith(TIMINGS)
            and (why := (compare(rel, ref / rel, run_dir / rel) if (ref / rel).is_file()
                         else complete_extra(run_dir / rel)))
            and (not any(where in rel for where in RESUMABLE)
                 or resumable_state(rel, run_dir / rel))}
        subprocess.run(["mount", "-o", f"remount,size={int(mb * 1024 * 20)}k",
                        str(run_dir / "results")], check=True)
        subprocess.run(snakemake(run_dir, config, cores, "--unlock"), cwd=REPO,
                       capture_output=True)
        resumed = subprocess.run(snakemake(run_dir, config, cores, "--rerun-incomplete"),
                                 cwd=REPO, capture_output=True, text=True)
        record["exit_after_room"] = resumed.returncode
        names = files(ref) | files(run_dir)
        skipped = sorted(n for n in names if n.startswith(TIMINGS))
        record["files_compared"] = len(names) - len(skipped)
        record["missing"] = sorted(n for n in set(names) - set(skipped)
                                   if not (ref / n).is_file() or not (run_dir / n).is_file())
        record["differ"] = {rel: why for rel in sorted(set(names) - set(skipped)
                                                       - set(record["missing"]))
                            if (why := compare(rel, ref / rel, run_dir / rel))}
    finally:
        subprocess.run(["umount", "-l", str(run_dir / "results")])
    return record


def files(root: Path) -> set:
    return {str(p.relative_to(root)) for p in (root / "results").rglob("*") if p.is_file()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--config", default=str(REPO / "config" / "test.yaml"))
    p.add_argument("--work", default=None, help="folder for both runs (default: a temporary one)")
    p.add_argument("--rounds", type=int, default=None,
                   help="runs from an empty directory the kills are shared among (default: one "
                        "per 8 kills), each killed at moments drawn over the whole reference run")
    p.add_argument("--restart", type=float, default=8.0,
                   help="seconds a resumed run gets on top, to start Snakemake and its jobs again")
    p.add_argument("--full-disk", type=float, nargs="+", default=None, metavar="FRACTION",
                   help="also run with results/ on a tmpfs (as root) holding this fraction of "
                        "the reference's results, once per fraction, then resume with room")
    p.add_argument("--reuse-reference", action="store_true",
                   help="keep the uninterrupted run of an earlier call in --work")
    p.add_argument("--json", default=None, help="write the campaign's record here")
    a = p.parse_args(argv)
    work = Path(a.work or tempfile.mkdtemp(prefix="rgtopo-faults-"))
    config = Path(a.config).resolve()
    ref = work / "reference"
    if a.reuse_reference and (ref / "results").is_dir():
        total = float(json.loads((ref / "reference.json").read_text())["seconds"])
    else:
        shutil.rmtree(ref, ignore_errors=True)
        ref.mkdir(parents=True)
        print(f"reference run in {ref} ...", file=sys.stderr)
        total = reference(ref, config, a.cores)
        (ref / "reference.json").write_text(json.dumps({"seconds": total}))
    rng = random.Random(a.seed)
    rounds = a.rounds or (max(1, -(-a.kills // 8)) if a.kills else 0)
    skipped = []
    record = {"kills": [], "resumes": 0, "files_compared": 0, "missing": [], "differ": {}}
    for r in range(rounds):
        killed = work / f"killed_{r}"
        shutil.rmtree(killed, ignore_errors=True)
        killed.mkdir(parents=True)
        count = a.kills // rounds + (r < a.kills % rounds)
        moments = sorted(rng.uniform(0, total) for _ in range(count))
        print(f"round {r + 1}/{rounds}: {count} kills in {killed} ...", file=sys.stderr)
        done = campaign(killed, config, a.cores, moments, a.restart)
        record["kills"] += [{"round": r + 1, **k} for k in done["kills"]]
        record["resumes"] += done["resumes"]
        names = files(ref) | files(killed)
        skipped = sorted(n for n in names if n.startswith(TIMINGS))
        record["files_compared"] += len(names) - len(skipped)
        for rel in sorted(names - set(skipped)):
            if not (ref / rel).is_file() or not (killed / rel).is_file():
                record["missing"].append(f"round {r + 1}: {rel}")
                continue
            why = compare(rel, ref / rel, killed / rel)
            if why:
                record["differ"][f"round {r + 1}: {rel}"] = why
    if a.full_disk:
        size = sum(p.stat().st_size for p in (ref / "results").rglob("*") if p.is_file()) / 1e6
        record["full_disk"] = []
        for fraction in a.full_disk:
            print(f"full disk: results/ on a tmpfs of {fraction} x {size:.1f} MB ...",
                  file=sys.stderr)
            record["full_disk"].append(full_disk(work, ref, config, a.cores, fraction * size))
            print(full_disk_text(record["full_disk"][-1]), flush=True)
    missing, differ = record["missing"], record["differ"]
    record.update(reference_s=round(total, 1), rounds=rounds, timing_files_left_out=len(skipped),
                  seed=a.seed, config=str(config))
    print(f"kills: {len(record['kills'])} in {rounds} runs, resumes: {record['resumes']}, "
          f"files compared: "
          f"{record['files_compared']} (timing files left out: {len(skipped)}), missing on "
          f"one side: {len(missing)}, differing: {len(differ)}")
    for kill in record["kills"]:
        doing = ", ".join(kill["outputs_in_progress"]) or "(between jobs)"
        print(f"  run {kill['round']}, killed at {kill['at_s']:6.1f} s while making {doing}")
    for rel in missing:
        print(f"  missing: {rel}")
    for rel, why in differ.items():
        print(f"  differs: {rel}: {why}")
    if a.json:
        Path(a.json).write_text(json.dumps(record, indent=2) + "\n")
    disk_failed = any("skipped" not in disk and (
        disk["exit_when_full"] == 0 or disk["exit_after_room"] != 0 or disk["missing"]
        or disk["differ"] or disk["temporaries_left"] or disk["unfinished_files_when_full"]
        or not all(j["last_line"] and not j["traceback"] for j in disk["failed_jobs"].values()))
        for disk in record.get("full_disk", []))
    return 1 if differ or missing or disk_failed else 0


def full_disk_text(disk: dict) -> str:
    if "skipped" in disk:
        return f"full disk: skipped: {disk['skipped']}"
    lines = [f"full disk ({disk['disk_mb']:.1f} MB): exit {disk['exit_when_full']}, "
             f"{len(disk['failed_jobs'])} jobs could not write, temporaries left: "
             f"{len(disk['temporaries_left'])}, unfinished outputs left: "
             f"{len(disk['unfinished_files_when_full'])}; with room again: exit "
             f"{disk['exit_after_room']}, files compared: {disk['files_compared']}, missing: "
             f"{len(disk['missing'])}, differing: {len(disk['differ'])}"]
    for log, job in disk["failed_jobs"].items():
        lines.append(f"  {log}: {job['last_line']}" + (" (after a traceback)"
                                                        if job["traceback"] else ""))
    for rel, why in {**disk["unfinished_files_when_full"], **disk["differ"]}.items():
        lines.append(f"  differs: {rel}: {why}")
    lines += [f"  missing: {rel}" for rel in disk["missing"]]
    lines += [f"  temporary left: {rel}" for rel in disk["temporaries_left"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
