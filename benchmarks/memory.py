"""Memory guards measured: a lattice file larger than the memory allowed, and one lattice too big.

1. Streaming. Writes a ``.npy`` file of --file-gb of N x N lattices (--size) and runs
   ``rgtopo predict`` on it inside a memory cgroup limited to --limit-gb (Linux, as root;
   elsewhere it runs unconfined and says so). Reports the exit status, the wall time, the peak
   resident memory of the command (``ru_maxrss``) and the cgroup's own peak (which also counts
   the page cache it was charged for, and stays under the limit by construction).
2. The guard. A 16384x16384 lattice in a sparse file (no disk used): ``rgtopo predict`` must
   refuse it with one line, before reading it, with the estimate in the message.

Run: python benchmarks/memory.py [--file-gb 1.6] [--limit-gb 1.0] [--size 64] [--json OUT]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CGROUP_V1 = Path("/sys/fs/cgroup/memory")
CGROUP_V2 = Path("/sys/fs/cgroup")


def write_npy(path: Path, size: int, count: int, seed: int = 0) -> None:
    """``count`` lattices written in parts, so the file may exceed the memory of this process."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (count, size, size, 3)})
        for start in range(0, count, 1024):
            b = min(1024, count - start)
            lat = np.empty((b, size, size, 3), np.float32)
            lat[..., 0] = rng.uniform(-4, 4, (b, 1, 1)) + rng.normal(0, 0.5, (b, size, size))
            lat[..., 1] = rng.uniform(-2, 2, (b, 1, 1)) + rng.normal(0, 0.2, (b, size, size))
            lat[..., 2] = 0.15 + rng.normal(0, 0.05, (b, size, size))
            f.write(lat.tobytes())


def make_cgroup(name: str, limit_bytes: int):
    """(cgroup.procs path, peak-usage path) of a new memory cgroup, or None where not allowed."""
    try:
        if (CGROUP_V1 / "memory.limit_in_bytes").exists():
            d = CGROUP_V1 / name
            d.mkdir(exist_ok=True)
            (d / "memory.limit_in_bytes").write_text(str(limit_bytes))
            return d, d / "cgroup.procs", d / "memory.max_usage_in_bytes"
        if (CGROUP_V2 / "cgroup.controllers").exists():
            d = CGROUP_V2 / name
            d.mkdir(exist_ok=True)
            (d / "memory.max").write_text(str(limit_bytes))
            return d, d / "cgroup.procs", d / "memory.peak"
    except OSError:
        return None
    return None


def run(argv, procs: Path | None) -> dict:
    """Run argv (in the cgroup when given); exit status, wall time and peak RSS of its tree."""
    def enter():
        if procs is not None:
            procs.write_text(str(os.getpid()))

    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=enter, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"exit": proc.returncode, "wall_s": round(time.perf_counter() - start, 1),
            "peak_rss_gb": round(usage.ru_maxrss * 1024 / 1e9, 3),
            "stderr_lines": [line for line in err.splitlines()  # all but the progress lines
                             if line.strip() and "] predicted " not in line]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--file-gb", type=float, default=1.6)
    p.add_argument("--limit-gb", type=float, default=1.0)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--work", default=None, help="folder for the files (default: a temporary one)")
    p.add_argument("--json", default=None, help="write the record here")
    a = p.parse_args(argv)
    work = Path(a.work or tempfile.mkdtemp(prefix="rgtopo-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    record = {}
    rgtopo = [sys.executable, "-m", "rgtopo", "predict"]

    # 2. the guard: refused before the lattice is read
    n = 16384
    with open(work / "huge.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (n, n, 3)})
        f.truncate(f.tell() + n * n * 3 * 4)
    record["guard"] = {"lattice": f"{n}x{n}", "file_gb": round((work / "huge.npy").stat().st_size
                                                               / 1e9, 2),
                       **run(rgtopo + [str(work / "huge.npy"), "--out", str(work / "huge.csv")],
                             None),
                       "output_written": (work / "huge.csv").exists()}
    print("guard:", json.dumps(record["guard"]), flush=True)

    # 1. streaming a file larger than the memory allowed
    per = a.size * a.size * 3 * 4
    count = int(a.file_gb * 1e9 // per)
    data = work / "lattices.npy"
    t = time.perf_counter()
    write_npy(data, a.size, count)
    print(f"wrote {data} ({data.stat().st_size / 1e9:.2f} GB, {count:,} lattices of "
          f"{a.size}x{a.size}) in {time.perf_counter() - t:.0f} s", flush=True)
    limit = int(a.limit_gb * 1e9)
    group = make_cgroup(f"rgtopo-memory-{os.getpid()}", limit)
    procs = peak_file = None
    if group is not None:
        _, procs, peak_file = group
    out = work / "predicted.h5"
    row = run(rgtopo + [str(data), "--out", str(out), "--batch-size", str(a.batch_size)], procs)
    row.update(file_gb=round(data.stat().st_size / 1e9, 2), lattices=count,
               size=f"{a.size}x{a.size}", batch_size=a.batch_size,
               memory_limit_gb=a.limit_gb if group else None,
               cgroup_peak_gb=round(int(peak_file.read_text()) / 1e9, 3) if group else None,
               rows_written=None)
    if out.exists():
        import h5py

        with h5py.File(out, "r") as f:
            row["rows_written"] = len(f["chern"])
    if group is not None:
        try:
            group[0].rmdir()
        except OSError:
            pass
    record["streaming"] = row
    print("streaming:", json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(record, indent=1) + "\n")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    ok = (record["guard"]["exit"] == 2 and not record["guard"]["output_written"]
          and row["exit"] == 0 and row["rows_written"] == count)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
