"""Command line: ``rgtopo chern`` / ``rgtopo predict`` for a user's own lattice files,
``rgtopo export-bundle``, and one subcommand per workflow step.

Workflow subcommands take explicit paths and a JSON of their parameters (the
training stages' and the sampler's are ``rgtopo.params`` classes, which the
rules build from the config and these commands check), so the package never
reads the Snakemake config itself. Known errors end with one line on stderr
and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class _Params(dict):
    """A JSON object of stage parameters whose missing keys are one clear SpecError."""

    def __missing__(self, key):
        from .errors import SpecError

        raise SpecError(f"--params is missing '{key}'")


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def _params(text: str) -> dict:
    return _Params(_json(text))


class _Progress:
    """Progress lines on stderr, at most one every few seconds, so short inputs stay quiet."""

    def __init__(self, verb: str, total: int, every: float = 5.0):
        self.verb, self.total, self.every = verb, total, every
        self.t0 = self.last = time.perf_counter()

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last >= self.every and done < self.total:
            self.last = now
            _log(f"{self.verb} {done}/{self.total} lattices ({done / (now - self.t0):.3g}/s)")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with stderr closed: its C++ start-up lines (oneDNN, absl) ignore
    TF_CPP_MIN_LOG_LEVEL, and a user's stderr should hold only rgtopo's own lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _provenance(a, **extra) -> dict:
    from . import __version__

    return {"input": str(Path(a.inp).resolve()), "key": a.key or "", "command": a.command,
            "rgtopo_version": __version__, **extra}


def _cmd_chern(a):
    from .bott import chern_numbers
    from .errors import SpecError
    from .lattice_io import LatticeFile, check_output, write_table

    if a.threads is not None and a.threads < 1:
        raise SpecError(f"--threads must be >= 1, got {a.threads}")
    check_output(a.out, a.inp)
    with LatticeFile(a.inp, a.key) as src:
        total, n = len(src), src.size
        chern, gap, dev = (np.empty(total, np.int64), np.empty(total), np.empty(total))
        # Cost per lattice grows as N^5: about a second of work per batch at any N.
        step = max(a.threads or 1, 4096 * 4**4 // n**4)
        progress = _Progress("labeled", total)
        for start, part in src.batches(step):
            res = chern_numbers(part, threads=a.threads)
            stop = start + len(part)
            chern[start:stop], gap[start:stop], dev[start:stop] = res
            progress(stop)
    write_table(a.out, {"index": np.arange(total), "chern": chern, "gap": gap,
                        "bott_deviation": dev}, _provenance(a))


def _cmd_predict(a):
    from .errors import LatticeError
    from .lattice import rg_steps
    from .lattice_io import LatticeFile, check_output, write_table

    if a.batch_size < 1:
        from .errors import SpecError

        raise SpecError(f"--batch-size must be >= 1, got {a.batch_size}")
    check_output(a.out, a.inp)
    with LatticeFile(a.inp, a.key) as src:
        total = len(src)
        try:
            rg_steps(src.size)
        except LatticeError as exc:
            raise LatticeError(f"{src.path}: {exc}") from None
        from .bundle import load_bundle, read_card

        if a.model is not None:
            read_card(a.model)
        _import_tensorflow_quietly()
        bundle = load_bundle(a.model)
        raw, in_range = np.empty(total), np.empty(total, bool)
        progress = _Progress("predicted", total)
        for start, part in src.batches(bundle.batch_size(src.size, a.batch_size)):
            raw[start : start + len(part)] = bundle.predict(part, a.batch_size)
            in_range[start : start + len(part)] = bundle.in_training_range(part)
            progress(start + len(part))
    if not in_range.all():
        _log(f"warning: {np.count_nonzero(~in_range)} of {total} lattices have averages outside "
             f"the networks' training range ({bundle.training_range_text()}); their predictions "
             "are extrapolations (column in_training_range = 0)")
    caveat = bundle.accuracy_caveat(src.size)
    if caveat is not None:
        _log(f"warning: {caveat}")
    chern = np.rint(raw).astype(np.int64)
    write_table(a.out, {"index": np.arange(total), "chern": chern, "raw": raw,
                        "distance_to_integer": np.abs(raw - chern),
                        "in_training_range": in_range.astype(np.int64)},
                _provenance(a, model=str(bundle.path.resolve()),
                            model_commit=bundle.card.get("git_commit") or ""))


def _cmd_export_bundle(a):
    from .bundle import export_bundle
    from .errors import SpecError

    _import_tensorflow_quietly()
    config = a.config_json
    if a.config is not None:
        import yaml

        try:
            config = yaml.safe_load(Path(a.config).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"{a.config}: not a readable YAML/JSON config ({exc})") from None
    out = export_bundle(a.base, a.rg, a.out, metrics=a.metrics, config=config)
    _log(f"bundle -> {out}")


def _cmd_sample(a):
    from .datasets import sample_shard
    from .params import DatasetSpec

    sample_shard(DatasetSpec.from_dict(a.spec), a.shard, a.shard_size, a.out, count=a.count)
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
    from .params import BaseNetworkParams

    params = BaseNetworkParams.from_dict(a.params)
    _training(a).train_base(params, a.train, a.validation, model_out=a.model_out,
                            history_out=a.history_out, state_dir=a.state_dir, log=_log)


def _cmd_init_decimation(a):
    from .params import DecimationParams
    from .shards import by_size

    params = DecimationParams.from_dict(a.params)
    _training(a).init_decimation(params, a.train, by_size(a.check), model_out=a.model_out,
                                 history_out=a.history_out, metrics_out=a.metrics_out,
                                 state_dir=a.state_dir, log=_log)


def _cmd_train_rg(a):
    from .params import RGTrainingParams
    from .shards import by_size

    params = RGTrainingParams.from_dict(a.params)
    _training(a).train_rg(params, a.base, a.init, a.train, by_size(a.validation),
                          epochs_dir=a.epochs_dir, history_out=a.history_out,
                          selected_out=a.selected_out, state_dir=a.state_dir, log=_log)


def _cmd_evaluate(a):
    from .evaluation import evaluate, write_metrics
    from .params import EvaluationParams
    from .shards import by_size

    params = EvaluationParams.from_dict(a.params)
    _training(a)
    table = evaluate(a.base, by_size(a.tests), a.main_history, a.selected, a.uninitialized_history,
                     main_epochs=a.main_epochs, uninitialized_epochs=a.uninitialized_epochs,
                     eval_sizes=list(params.eval_sizes), select_size=params.select_size,
                     min_gap=params.min_gap, train_size=params.train_size,
                     batch_size=params.batch_size)
    write_metrics(table, a.csv_out, a.json_out)
    _log("\n" + table.to_string(index=False))


def _cmd_timing(a):
    from . import io
    from .timing import measure_timing
    from .nn.saving import load_model

    from .params import TimingParams

    p = TimingParams.from_dict(a.params)
    _training(a)
    table = measure_timing(load_model(a.base), load_model(a.rg), list(p.bott_sizes),
                           list(p.network_sizes), min_seconds=p.min_seconds,
                           network_batch=p.network_batch, seed=p.seed, threads=a.threads)
    io.write_frame(a.out, table)
    _log("\n" + table.to_string(index=False))


def _cmd_figure(a):
    from .figure_registry import FIGURES, check_params, parse_inputs

    figure = FIGURES[a.name]
    check_params(a.name, a.params)
    inputs = parse_inputs(a.name, a.inputs)
    if figure.tensorflow:
        _training(a)
    figure.draw(inputs, a.params, a.out, a.threads)
    _log(f"{a.name} -> {a.out}.*")


def _cmd_provenance(a):
    from .provenance import collect, write

    p = a.params
    record = collect(p["config"], repo=a.repo, logs=a.logs, config_files=p["config_files"],
                     snakemake_version=p.get("snakemake_version"))
    write(record, a.json_out, a.html_out)
    _log(f"provenance: commit {record['git_commit']}, devices {record['tensorflow_devices']}")


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rgtopo", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    inp_help = ".npy, .npz or .h5/.hdf5 file: one lattice (N, N, 3) or a batch (B, N, N, 3)"
    out_help = ".csv or .h5 file, one row per lattice (default: CSV on standard output)"
    key_help = "array (.npz) or dataset (HDF5) to read (default: the only one, or 'lattices')"
    s = sub.add_parser("chern", help="exact Chern numbers of your lattices (Bott index)")
    s.add_argument("inp", metavar="INPUT", help=inp_help)
    s.add_argument("--out", default=None, help=out_help)
    s.add_argument("--key", default=None, help=key_help)
    s.add_argument("--threads", type=int, default=None, help="Numba threads (default: all cores)")
    s.set_defaults(func=_cmd_chern)

    s = sub.add_parser("predict", help="network predictions of Chern numbers (N = 4 * 2^k)")
    s.add_argument("inp", metavar="INPUT", help=inp_help)
    s.add_argument("--out", default=None, help=out_help)
    s.add_argument("--key", default=None, help=key_help)
    s.add_argument("--model", default=None,
                   help="model bundle directory (default: the bundle shipped with rgtopo)")
    s.add_argument("--batch-size", type=int, default=256,
                   help="lattices per network call (fewer at large N, to bound memory)")
    s.set_defaults(func=_cmd_predict)

    s = sub.add_parser("export-bundle", help="write a model bundle (networks + card.json)")
    s.add_argument("--base", required=True, help="saved base network (.keras)")
    s.add_argument("--rg", required=True, help="saved (selected) RG network (.keras)")
    s.add_argument("--metrics", default=None, help="accuracy JSON (results/metrics/accuracy.json)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--config", default=None, help="config file (YAML or JSON) the networks used")
    g.add_argument("--config-json", type=_json, default=None, help="the same config as JSON text")
    s.add_argument("--out", required=True, help="bundle directory to write")
    s.set_defaults(func=_cmd_export_bundle)

    s = sub.add_parser("sample", help="draw one unlabeled dataset shard")
    s.add_argument("--spec", type=_json, required=True, help="dataset spec (JSON)")
    s.add_argument("--shard", type=int, required=True)
    s.add_argument("--shard-size", type=int, required=True)
    s.add_argument("--count", type=int, default=None, help="total lattices in the dataset")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_sample)

    s = sub.add_parser("label", help="Bott-label one shard")
    s.add_argument("--in", dest="inp", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--chunk", type=int, default=None, help="lattices per progress line")
    s.set_defaults(func=_cmd_label)

    def stage(name, func, help_, **paths):
        s = sub.add_parser(name, help=help_)
        s.add_argument("--params", type=_params, required=True, help="stage parameters (JSON)")
        s.add_argument("--threads", type=int, default=1)
        s.add_argument("--require-gpu", action="store_true",
                       help="stop at once (exit 2) if TensorFlow sees no GPU")
        for flag, nargs in paths.items():
            s.add_argument(f"--{flag.replace('_', '-')}", dest=flag, required=True,
                           nargs=nargs or None)
        s.set_defaults(func=func)
        return s

    stage("train-base", _cmd_train_base, "stage 1: train the 4x4 base network",
          train="+", validation="+", model_out=0, history_out=0, state_dir=0)
    stage("init-decimation", _cmd_init_decimation, "stage 2: RG network -> 2x2 average pooling",
          train="+", check="+", model_out=0, history_out=0, metrics_out=0, state_dir=0)
    s = stage("train-rg", _cmd_train_rg, "stage 3: RG network on 8x8 Chern labels",
              base=0, train="+", validation="+", epochs_dir=0, history_out=0, selected_out=0, state_dir=0)
    s.add_argument("--init", default=None, help="decimation-initialized RG (omit: random start)")
    stage("evaluate", _cmd_evaluate, "accuracies of every network against the paper",
          base=0, tests="+", selected=0, main_history=0, uninitialized_history=0, main_epochs=0,
          uninitialized_epochs=0, csv_out=0, json_out=0)
    stage("timing", _cmd_timing, "seconds per lattice: Bott labeler and compound network",
          base=0, rg=0, out=0)
    from .figure_registry import FIGURES

    s = stage("figure", _cmd_figure, "draw one figure or table from result files", out=0)
    s.add_argument("name", choices=list(FIGURES))
    s.add_argument("--inputs", nargs="+", required=True, metavar="NAME=PATH",
                   help="the figure's named inputs (NAME:LABEL=PATH for labelled ones), "
                        "as declared in rgtopo.figure_registry")

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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .errors import KNOWN_ERRORS

    try:
        args.func(args)
    except KNOWN_ERRORS as exc:
        print(f"rgtopo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rgtopo {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of standard output went away (`| head`): stop quietly, as a filter does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0
