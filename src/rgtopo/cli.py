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

    sample_shard(a.spec, a.shard, a.shard_size, a.out, count=a.count)
    _log(f"sampled shard {a.shard} ({a.shard_size} lattices) -> {a.out}")


def _cmd_label(a):
    from .datasets import label_shard

    t0 = time.perf_counter()
    label_shard(a.inp, a.out, threads=a.threads, chunk=a.chunk, log=_log)
    _log(f"labeled {a.inp} -> {a.out} in {time.perf_counter() - t0:.1f} s")


def _training(a):
    from . import training

    training.configure(a.threads, a.params["seed"])
    if a.require_gpu:
        from .devices import require_gpu

        require_gpu()
    _log(f"TensorFlow devices: {training.device_summary()}; threads={a.threads}")
    return training


def _cmd_train_base(a):
    _training(a).train_base(a.params, a.train, a.validation, model_out=a.model_out,
                            history_out=a.history_out, state_dir=a.state_dir, log=_log)


def _cmd_init_decimation(a):
    check = {int(n): paths for n, paths in a.params["check_shards"].items()}
    _training(a).init_decimation(a.params, a.train, check, model_out=a.model_out,
                                 history_out=a.history_out, metrics_out=a.metrics_out,
                                 state_dir=a.state_dir, log=_log)


def _cmd_train_rg(a):
    validation = {int(n): paths for n, paths in a.params["validation_shards"].items()}
    _training(a).train_rg(a.params, a.base, a.init, a.train, validation, epochs_dir=a.epochs_dir,
                          history_out=a.history_out, selected_out=a.selected_out,
                          state_dir=a.state_dir, select_size=a.params["select_size"], log=_log)


def _cmd_evaluate(a):
    from .evaluation import evaluate, write_metrics

    _training(a)
    tests = {int(n): paths for n, paths in a.params["test_shards"].items()}
    table = evaluate(a.base, tests, a.main_history, a.selected, a.uninitialized_history,
                     main_epochs=a.main_epochs, uninitialized_epochs=a.uninitialized_epochs,
                     eval_sizes=a.params["eval_sizes"], select_size=a.params["select_size"],
                     batch_size=a.params["batch_size"])
    write_metrics(table, a.csv_out, a.json_out)
    _log("\n" + table.to_string(index=False))


def _cmd_timing(a):
    from .figures import measure_timing
    from .models import load_model

    _training(a)
    p = a.params
    table = measure_timing(load_model(a.base), load_model(a.rg), p["bott_sizes"],
                           p["network_sizes"], min_seconds=p["min_seconds"],
                           network_batch=p["network_batch"], seed=p["seed"], threads=a.threads)
    table.to_csv(a.out, index=False)
    _log("\n" + table.to_string(index=False))


def _cmd_figure(a):
    import pandas as pd

    from . import figures

    p, name, inp = a.params, a.name, a.inputs
    if name in ("fig2", "fig7", "fig8"):
        _training(a)
    if name == "fig1b":
        figures.fig1b(pd.read_csv(inp[0]), a.out)
    elif name == "fig2":
        figures.fig2(inp[1:], inp[0], p["grid"], p["delta0"], a.threads, a.out)
    elif name == "fig3":
        figures.fig3(pd.read_csv(inp[0]), p["select_size"], a.out)
    elif name == "fig4":
        figures.fig4(inp, p["alpha"], p["bins"], a.out)
    elif name == "fig5":
        figures.fig5(pd.read_csv(inp[0]), a.out)
    elif name == "fig6":
        figures.fig6({r: pd.read_csv(f) for r, f in zip(p["runs"], inp)}, a.out)
    elif name == "fig7":
        figures.fig7(inp[0], p["grid"], p["steps"], p["delta0"], p["lattice_size"], a.out)
    elif name == "fig8":
        figures.fig8(inp[0], p["size"], p["site"], p["mu0"], p["t_minus0"], p["delta0"],
                     p["strengths"], a.out)
    elif name == "fig_training":
        figures.fig_training({h: pd.read_csv(f) for h, f in zip(p["histories"], inp)}, a.out,
                             p["select_size"])
    elif name == "table1":
        figures.table1(pd.read_csv(inp[0]), a.out, p["config_name"])
    _log(f"{name} -> {a.out}.*")


def _cmd_provenance(a):
    from .provenance import collect, write

    p = a.params
    record = collect(p["config"], repo=a.repo, logs=a.logs, config_files=p["config_files"],
                     snakemake_version=p.get("snakemake_version"))
    write(record, a.json_out, a.html_out)
    _log(f"provenance: commit {record['git_commit']}, devices {record['tensorflow_devices']}")


FIGURES = ("fig1b", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig_training",
           "table1")


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rgtopo", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="draw one unlabeled dataset shard")
    s.add_argument("--spec", type=_json, required=True, help="dataset spec (JSON)")
    s.add_argument("--shard", type=int, required=True)
    s.add_argument("--shard-size", type=int, required=True)
    s.add_argument("--count", type=int, default=None, help="total lattices in the dataset")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_sample, threads=1, blas_single=True)

    s = sub.add_parser("label", help="Bott-label one shard")
    s.add_argument("--in", dest="inp", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--chunk", type=int, default=None, help="lattices per progress line")
    s.set_defaults(func=_cmd_label, blas_single=True)

    def stage(name, func, help_, **paths):
        s = sub.add_parser(name, help=help_)
        s.add_argument("--params", type=_json, required=True, help="stage parameters (JSON)")
        s.add_argument("--threads", type=int, default=1)
        s.add_argument("--require-gpu", action="store_true",
                       help="stop at once (exit 2) if TensorFlow sees no GPU")
        for flag, nargs in paths.items():
            s.add_argument(f"--{flag.replace('_', '-')}", dest=flag, required=True,
                           nargs=nargs or None)
        s.set_defaults(func=func, blas_single=False)
        return s

    stage("train-base", _cmd_train_base, "stage 1: train the 4x4 base network",
          train="+", validation="+", model_out=0, history_out=0, state_dir=0)
    stage("init-decimation", _cmd_init_decimation, "stage 2: RG network -> 2x2 average pooling",
          train="+", model_out=0, history_out=0, metrics_out=0, state_dir=0)
    s = stage("train-rg", _cmd_train_rg, "stage 3: RG network on 8x8 Chern labels",
              base=0, train="+", epochs_dir=0, history_out=0, selected_out=0, state_dir=0)
    s.add_argument("--init", default=None, help="decimation-initialized RG (omit: random start)")
    stage("evaluate", _cmd_evaluate, "accuracies of every network against the paper",
          base=0, selected=0, main_history=0, uninitialized_history=0, main_epochs=0,
          uninitialized_epochs=0, csv_out=0, json_out=0)
    stage("timing", _cmd_timing, "seconds per lattice: Bott labeler and compound network",
          base=0, rg=0, out=0)
    s = stage("figure", _cmd_figure, "draw one figure from result files", inputs="+", out=0)
    s.add_argument("name", choices=FIGURES)

    s = sub.add_parser("provenance", help="record versions, git commit, device, host and config")
    s.add_argument("--params", type=_json, required=True,
                   help="{config, config_files, snakemake_version} (JSON)")
    s.add_argument("--repo", required=True, help="the workflow's checkout (for its git commit)")
    s.add_argument("--logs", nargs="*", default=[], help="job logs with 'TensorFlow devices:'")
    s.add_argument("--json-out", required=True)
    s.add_argument("--html-out", required=True)
    s.set_defaults(func=_cmd_provenance, threads=1, blas_single=True)
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
