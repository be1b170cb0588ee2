"""The workflow's steps: ``python -m rgtopo.workflow.steps STEP ...``, one per Snakemake rule.

Separate from the user's ``rgtopo`` command line. Steps take explicit paths and a JSON of
their parameters (the training stages' and the sampler's are ``rgtopo.params`` classes,
which the rules build from the config and these steps check), so the package never reads
the Snakemake config itself. Known errors end with one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time

from .. import io
from ..cli import json_object, log, run
from ..data.datasets import label_shard, sample_shard
from ..data.shards import by_size
from ..devices import configure, device_summary, require_gpu
from ..errors import SpecError
from ..evaluation.bundle import load_bundle
from ..evaluation.size_study import convention_fractions, parse_sets, size_accuracy
from ..evaluation.timing import measure_timing
from ..figures.registry import FIGURES, check_params, parse_inputs
from ..params import (
    BaseNetworkParams,
    DatasetSpec,
    DecimationParams,
    EvaluationParams,
    LabelingParams,
    RGTrainingParams,
    SizeStudyParams,
    StatisticsBaselineParams,
    TimingParams,
)
from ..physics.chern import METHODS
from ..provenance import collect, write
from ..training.statistics_baseline import load as load_statistics_baseline


class _Params(dict):
    """A JSON object of stage parameters whose missing keys are one clear SpecError."""

    def __missing__(self, key):
        raise SpecError(f"--params is missing '{key}'")


def _params(text: str) -> dict:
    return _Params(json_object(text))


def _cmd_sample(a):
    sample_shard(DatasetSpec.from_dict(a.spec), a.shard, a.shard_size, a.out, count=a.count)
    log(f"sampled shard {a.shard} ({a.shard_size} lattices) -> {a.out}")


def _cmd_label(a):
    t0 = time.perf_counter()
    label_shard(a.inp, a.out, method=a.method, params=LabelingParams.from_dict(a.params) if a.params else None,
                threads=a.threads, chunk=a.chunk, log=log)
    log(f"labeled {a.inp} -> {a.out} in {time.perf_counter() - t0:.1f} s")


def _training(a):
    from ..training import stages  # lazy: TensorFlow only for the steps that run networks

    configure(a.threads, a.params["seed"])
    if a.require_gpu:
        require_gpu()
    log(f"TensorFlow devices: {device_summary()}; threads={a.threads}")
    return stages


def _cmd_train_base(a):
    params = BaseNetworkParams.from_dict(a.params)
    _training(a).train_base(params, a.train, a.validation, model_out=a.model_out,
                            history_out=a.history_out, state_dir=a.state_dir, log=log)


def _cmd_init_decimation(a):
    params = DecimationParams.from_dict(a.params)
    _training(a).init_decimation(params, a.train, by_size(a.check), model_out=a.model_out,
                                 history_out=a.history_out, metrics_out=a.metrics_out,
                                 state_dir=a.state_dir, log=log)


def _cmd_train_rg(a):
    params = RGTrainingParams.from_dict(a.params)
    _training(a).train_rg(params, a.base, a.init, a.train, by_size(a.validation),
                          epochs_dir=a.epochs_dir, history_out=a.history_out,
                          selected_out=a.selected_out, state_dir=a.state_dir, log=log)


def _cmd_fit_statistics_baseline(a):
    from ..training.statistics_baseline import fit  # lazy: scikit-learn only for this step

    params = StatisticsBaselineParams.from_dict(a.params)
    train, validation = by_size(a.train), by_size(a.validation)
    missing = [n for n in params.train_sizes if n not in train or n not in validation]
    if missing:
        raise SpecError(f"statistics_baseline.train_sizes: no training or validation shards "
                        f"at {', '.join(map(str, missing))}")
    baseline, selection, importance = fit(
        params, {n: train[n] for n in params.train_sizes},
        {n: validation[n] for n in params.train_sizes}, threads=a.threads, log=log)
    io.write_rows(a.selection_out, selection)
    io.write_rows(a.importance_out, importance)
    baseline.save(a.model_out)
    log(f"statistics baseline -> {a.model_out}")


def _cmd_evaluate(a):
    params = EvaluationParams.from_dict(a.params)
    _training(a)
    from ..evaluation.accuracy import (  # lazy: TensorFlow
        RunFiles,
        evaluate,
        write_metrics,
    )

    table = evaluate(params, a.base, by_size(a.tests),
                     RunFiles(a.main_history, a.main_epochs, a.selected),
                     RunFiles(a.uninitialized_history, a.uninitialized_epochs),
                     statistics=a.statistics)
    write_metrics(table, a.csv_out, a.json_out)
    log("\n" + table.to_string(index=False))


def _cmd_timing(a):
    p = TimingParams.from_dict(a.params)
    _training(a)
    from ..nn.saving import load_model  # lazy: imports TensorFlow

    table = measure_timing(load_model(a.base), load_model(a.rg), list(p.bott_sizes),
                           list(p.network_sizes), min_seconds=p.min_seconds,
                           network_batch=p.network_batch, seed=p.seed, threads=a.threads)
    io.write_frame(a.out, table)
    log("\n" + table.to_string(index=False))


def _cmd_size_fractions(a):
    SizeStudyParams.from_dict(a.params)
    table = convention_fractions(parse_sets(a.sets))
    io.write_frame(a.out, table)
    log("\n" + table.to_string(index=False))


def _cmd_size_accuracy(a):
    params = SizeStudyParams.from_dict(a.params)
    _training(a)
    bundle = reference = load_bundle(None if a.bundle == "shipped" else a.bundle)
    if a.rg_network:
        bundle = bundle.with_rg_network(a.rg_network)
    log(f"bundle: {bundle!r}" + (f", RG network {a.rg_network}" if a.rg_network else ""))
    table = size_accuracy(bundle, parse_sets(a.sets), params, log=log,
                          reference=reference if a.rg_network else None,
                          statistics=load_statistics_baseline(a.statistics))
    io.write_frame(a.out, table)
    log("\n" + table.to_string(index=False))


def _cmd_figure(a):
    figure = FIGURES[a.name]
    check_params(a.name, a.params)  # the drawing reads the checked JSON object
    inputs = parse_inputs(a.name, a.inputs)
    if figure.tensorflow:
        _training(a)
    figure.draw(inputs, a.params, a.out, a.threads)
    log(f"{a.name} -> {a.out}.*")


def _cmd_provenance(a):
    p = a.params
    record = collect(p["config"], repo=a.repo, logs=a.logs, config_files=p["config_files"],
                     snakemake_version=p.get("snakemake_version"))
    write(record, a.json_out, a.html_out)
    log(f"provenance: commit {record['git_commit']}, devices {record['tensorflow_devices']}")


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rgtopo.workflow.steps", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="draw one unlabeled dataset shard")
    s.add_argument("--spec", type=json_object, required=True, help="dataset spec (JSON)")
    s.add_argument("--shard", type=int, required=True)
    s.add_argument("--shard-size", type=int, required=True)
    s.add_argument("--count", type=int, default=None, help="total lattices in the dataset")
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_sample)

    s = sub.add_parser("label", help="label one shard (Bott index or spectral localizer)")
    s.add_argument("--in", dest="inp", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--method", choices=METHODS, default="bott")
    s.add_argument("--params", type=json_object, default={},
                   help="the config's labeling section (JSON; default: LabelingParams())")
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
    stage("fit-statistics-baseline", _cmd_fit_statistics_baseline,
          "the statistics baseline: trees on per-lattice disorder statistics",
          train="+", validation="+", model_out=0, selection_out=0, importance_out=0)
    stage("evaluate", _cmd_evaluate, "accuracies of every network against the paper",
          base=0, tests="+", selected=0, main_history=0, uninitialized_history=0, main_epochs=0,
          uninitialized_epochs=0, statistics=0, csv_out=0, json_out=0)
    stage("timing", _cmd_timing, "seconds per lattice: Bott labeler and compound network",
          base=0, rg=0, out=0)
    stage("size-fractions", _cmd_size_fractions,
          "label fractions per disorder convention and size (the size study)", sets="+", out=0)
    s = stage("size-accuracy", _cmd_size_accuracy,
              "the chain's accuracy per disorder convention and size (the size study)",
              sets="+", statistics=0, out=0)
    s.add_argument("--bundle", required=True, help="a bundle directory, or 'shipped'")
    s.add_argument("--rg-network", default=None,
                   help="measure the bundle's base network behind this RG network instead, "
                        "paired with the bundle's own chain on the same lattices")
    s = stage("figure", _cmd_figure, "draw one figure or table from result files", out=0)
    s.add_argument("name", choices=list(FIGURES))
    s.add_argument("--inputs", nargs="+", required=True, metavar="NAME=PATH",
                   help="the figure's named inputs (NAME:LABEL=PATH for labelled ones), "
                        "as declared in rgtopo.figures.registry")

    s = sub.add_parser("provenance", help="record versions, git commit, device, host and config")
    s.add_argument("--params", type=json_object, required=True,
                   help="{config, config_files, snakemake_version} (JSON)")
    s.add_argument("--repo", required=True, help="the workflow's checkout (for its git commit)")
    s.add_argument("--logs", nargs="*", default=[], help="job logs with 'TensorFlow devices:'")
    s.add_argument("--json-out", required=True)
    s.add_argument("--html-out", required=True)
    s.set_defaults(func=_cmd_provenance, threads=1, blas_single=True)
    return p


def main(argv=None) -> int:
    return run(_build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
