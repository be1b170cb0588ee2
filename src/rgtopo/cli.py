"""Command line: one subcommand per workflow step (``python -m rgtopo STEP ...``).

Each subcommand takes explicit paths and a JSON of its parameters (the workflow
passes the relevant slice of the config), so the package never reads the
Snakemake config itself. Known errors end with one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def _set_threads(threads: int, *, blas_single: bool) -> None:
    """Thread pools Snakemake does not set itself (Numba, TensorFlow); before imports."""
    os.environ["NUMBA_NUM_THREADS"] = str(max(threads, 1))
    if blas_single:
        for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
            os.environ[var] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _cmd_sample(a):
    from .datasets import sample_shard

    sample_shard(a.spec, a.shard, a.shard_size, a.out)
    _log(f"sampled shard {a.shard} ({a.shard_size} lattices) -> {a.out}")


def _cmd_label(a):
    from .datasets import label_shard

    t0 = time.perf_counter()
    label_shard(a.inp, a.out, threads=a.threads, chunk=a.chunk, log=_log)
    _log(f"labeled {a.inp} -> {a.out} in {time.perf_counter() - t0:.1f} s")


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rgtopo", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="draw one unlabeled dataset shard")
    s.add_argument("--spec", type=_json, required=True, help="dataset spec (JSON)")
    s.add_argument("--shard", type=int, required=True)
    s.add_argument("--shard-size", type=int, required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_sample, threads=1, blas_single=True)

    s = sub.add_parser("label", help="Bott-label one shard")
    s.add_argument("--in", dest="inp", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--chunk", type=int, default=None, help="lattices per progress line")
    s.set_defaults(func=_cmd_label, blas_single=True)

    return p


def main(argv=None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    _set_threads(getattr(args, "threads", 1), blas_single=args.blas_single)
    from .errors import KNOWN_ERRORS

    try:
        args.func(args)
    except KNOWN_ERRORS as exc:
        print(f"rgtopo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0
