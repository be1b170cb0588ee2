"""The user's command line: ``rgtopo chern`` / ``rgtopo predict`` for one's own lattice files
and ``rgtopo export-bundle``. (The workflow's own steps are ``python -m rgtopo.workflow.steps``.)

Known errors end with one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from . import __version__
from .data.hamiltonian_io import read_hamiltonian
from .data.lattice_io import LatticeFile, check_output, write_table
from .errors import KNOWN_ERRORS, LatticeError, SpecError
from .evaluation.bundle import export_bundle, load_bundle, read_card, record_size_study
from .params import LabelingParams
from .physics.chern import COLUMNS, METHODS, ChernResult, chern_numbers, resolve_method
from .physics.hamiltonian import hamiltonian_chern
from .physics.hamiltonian import resolve_method as resolve_system_method
from .physics.lattice import rg_steps
from .physics.localizer import tiles_for
from .physics.system import as_system

LOG_STEPS_FROM = 128  # lattice side from which the localizer logs each factorization
LOG_STATES_FROM = 2 * LOG_STEPS_FROM**2  # the same for a Hamiltonian file, in states


def log(msg: str) -> None:
    """One time-stamped progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def json_object(text: str) -> dict:
    """An argparse type: a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


class _Progress:
    """Progress lines on stderr, at most one every few seconds, so short inputs stay quiet."""

    def __init__(self, verb: str, total: int, every: float = 5.0):
        self.verb, self.total, self.every = verb, total, every
        self.t0 = self.last = time.perf_counter()

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last >= self.every and done < self.total:
            self.last = now
            log(f"{self.verb} {done}/{self.total} lattices ({done / (now - self.t0):.3g}/s)")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with stderr closed: its C++ start-up lines (oneDNN, absl) ignore
    TF_CPP_MIN_LOG_LEVEL, and a user's stderr should hold only rgtopo's own lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import keras  # noqa: F401  (lazy: the reason for this function)
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _provenance(a, **extra) -> dict:
    return {"input": str(Path(a.inp).resolve()), "key": a.key or "", "command": a.command,
            "rgtopo_version": __version__, **extra}


def _labeling(a) -> LabelingParams:
    """The default labeling rule with the command line's --max-memory-gb."""
    params = LabelingParams()
    if a.max_memory_gb is None:
        return params
    if not a.max_memory_gb > 0:
        raise SpecError(f"--max-memory-gb must be > 0, got {a.max_memory_gb}")
    return dataclasses.replace(params, localizer=dataclasses.replace(
        params.localizer, max_memory_gb=float(a.max_memory_gb)))


def _cmd_chern_hamiltonian(a):
    """One row per Hamiltonian file, in the order given."""
    if a.key is not None:
        raise SpecError("--key applies to lattice files, not to --hamiltonian")
    for path in a.hamiltonian:
        check_output(a.out, path)
    params = _labeling(a)
    files = [read_hamiltonian(path) for path in a.hamiltonian]
    for path, f in zip(a.hamiltonian, files):
        method = resolve_system_method(a.method, as_system(*f.model[:2], period=f.model.period),
                                       params)
        log(f"{path}: {f.model.hamiltonian.shape[0]} states, "
            f"{'torus' if f.model.period else 'open flake'}, {method}")
    result = hamiltonian_chern([(*f.model, f.fermi_energy) for f in files], method=a.method,
                               threads=a.threads, params=params,
                               log=log if any(f.model.hamiltonian.shape[0] >= LOG_STATES_FROM
                                              for f in files) else None)
    columns = {"index": np.arange(len(files)), "file": np.array([str(p) for p in a.hamiltonian])}
    for name in COLUMNS:
        values = np.asarray(getattr(result, name))
        columns[name] = values.astype(np.int64) if values.dtype == bool else values
    write_table(a.out, columns, {"input": ";".join(str(Path(p).resolve()) for p in a.hamiltonian),
                                 "command": a.command, "rgtopo_version": __version__})
    flagged = int(len(files) - np.count_nonzero(result.certified))
    if flagged:
        log(f"warning: {flagged} of {len(files)} labels are not certified (column certified = 0: "
            f"a torus gap below {params.min_gap} around the Fermi energy, an eigenvalue of the "
            "localizer near 0, or a raw Bott sum far from its integer); do not take them as exact")


