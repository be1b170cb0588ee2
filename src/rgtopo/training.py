"""The three training stages of Appendices A and B, resumable epoch by epoch.

Every stage runs ``model.fit`` one epoch at a time and, after each epoch,
atomically writes to its *state directory*: the whole model with optimizer
state (``checkpoint.keras``), ``state.json`` (epoch, learning rate, plateau
counters, the batch-shuffling generator's state) and the history CSV so far.
Started again after a kill, a stage reloads that state and continues with the
next epoch exactly as the uninterrupted run would have. The state directory is
not a Snakemake output, so Snakemake does not delete it before a rerun.

Only an unfinished run with the same fingerprint is resumed: the fingerprint
holds the stage's parameters and a digest of every input's contents (shard
checksums, model file bytes), and a run that has finished is marked so, so
changed data or a forced rerun trains again instead of returning the old model.

Data stream from HDF5 shards batch by batch (``rgtopo.batches.LatticeBatches``,
importable from here too), so paper-scale sets need not fit in memory; every
file is written through ``rgtopo.io``.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import io
from .batches import LatticeBatches
from .errors import ModelError, ShardError, SpecError
from .lattice import BASE_SIZE, rg_steps
from .metrics import Tally, clean_formula, wilson_interval
from .nn.chain import compound_network
from .nn.heads import (
    LOSSES,
    abs_square_loss,
    check_head_loss,
    check_known_loss,
    chern_accuracy,
    chern_value,
)
from .nn.registry import architecture
from .nn.rg import rg_network
from .nn.saving import load_model
from .params import BaseNetworkParams, DecimationParams, RGTrainingParams
from .shards import by_size, open_shard, shard_digest


def configure(threads: int, seed: int, log: Callable[[str], None] | None = None) -> None:
    """Thread pools and seeds; call before building any model.

    TensorFlow fixes its thread pools when it first runs an operation; a later
    call in the same process (several stages or tests in one interpreter)
    keeps them and says so through ``log`` (a warning without one) when the
    count asked for differs.
    """
    threads = max(int(threads), 1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    except RuntimeError:
        have = tf.config.threading.get_intra_op_parallelism_threads()
        if have != threads:
            message = (f"TensorFlow already runs with {have or 'its default'} intra-op "
                       f"threads in this process; keeping them (asked for {threads})")
            if log is None:
                warnings.warn(message, RuntimeWarning, stacklevel=2)
            else:
                log(message)
    keras.utils.set_random_seed(int(seed))


def device_summary() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s): {[g.name for g in gpus]}" if gpus else "CPU only"


OPTIMIZERS = ("sgd", "adam")


def compile_model(model: keras.Model, learning_rate: float, momentum: float, nesterov: bool,
                  *, chern: bool, optimizer: str = "sgd", loss: str = "abs_square") -> keras.Model:
    """Compile with a training loss (``chern``: a Chern loss and the accuracy; else Eq. A2 on
    the RG network's lattice) and the optimizer: 'sgd', with (Nesterov) momentum, is the
    paper's; 'adam' (momentum and nesterov ignored), the default config's, converges in far
    fewer epochs on a CPU.
    """
    if optimizer == "sgd":
        opt = keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov)
    elif optimizer == "adam":
        opt = keras.optimizers.Adam(learning_rate)
    else:
        raise SpecError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    check_known_loss(loss)
    model.compile(
        optimizer=opt,
        loss=LOSSES[loss] if chern else abs_square_loss,
        metrics=[chern_accuracy] if chern else None,
        jit_compile=False,
    )
    return model


def inputs_fingerprint(shards: Sequence = (), models: Sequence = ()) -> list[list[str]]:
    """[path, content digest] of every shard and model a stage reads (None models skipped)."""
    models = [Path(p) for p in models if p is not None]
    for path in models:
        if not path.is_file():
            raise ModelError(f"{path}: no such saved model")
    return ([[str(p), shard_digest(p)] for p in shards]
            + [[str(p), io.file_digest(p)] for p in models])


class PlateauSchedule:
    """ReduceLROnPlateau with the paper's stop rule, as plain state that survives restarts.

    The learning rate drops by ``factor`` when the monitored loss has not
    improved for ``patience`` epochs; training stops when the next rate would
    fall below ``floor``.
    """

    def __init__(self, patience: int, factor: float, floor: float):
        self.patience, self.factor, self.floor = int(patience), float(factor), float(floor)

    def step(self, state: dict, loss: float, lr: float) -> tuple[float, bool, bool]:
        """Update state; return (new learning rate, improved, stop)."""
        improved = loss < state.get("best_loss", math.inf)
        if improved:
            state["best_loss"], state["wait"] = float(loss), 0
            return lr, True, False
        state["wait"] = state.get("wait", 0) + 1
        if state["wait"] < self.patience:
            return lr, False, False
        state["wait"] = 0
        new_lr = lr * self.factor
        if new_lr < self.floor * (1 - 1e-9):
            return lr, False, True
        return new_lr, False, False


class CosineSchedule:
    """Cosine decay from the initial rate down to the rate ``floor`` over ``epochs``.

    The rate falls batch by batch (``batch_callback``), so it reaches the floor by
    the end of the last epoch instead of staying a whole epoch above it; ``step`` sets the rate
    at each epoch's start and keeps the best validation loss like
    PlateauSchedule, so the best model is saved.
    """

    def __init__(self, learning_rate: float, epochs: int, floor: float):
        self.lr0, self.epochs, self.floor = float(learning_rate), max(int(epochs), 1), float(floor)

    def rate(self, epochs_done: float) -> float:
        """The rate after ``epochs_done`` (fractional) epochs."""
        frac = 0.5 * (1.0 + math.cos(math.pi * min(epochs_done, self.epochs) / self.epochs))
        return self.floor + (self.lr0 - self.floor) * frac

    def step(self, state: dict, loss: float, lr: float) -> tuple[float, bool, bool]:
        improved = loss < state.get("best_loss", math.inf)
        if improved:
            state["best_loss"] = float(loss)
        done = state.get("cosine_epochs", 0) + 1
        state["cosine_epochs"] = done
        return self.rate(done), improved, False

    def batch_callback(self, epochs_done: int, steps: int) -> keras.callbacks.Callback:
        """A Keras callback that sets the rate before every batch of the next epoch."""
        return _BatchRate(lambda batch: self.rate(epochs_done + batch / max(int(steps), 1)))


class _BatchRate(keras.callbacks.Callback):
    def __init__(self, rate: Callable[[int], float]):
        super().__init__()
        self._rate = rate

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self._rate(batch))


STATE_FILE = "state.json"
"""fit_resumable's record of a run (epoch, shuffle state, fingerprint, finished) in its state_dir."""

STATE_VERSION = 3
"""Part of every fingerprint: raise it when the meaning of a saved state changes (version 2: the
cosine rate falls batch by batch; 3: coarse lattices augmented before decimation), so a state
written by older code is set aside, not resumed."""


def fit_resumable(
    build: Callable[[], keras.Model],
    train: LatticeBatches,
    *,
    epochs: int,
    state_dir,
    validation: LatticeBatches | None = None,
    schedule: PlateauSchedule | CosineSchedule | None = None,
    on_epoch: Callable[[keras.Model, int], dict] | None = None,
    lr_decay: float = 1.0,
    fingerprint: Mapping | None = None,
    log: Callable[[str], None] = print,
    verbose: int = 0,
    finish: bool = True,
) -> tuple[keras.Model, list[dict]]:
    """Train epoch by epoch with a full checkpoint after each; resume from state_dir.

    lr_decay multiplies the learning rate after every epoch (1: constant, as
    in the paper). on_epoch(model, epoch) returns extra columns for the history row; it is
    also called once before training (epoch 0). With a schedule, the best
    model by validation loss is kept as ``best.keras`` in state_dir.
    A saved state whose ``fingerprint`` (the stage's parameters and input
    digests, with STATE_VERSION) differs from this call's is set aside, not resumed; a finished one
    is discarded, so a new call trains again; ``finish=False`` leaves a completed
    run unmarked (resumable, with nothing left to train) until ``mark_finished``,
    for a stage whose later phase may still be interrupted. The shuffle state of ``train`` is
    saved after every epoch and restored on resume. Returns the final model and
    history.
    """
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    ckpt, state_file = state_dir / "checkpoint.keras", state_dir / STATE_FILE
    history_file = state_dir / "history.csv"
    fingerprint = json.loads(json.dumps({**(fingerprint or {}), "state_version": STATE_VERSION},
                                        sort_keys=True, default=str))
    saved = json.loads(state_file.read_text()) if state_file.is_file() else None
    if saved is not None and saved.get("fingerprint") != fingerprint:
        stale = state_dir.with_name(f"{state_dir.name}.stale-{int(time.time())}")
        state_dir.rename(stale)
        state_dir.mkdir(parents=True)
        saved = None
        log(f"parameters or input data changed: previous training state moved to {stale}")
    elif saved is not None and saved.get("finished"):
        shutil.rmtree(state_dir)
        state_dir.mkdir(parents=True)
        saved = None
        log("the saved run had finished: training again from the start")
    if saved is not None and ckpt.is_file():
        model = load_model(ckpt, compile=True)
        state = saved
        train.shuffle_state = state.get("shuffle")
        rows = state["history"]
        log(f"resuming from epoch {state['epoch']} ({ckpt})")
    else:
        model, rows = build(), []
        state = {"epoch": 0, "stopped": False, "finished": False, "fingerprint": fingerprint}
        row = {"epoch": 0, "wall_s": 0.0}
        if on_epoch is not None:
            row.update(on_epoch(model, 0))
        rows.append(row)
        log(f"epoch 0 (before training): {_fmt(row)}")
    t_start = time.perf_counter() - rows[-1].get("wall_s", 0.0)
    while state["epoch"] < epochs and not state["stopped"]:
        epoch = state["epoch"] + 1
        lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        # shuffle=False: Keras would otherwise reorder the batches again with Python's
        # global generator, whose state a resumed run cannot restore
        callbacks = ([schedule.batch_callback(state.get("cosine_epochs", 0), len(train))]
                     if isinstance(schedule, CosineSchedule) else [])
        fit = model.fit(train, epochs=1, validation_data=validation, shuffle=False,
                        verbose=verbose, callbacks=callbacks)
        row = {"epoch": epoch, "learning_rate": lr}
        row.update({k: float(v[-1]) for k, v in fit.history.items()})
        if schedule is not None:
            new_lr, improved, stop = schedule.step(state, row["val_loss"], lr)
            if improved:
                io.save_model(model, state_dir / "best.keras")
            model.optimizer.learning_rate.assign(new_lr)
            state["stopped"] = stop
        elif lr_decay != 1.0:
            model.optimizer.learning_rate.assign(lr * lr_decay)
        if on_epoch is not None:
            row.update(on_epoch(model, epoch))
        row["wall_s"] = time.perf_counter() - t_start
        rows.append(row)
        state["epoch"], state["history"], state["shuffle"] = epoch, rows, train.shuffle_state
        io.save_model(model, ckpt)
        io.write_rows(history_file, rows)
        io.write_json(state_file, state, sort_keys=True)
        log(f"epoch {epoch}/{epochs}: {_fmt(row)}")
    state["finished"] = finish
    io.write_json(state_file, state, sort_keys=True)
    if state["stopped"]:
        log(f"learning rate would fall below the floor: stopped after epoch {state['epoch']}")
    return model, rows


def mark_finished(state_dir) -> None:
    """Mark the run saved in state_dir as finished: the next call trains it again."""
    state_file = Path(state_dir) / STATE_FILE
    state = json.loads(state_file.read_text())
    state["finished"] = True
    io.write_json(state_file, state, sort_keys=True)


def _fmt(row: Mapping) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch")


def train_base(params: BaseNetworkParams | Mapping, train_shards, validation_shards, *,
               model_out, history_out, state_dir, log=print) -> dict:
    """Stage 1: the 4x4 base network on Bott labels, best weights (validation loss) kept.

    The learning rate follows the paper's plateau rule or a cosine decay
    (``lr_schedule``); ``augment`` draws a random exact symmetry per lattice.
    With ``levels`` > 1, ``train_shards`` may hold 8x8 (16x16, ...) lattices too:
    decimated to 4x4 as the RG network starts out, with their own labels, they
    teach the base network what a coarse-grained lattice's label is (level 1, 2, ...),
    in ``coarse_share`` of the batches. The validation loss that keeps the best
    weights is level 0's; coarser validation shards (levels 1 .. levels - 1, others
    are a SpecError), decimated alike, only add per-epoch columns
    ``val_level<k>_loss`` and ``val_level<k>_chern_accuracy``.
    """
    params = BaseNetworkParams.of(params)
    batch = params.batch_size
    train = LatticeBatches(train_shards, batch, "chern", shuffle_seed=params.seed,
                           augment=params.augment, disorder_factor=params.disorder_factor,
                           levels=params.levels, coarse_share=params.coarse_share)
    validation_sizes = by_size(validation_shards)
    if not validation_sizes or min(validation_sizes) != BASE_SIZE:
        raise SpecError(f"the base network's validation needs {BASE_SIZE}x{BASE_SIZE} shards, "
                        f"got sizes {sorted(validation_sizes) or 'none'}")
    val = LatticeBatches(validation_sizes.pop(min(validation_sizes)), batch, "chern",
                         levels=params.levels)
    coarse_val = {rg_steps(size): LatticeBatches(paths, batch, "chern", levels=params.levels,
                                                 disorder_factor=params.disorder_factor)
                  for size, paths in sorted(validation_sizes.items())}

    def level_columns(model, epoch):
        row = {}
        for level, data in coarse_val.items():
            scores = model.evaluate(data, verbose=0, return_dict=True)
            row.update({f"val_level{level}_{name}": float(value)
                        for name, value in scores.items()})
        return row
    if params.lr_schedule == "cosine":
        schedule = CosineSchedule(params.learning_rate, params.max_epochs, params.lr_floor)
    else:
        schedule = PlateauSchedule(params.patience, params.lr_factor, params.lr_floor)
    arch = architecture(params.architecture)
    network = arch.params.from_section(params.as_dict(), params.WHERE)
    scales = None
    if arch.scales is not None:
        sizes = by_size(train_shards)
        with open_shard(sizes[min(sizes)][0]) as f:
            scales = arch.scales(f["lattices"][: params.feature_scale_lattices])

    def build():
        net = arch.build(network, scales=scales)
        return compile_model(net, **params.compile_args(), chern=True, loss=params.loss)

    _, rows = fit_resumable(build, train, epochs=params.max_epochs, state_dir=state_dir,
                            validation=val, schedule=schedule, log=log,
                            on_epoch=level_columns if coarse_val else None,
                            fingerprint={"params": params.as_dict(),
                                         "inputs": inputs_fingerprint(
                                             [*train_shards, *validation_shards])})
    best = Path(state_dir) / "best.keras"
    io.copy_file(best if best.is_file() else Path(state_dir) / "checkpoint.keras", model_out)
    io.write_rows(Path(history_out), rows)
    return rows[-1]


def decimation_fidelity(rg: keras.Model, shards_by_size: Mapping[int, Sequence], batch: int,
                        disorder_factor: float = 1.0) -> dict:
    """Mean |RG(x) - decimate(x)| per channel on lattices of the Chern-training distribution."""
    out = {}
    for size, shards in shards_by_size.items():
        data = LatticeBatches(shards, batch, "decimated", disorder_factor=disorder_factor)
        err, n = np.zeros(3), 0
        for k in range(len(data)):
            x, y = data[k]
            err += np.abs(np.asarray(rg(x, training=False)) - y).sum(axis=(0, 1, 2))
            n += y.shape[0] * y.shape[1] * y.shape[2]
        for c, name in enumerate(("mu", "t_minus", "Delta")):
            out[f"mae_{name}_{size}x{size}"] = float(err[c] / max(n, 1))
    return out


def init_decimation(params: DecimationParams | Mapping, train_shards,
                    check_shards: Mapping[int, Sequence], *, model_out, history_out, metrics_out,
                    state_dir, log=print) -> dict:
    """Stage 2: train the RG network to act as ``lattice.decimate`` on the wide uniform set."""
    params = DecimationParams.of(params)
    batch = params.batch_size
    train = LatticeBatches(train_shards, batch, "decimated", shuffle_seed=params.seed,
                           disorder_factor=params.disorder_factor)

    def build():
        rg = rg_network(params.width, padding=params.padding, linear_path=params.linear_path,
                        disorder_factor=params.disorder_factor)
        return compile_model(rg, **params.compile_args(), chern=False)

    model, rows = fit_resumable(build, train, epochs=params.epochs, state_dir=state_dir,
                                lr_decay=float(params.lr_decay), log=log,
                                fingerprint={"params": params.as_dict(),
                                             "inputs": inputs_fingerprint(train_shards)})
    io.save_model(model, Path(model_out))
    io.write_rows(Path(history_out), rows)
    fidelity = decimation_fidelity(model, check_shards, batch, params.disorder_factor)
    fidelity["final_training_loss"] = rows[-1].get("loss")
    io.write_json(Path(metrics_out), fidelity, sort_keys=True)
    log(f"decimation fidelity: {fidelity}")
    return fidelity


def validation_columns(base, rg, sets: Mapping[int, LatticeBatches]) -> dict:
    """History columns of the compound network on each validation set (RG applied k times).

    Per size: loss of Eq. (A2), accuracy with its Wilson 95 % interval, accuracy on
    the disorder-decided lattices and the two baselines on the same lattices
    (fractions; the baselines are the same every epoch).
    """
    out = {}
    for size, data in sets.items():
        net = compound_network(base, rg, size)
        tally, loss = Tally(), 0.0
        for k in range(len(data)):
            x, y = data[k]
            pred = chern_value(net(x, training=False))
            loss += float(np.sum(np.asarray(abs_square_loss(y[:, 0], pred), dtype=np.float64)))
            pred = np.asarray(pred, dtype=np.float64)
            tally.add(np.rint(pred), y[:, 0], clean_formula(x))
        s, n = f"{size}x{size}", tally.lattices
        low, high = wilson_interval(tally.hits, n)
        base_rates = tally.baselines()
        out.update({
            f"validation_loss_{s}": loss / max(n, 1),
            f"validation_accuracy_{s}": tally.hits / max(n, 1),
            f"validation_accuracy_low_{s}": low,
            f"validation_accuracy_high_{s}": high,
            f"validation_decided_accuracy_{s}": (tally.decided_hits / tally.decided
                                                 if tally.decided else float("nan")),
            f"validation_clean_formula_{s}": base_rates["clean_formula_percent"] / 100,
            f"validation_majority_{s}": base_rates["majority_percent"] / 100,
            f"validation_lattices_{s}": n,
        })
    return out


def train_rg(params: RGTrainingParams | Mapping, base_model, init_model, train_shards,
             validation_shards: Mapping[int, Sequence], *, epochs_dir, history_out, selected_out,
             state_dir, log=print) -> dict:
    """Stage 3: the compound network on 8x8 labels, base frozen, one RG checkpoint per epoch.

    init_model None trains from a random start (the uninitialized ablation).
    After every epoch the RG network is saved and evaluated on every validation
    set (RG applied k times). With ``tied_epochs``, a second phase follows on the
    16x16 training shards (``train_shards`` holds both sizes): the RG network is
    applied twice with one set of weights (two tied copies, the paper's proposal
    for future work), starting from the best first-phase epoch at
    ``select_size``; its epochs continue the numbering. The epoch with the best
    ``select_size`` validation accuracy over both phases is copied to
    ``selected_out``. Test sets play no part here: what is chosen on validation
    lattices is reported on test lattices.
    """
    params = RGTrainingParams.of(params)
    select_size = params.select_size
    key = f"validation_accuracy_{select_size}x{select_size}"
    train_sets = _shards_by_size(train_shards)
    train_size = min(train_sets)
    sets = {int(s): LatticeBatches(p, params.batch_size, "chern")
            for s, p in validation_shards.items()}
    if select_size not in sets:
        raise SpecError(f"selection size {select_size} has no validation set")
    tied_size = 2 * train_size
    if params.tied_epochs and tied_size not in train_sets:
        raise SpecError(f"tied_epochs {params.tied_epochs} needs {tied_size}x{tied_size} "
                        f"training shards (a train_{tied_size} dataset)")
    state_dir = Path(state_dir)
    epoch_dir = state_dir / "epochs"
    inputs = [p for paths in validation_shards.values() for p in paths]
    tied = bool(params.tied_epochs)

    def phase(shards, batch, learning_rate, epochs, start, offset, state, name, finish=True):
        train = LatticeBatches(shards, batch, "chern", shuffle_seed=params.seed,
                               augment=params.augment)

        def build():
            base = load_model(base_model)
            rg = rg_network(params.width, padding=params.padding,
                            linear_path=params.linear_path) if start is None else load_model(start)
            check_head_loss(base, params.loss)
            return compile_model(compound_network(base, rg, train.size),
                                 **{**params.compile_args(), "learning_rate": learning_rate},
                                 chern=True, loss=params.loss)

        def on_epoch(model, epoch):
            if offset and epoch == 0:  # the starting point is the first phase's selected epoch
                return {}
            rg, base = model.get_layer("rg_network"), model.get_layer("base_network")
            io.save_model(rg, epoch_dir / f"epoch_{offset + epoch:03d}.keras")
            return validation_columns(base, rg, sets)

        fingerprint = {"params": params.as_dict(), "phase": name, "inputs": inputs_fingerprint(
            [*shards, *inputs], [base_model, start])}
        _, rows = fit_resumable(build, train, epochs=epochs, state_dir=state, on_epoch=on_epoch,
                                log=log, fingerprint=fingerprint, finish=finish)
        return [{**row, "epoch": offset + row["epoch"], "phase": name}
                for row in rows[(1 if offset else 0):]]

    # with a tied phase to follow, the first stays resumable until both are done, so a run
    # killed in the tied phase resumes there instead of training the first phase again
    rows = phase(train_sets[train_size], params.batch_size, params.learning_rate, params.epochs,
                 init_model, 0, state_dir, f"rg_{train_size}", finish=not tied)
    if tied:
        first = _best(rows, key)
        start = epoch_dir / f"epoch_{int(first['epoch']):03d}.keras"
        log(f"tied {tied_size}x{tied_size} phase from epoch {first['epoch']}")
        rows += phase(train_sets[tied_size], params.tied_batch_size, params.tied_learning_rate,
                      params.tied_epochs, start, params.epochs, state_dir / "tied",
                      f"tied_{tied_size}")
        mark_finished(state_dir)
    epochs_dir = Path(epochs_dir)
    epochs_dir.mkdir(parents=True, exist_ok=True)
    for row in rows:
        name = f"epoch_{int(row['epoch']):03d}.keras"
        io.copy_file(epoch_dir / name, epochs_dir / name)
    best = _best(rows, key)
    for row in rows:
        row["selected"] = int(row is best)
    io.write_rows(Path(history_out), rows)
    io.copy_file(epoch_dir / f"epoch_{int(best['epoch']):03d}.keras", selected_out)
    log(f"selected epoch {best['epoch']} ({key} = {best[key]:.4f})")
    return best


def _best(rows, key):
    """The first row with the highest ``key``."""
    return max(rows, key=lambda r: (r[key], -r["epoch"]))


def _shards_by_size(paths) -> dict[int, list]:
    found = by_size(paths)
    if not found:
        raise ShardError("no training shards given")
    return found