def _cmd_chern(a):
    if a.threads is not None and a.threads < 1:
        raise SpecError(f"--threads must be >= 1, got {a.threads}")
    if (a.inp is None) == (a.hamiltonian is None):
        raise SpecError("give a lattice file INPUT or --hamiltonian FILE, not both or neither")
    if a.hamiltonian is not None:
        return _cmd_chern_hamiltonian(a)
    check_output(a.out, a.inp)
    params = _labeling(a)
    with LatticeFile(a.inp, a.key) as src:
        total, n = len(src), src.size
        method = resolve_method(a.method, n, params)
        if method == "localizer":
            log(f"{total} lattice(s) of {n}x{n}: spectral localizer (tiled to "
                f"{tiles_for(n, params.localizer) * n}x{tiles_for(n, params.localizer) * n})")
        # About a second of work per batch: the Bott index costs N^5, the localizer ~N^2 log N.
        cost = n**4 if method == "bott" else 4**4 * n**2
        step = max(a.threads or 1, 4096 * 4**4 // cost)
        progress = _Progress("labeled", total)
        parts = []
        for start, part in src.batches(step):
            parts.append(chern_numbers(part, method=method, threads=a.threads, params=params,
                                       progress=lambda done, s=start: progress(s + done),
                                       log=log if n >= LOG_STEPS_FROM else None))
    result = ChernResult.concatenate(parts) if parts else None
    columns = {"index": np.arange(total)}
    for name in COLUMNS:
        values = np.asarray(getattr(result, name)) if result is not None else np.empty(0)
        columns[name] = values.astype(np.int64) if values.dtype == bool else values
    write_table(a.out, columns, _provenance(a, method=method))
    flagged = int(total - np.count_nonzero(columns["certified"])) if total else 0
    if flagged:
        log(f"warning: {flagged} of {total} labels are not certified (column certified = 0: "
            f"a torus BdG gap below {params.min_gap}"
            + (f" or a raw Bott sum farther than {params.max_bott_deviation} from its integer"
               if method == "bott" else
               " or an eigenvalue of the localizer near 0") + "); do not take them as exact")


def _cmd_predict(a):
    if a.batch_size < 1:
        raise SpecError(f"--batch-size must be >= 1, got {a.batch_size}")
    check_output(a.out, a.inp)
    with LatticeFile(a.inp, a.key) as src:
        total = len(src)
        try:
            rg_steps(src.size)
        except LatticeError as exc:
            raise LatticeError(f"{src.path}: {exc}") from None
        if a.model is not None:
            read_card(a.model)
        _import_tensorflow_quietly()
        bundle = load_bundle(a.model)
        limit = a.max_memory_gb
        if limit is None:
            from .nn.chain import available_memory_gb  # lazy: TensorFlow only to predict

            limit = available_memory_gb()
        elif not limit > 0:
            raise SpecError(f"--max-memory-gb must be > 0, got {limit}")
        bundle.check_memory(src.size, a.batch_size, limit)
        raw, in_range = np.empty(total), np.empty(total, bool)
        progress = _Progress("predicted", total)
        for start, part in src.batches(bundle.batch_size(src.size, a.batch_size)):
            raw[start : start + len(part)] = bundle.predict(part, a.batch_size, limit)
            in_range[start : start + len(part)] = bundle.in_training_range(part)
            progress(start + len(part))
    if not in_range.all():
        log(f"warning: {np.count_nonzero(~in_range)} of {total} lattices have averages outside "
             f"the networks' training range ({bundle.training_range_text()}); their predictions "
             "are extrapolations (column in_training_range = 0)")
    caveat = bundle.accuracy_caveat(src.size)
    if caveat is not None:
        log(f"warning: {caveat}")
    chern = np.rint(raw).astype(np.int64)
    write_table(a.out, {"index": np.arange(total), "chern": chern, "raw": raw,
                        "distance_to_integer": np.abs(raw - chern),
                        "in_training_range": in_range.astype(np.int64)},
                _provenance(a, model=str(bundle.path.resolve()),
                            model_commit=bundle.card.get("git_commit") or ""))


def _cmd_export_bundle(a):
    _import_tensorflow_quietly()
    config = a.config_json
    if a.config is not None:
        try:
            config = yaml.safe_load(Path(a.config).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"{a.config}: not a readable YAML/JSON config ({exc})") from None
    record = None
    if a.size_study is not None:
        from .evaluation.size_study import read_accuracy_record  # lazy: pandas only for a size study

        record = read_accuracy_record(a.size_study)
    if a.base is None and a.rg is None:
        if record is None:
            raise SpecError("export-bundle: give --base and --rg, or --size-study to record "
                            "in an existing bundle")
        log(f"size study -> {record_size_study(a.out, record)}")
        return
    if a.base is None or a.rg is None:
        raise SpecError("export-bundle: --base and --rg go together")
    out = export_bundle(a.base, a.rg, a.out, metrics=a.metrics, config=config,
                        accuracy_by_size=record)
    log(f"bundle -> {out}")


DESCRIPTION = """\
Chern numbers of disordered p+ip lattices and of any 2D lattice Hamiltonian.

  rgtopo chern LATTICES --out exact.csv        certified labels (Bott index or spectral localizer)
  rgtopo chern --hamiltonian H.npz             the same for your own Hamiltonian
  rgtopo predict LATTICES --out predicted.csv  the RG network's answer, with its caveats
  rgtopo export-bundle --base B --rg R --out DIR   a model bundle from trained networks

Bad input ends with one line on standard error and exit status 2; nothing is written.
Formats, conventions and every option: docs/usage.md (or `rgtopo COMMAND --help`)."""


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rgtopo", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"rgtopo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inp_help = ".npy, .npz or .h5/.hdf5 file: one lattice (N, N, 3) or a batch (B, N, N, 3)"
    out_help = ".csv or .h5 file, one row per lattice (default: CSV on standard output)"
    key_help = "array (.npz) or dataset (HDF5) to read (default: the only one, or 'lattices')"
    s = sub.add_parser("chern", help="certified Chern numbers of your lattices or of any 2D "
                                     "Hamiltonian (Bott index or spectral localizer)")
    s.add_argument("inp", metavar="INPUT", nargs="?", default=None, help=inp_help)
    s.add_argument("--hamiltonian", nargs="+", default=None, metavar="FILE",
                   help="instead of INPUT: Hamiltonian files (.npz or .h5: H, positions, "
                        "optional period and fermi_energy; docs/usage.md), one row each")
    s.add_argument("--max-memory-gb", type=float, default=None,
                   help="refuse a factorization estimated above this (default: "
                        f"{LabelingParams().localizer.max_memory_gb:g}, "
                        "labeling.localizer.max_memory_gb)")
    s.add_argument("--out", default=None, help=out_help)
    s.add_argument("--key", default=None, help=key_help)
    s.add_argument("--method", choices=METHODS, default="auto",
                   help="bott: dense Bott index on the torus; localizer: sparse spectral "
                        "localizer; auto (default): Bott below "
                        f"{LabelingParams().auto_min_size}x{LabelingParams().auto_min_size} "
                        f"(a Hamiltonian: a torus below {LabelingParams().auto_max_states} "
                        "states), the localizer from there")
    s.add_argument("--threads", type=int, default=None,
                   help="cores: Numba threads (Bott) or lattices at once (localizer); "
                        "default: all cores")
    s.set_defaults(func=_cmd_chern)

    s = sub.add_parser("predict", help="network predictions of Chern numbers (N = 4 * 2^k)")
    s.add_argument("inp", metavar="INPUT", help=inp_help)
    s.add_argument("--out", default=None, help=out_help)
    s.add_argument("--key", default=None, help=key_help)
    s.add_argument("--model", default=None,
                   help="model bundle directory (default: the bundle shipped with rgtopo)")
    s.add_argument("--batch-size", type=int, default=256,
                   help="lattices per network call (fewer at large N, to bound memory)")
    s.add_argument("--max-memory-gb", type=float, default=None,
                   help="refuse lattices whose network call is estimated above this "
                        "(default: the memory available when the command starts)")
    s.set_defaults(func=_cmd_predict)

    s = sub.add_parser("export-bundle", help="write a model bundle (networks + card.json)")
    s.add_argument("--base", default=None, help="saved base network (.keras)")
    s.add_argument("--rg", default=None, help="saved (selected) RG network (.keras)")
    s.add_argument("--metrics", default=None, help="accuracy JSON (results/metrics/accuracy.json)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--config", default=None, help="config file (YAML or JSON) the networks used")
    g.add_argument("--config-json", type=json_object, default=None, help="the same config as JSON text")
    s.add_argument("--size-study", default=None, metavar="CSV",
                   help="the size study's accuracy table (results/size_study/accuracy.csv), "
                        "recorded in the card as accuracy_by_size; without --base and --rg it "
                        "is recorded in the existing bundle --out, every other field kept")
    s.add_argument("--out", required=True, help="bundle directory to write")
    s.set_defaults(func=_cmd_export_bundle)

    return p


def run(parser: argparse.ArgumentParser, argv=None) -> int:
    """Parse argv and run its command: a known error is one line on stderr and exit 2."""
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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


def main(argv=None) -> int:
    return run(_build_parser(), argv)
