"""The three training stages of Appendices A and B, resumable epoch by epoch.

A stage is one or more ``Phase`` records (network, optimizer, loss, data, schedule, epochs),
each run by ``fit_resumable``: ``model.fit`` one epoch at a time and, after each epoch, the
whole model with its optimizer state (``checkpoint_<epoch>.keras``) and then the whole
``TrainingState`` (epoch, optimizer steps, best validation loss, the schedule's state, the
batch-shuffling generator's state, the history; ``state.json``) written atomically to the
phase's *state directory*. The state file names its checkpoint, so a kill between the two
writes resumes from the epoch the state records. Started again after a kill, a phase reloads
both and continues with the next epoch exactly as the uninterrupted run would have. The state
directory is not a Snakemake output, so Snakemake does not delete it before a rerun.

Only an unfinished run with the same fingerprint is resumed: the fingerprint holds the
phase's parameters and a digest of every input's contents (shard checksums, model file
bytes); a stage marks its phases finished once its outputs are written, so changed data or a
forced rerun trains again instead of returning the old model.

Data stream from HDF5 shards batch by batch (``rgtopo.batches.LatticeBatches``,
importable from here too), so paper-scale sets need not fit in memory; every
file is written through ``rgtopo.io``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import ClassVar

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
from .params import BaseNetworkParams, DecimationParams, Optimizer, RGTrainingParams
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
                  *, loss: str | None, optimizer: str = "sgd") -> keras.Model:
    """Compile with a training loss (a Chern loss of ``nn.heads.LOSSES`` and the accuracy; None:
    Eq. A2 on the RG network's lattice) and the optimizer: 'sgd', with (Nesterov) momentum, is
    the paper's; 'adam' (momentum and nesterov ignored), the default config's, converges in far
    fewer epochs on a CPU.
    """
    # named, so that a checkpoint does not depend on how many optimizers the process made
    # before (Keras numbers unnamed ones: a resumed run would save "sgd" where one run saved
    # "sgd_1")
    if optimizer == "sgd":
        opt = keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov,
                                   name="sgd")
    elif optimizer == "adam":
        opt = keras.optimizers.Adam(learning_rate, name="adam")
    else:
        raise SpecError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    if loss is not None:
        check_known_loss(loss)
    model.compile(
        optimizer=opt,
        loss=abs_square_loss if loss is None else LOSSES[loss],
        metrics=None if loss is None else [chern_accuracy],
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


class _Schedule:
    """What the schedules share: the fields named in ``STATE`` change as training runs and are
    saved in the TrainingState, the others are settings."""

    STATE: ClassVar[tuple[str, ...]] = ()

    def state_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.STATE}

    def load_state(self, state: Mapping) -> None:
        """Set what ``state_dict`` saved; an empty mapping is the state before training."""
        for f in dataclasses.fields(self):
            if f.name in self.STATE:
                setattr(self, f.name, state.get(f.name, f.default))

    def callbacks(self, steps: int) -> list[keras.callbacks.Callback]:
        """Keras callbacks for the next epoch of ``steps`` batches."""
        return []


@dataclasses.dataclass
class ExponentialSchedule(_Schedule):
    """The rate times ``factor`` after every epoch (1: constant, as in the paper)."""

    factor: float = 1.0

    def step(self, lr: float, improved: bool) -> tuple[float, bool]:
        """The rate for the next epoch, and whether to end training (never)."""
        return lr * self.factor, False


@dataclasses.dataclass
class PlateauSchedule(_Schedule):
    """ReduceLROnPlateau with the paper's end rule.

    The learning rate drops by ``factor`` when the monitored loss has not
    improved for ``patience`` epochs; training ends when the next rate would
    fall below ``floor``.
    """

    STATE: ClassVar[tuple[str, ...]] = ("wait",)
    patience: int
    factor: float
    floor: float
    wait: int = 0

    def step(self, lr: float, improved: bool) -> tuple[float, bool]:
        if improved:
            self.wait = 0
            return lr, False
        self.wait += 1
        if self.wait < self.patience:
            return lr, False
        self.wait = 0
        new_lr = lr * self.factor
        if new_lr < self.floor * (1 - 1e-9):
            return lr, True
        return new_lr, False


@dataclasses.dataclass
class CosineSchedule(_Schedule):
    """Cosine decay from ``learning_rate`` down to ``floor`` over ``epochs``.

    The rate falls batch by batch (``callbacks``), so it reaches the floor by the end of the
    last epoch instead of staying a whole epoch above it; ``step`` sets the rate at each
    epoch's start.
    """

    STATE: ClassVar[tuple[str, ...]] = ("epochs_done",)
    learning_rate: float
    epochs: int
    floor: float
    epochs_done: int = 0

    def __post_init__(self):
        self.learning_rate, self.floor = float(self.learning_rate), float(self.floor)
        self.epochs = max(int(self.epochs), 1)

    def rate(self, epochs_done: float) -> float:
        """The rate after ``epochs_done`` (fractional) epochs."""
        frac = 0.5 * (1.0 + math.cos(math.pi * min(epochs_done, self.epochs) / self.epochs))
        return self.floor + (self.learning_rate - self.floor) * frac

    def step(self, lr: float, improved: bool) -> tuple[float, bool]:
        self.epochs_done += 1
        return self.rate(self.epochs_done), False

    def callbacks(self, steps: int) -> list[keras.callbacks.Callback]:
        done, steps = self.epochs_done, max(int(steps), 1)
        return [_BatchRate(lambda batch: self.rate(done + batch / steps))]


Schedule = ExponentialSchedule | PlateauSchedule | CosineSchedule


class _BatchRate(keras.callbacks.Callback):
    def __init__(self, rate: Callable[[int], float]):
        super().__init__()
        self._rate = rate

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self._rate(batch))


STATE_FILE = "state.json"
"""The TrainingState of a phase, in its state directory."""

STATE_VERSION = 4
"""Saved in every state: raise it when the format or the meaning of a saved state changes
(2: the cosine rate falls batch by batch; 3: coarse lattices augmented before decimation;
4: one TrainingState naming its checkpoint), so a state written by other code is set aside
with one line, not resumed."""


@dataclasses.dataclass
class TrainingState:
    """Everything a phase needs to continue after a kill, besides its checkpoint; saved whole."""

    version: int
    fingerprint: dict
    shuffle: dict | None  # the batch-shuffling generator's (LatticeBatches.shuffle_state)
    epoch: int = 0
    step: int = 0  # optimizer steps taken
    best_loss: float = math.inf  # the lowest validation loss so far, that of best.keras
    best_epoch: int | None = None
    schedule: dict = dataclasses.field(default_factory=dict)  # the schedule's state_dict()
    history: list[dict] = dataclasses.field(default_factory=list)
    checkpoint: str | None = None  # the file, in the state directory, of the model after epoch
    ended: bool = False  # the schedule ended training before the phase's epochs
    finished: bool = False  # the stage's outputs are written: a new call trains again


@dataclasses.dataclass(frozen=True, kw_only=True)
class Phase:
    """One stretch of training: a network, its optimizer and loss, its data and epochs.

    ``network`` builds the untrained network (called only when no saved state is resumed);
    ``loss`` is a Chern loss, or None for Eq. A2 on the RG network's lattice. ``inputs``
    (``inputs_fingerprint``), the optimizer's parameters and the name make the fingerprint.
    With ``validation``, the best model by its loss is kept as ``best.keras``.
    ``on_epoch(model, epoch)`` returns extra history columns; it is also called once before
    training (epoch 0).
    """

    name: str
    epochs: int
    network: Callable[[], keras.Model]
    optimizer: Optimizer
    loss: str | None
    data: LatticeBatches
    inputs: list
    validation: LatticeBatches | None = None
    schedule: Schedule = dataclasses.field(default_factory=ExponentialSchedule)
    on_epoch: Callable[[keras.Model, int], dict] | None = None

    def fingerprint(self) -> dict:
        return json.loads(json.dumps({"params": self.optimizer.as_dict(), "phase": self.name,
                                      "inputs": self.inputs}, sort_keys=True, default=str))

    def compiled_network(self) -> keras.Model:
        return compile_model(self.network(), **self.optimizer.compile_args(), loss=self.loss)


def fit_resumable(phase: Phase, state_dir, *, log: Callable[[str], None] = print,
                  ) -> tuple[keras.Model, TrainingState]:
    """Train ``phase`` epoch by epoch, saving model and state after each; resume from state_dir.

    A saved state with another fingerprint (or format) is set aside, not resumed; a finished
    one is discarded, so a new call trains again. The state stays unfinished until the stage
    calls ``mark_finished``, so a stage killed in a later phase, or before its outputs are
    written, resumes instead of training again.
    """
    state_dir = Path(state_dir)
    model, state = _resume(phase, state_dir, log) or _start(phase, log)
    phase.schedule.load_state(state.schedule)
    phase.data.shuffle_state = state.shuffle
    t_start = time.perf_counter() - state.history[-1].get("wall_s", 0.0)
    while state.epoch < phase.epochs and not state.ended:
        epoch = state.epoch + 1
        lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        # shuffle=False: Keras would otherwise reorder the batches again with Python's
        # global generator, whose state a resumed run cannot restore
        fit = model.fit(phase.data, epochs=1, validation_data=phase.validation, shuffle=False,
                        verbose=0, callbacks=phase.schedule.callbacks(len(phase.data)))
        row = {"epoch": epoch, "learning_rate": lr}
        row.update({k: float(v[-1]) for k, v in fit.history.items()})
        improved = phase.validation is not None and row["val_loss"] < state.best_loss
        if improved:
            state.best_loss, state.best_epoch = row["val_loss"], epoch
            io.save_model(model, state_dir / "best.keras")
        lr, state.ended = phase.schedule.step(lr, improved)
        model.optimizer.learning_rate.assign(lr)
        if phase.on_epoch is not None:
            row.update(phase.on_epoch(model, epoch))
        row["wall_s"] = time.perf_counter() - t_start
        state.history.append(row)
        state.epoch = epoch
        state.step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        state.schedule, state.shuffle = phase.schedule.state_dict(), phase.data.shuffle_state
        _save(state, model, state_dir)
        log(f"epoch {epoch}/{phase.epochs}: {_fmt(row)}")
    if state.ended:
        log(f"learning rate would fall below the floor: ended after epoch {state.epoch}")
    return model, state


def _start(phase: Phase, log) -> tuple[keras.Model, TrainingState]:
    """A new network and its state, with the history's row of epoch 0."""
    model = phase.compiled_network()
    state = TrainingState(version=STATE_VERSION, fingerprint=phase.fingerprint(),
                          shuffle=phase.data.shuffle_state)
    row = {"epoch": 0, "wall_s": 0.0}
    if phase.on_epoch is not None:
        row.update(phase.on_epoch(model, 0))
    state.history.append(row)
    log(f"epoch 0 (before training): {_fmt(row)}")
    return model, state


def _resume(phase: Phase, state_dir: Path, log) -> tuple[keras.Model, TrainingState] | None:
    """The saved model and state to continue from; None to start afresh."""
    state_dir.mkdir(parents=True, exist_ok=True)
    saved = _read_state(state_dir)
    if saved is None:
        return None
    version = saved.get("version", saved.get("fingerprint", {}).get("state_version"))
    if version != STATE_VERSION:
        return _set_aside(state_dir, f"{state_dir / STATE_FILE} holds a training state of format "
                                     f"{version}, this code reads format {STATE_VERSION}", log)
    state = TrainingState(**saved)
    if state.fingerprint != phase.fingerprint():
        return _set_aside(state_dir, "parameters or input data changed", log)
    if state.finished:
        shutil.rmtree(state_dir)
        state_dir.mkdir(parents=True)
        log("the saved run had finished: training again from the start")
        return None
    if state.checkpoint is None or not (state_dir / state.checkpoint).is_file():
        return None
    log(f"resuming from epoch {state.epoch} ({state_dir / state.checkpoint})")
    return load_model(state_dir / state.checkpoint, compile=True), state


def _read_state(state_dir: Path) -> dict | None:
    path = state_dir / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _set_aside(state_dir: Path, why: str, log) -> None:
    """Move a state that must not be resumed out of the way, keeping it for a look."""
    stale = state_dir.with_name(f"{state_dir.name}.stale-{int(time.time())}")
    state_dir.rename(stale)
    state_dir.mkdir(parents=True)
    log(f"{why}: previous training state moved to {stale}")


def _save(state: TrainingState, model: keras.Model, state_dir: Path) -> None:
    """Checkpoint, history and state; the state is written last and names its checkpoint, so a
    kill at any point leaves a consistent pair. Older checkpoints go once it is written."""
    state.checkpoint = f"checkpoint_{state.epoch:03d}.keras"
    io.save_model(model, state_dir / state.checkpoint)
    io.write_rows(state_dir / "history.csv", state.history)
    # keys in the order the run made them: a resumed history keeps the columns' order
    io.write_json(state_dir / STATE_FILE, dataclasses.asdict(state))
    for old in state_dir.glob("checkpoint_*.keras"):
        if old.name != state.checkpoint:
            old.unlink()


def mark_finished(*state_dirs) -> None:
    """Mark the runs saved in state_dirs as finished (the stage's outputs are written): the
    next call trains again. A phase of no epochs saved nothing to mark."""
    for state_dir in map(Path, state_dirs):
        saved = _read_state(state_dir)
        if saved is not None:
            io.write_json(state_dir / STATE_FILE, {**saved, "finished": True}, sort_keys=True)


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
    phase = Phase(name="base_network", epochs=params.max_epochs,
                  network=partial(arch.build, network, scales=scales), optimizer=params,
                  loss=params.loss, data=train, validation=val, schedule=schedule,
                  inputs=inputs_fingerprint([*train_shards, *validation_shards]),
                  on_epoch=partial(_level_columns, coarse_val) if coarse_val else None)
    model, state = fit_resumable(phase, state_dir, log=log)
    if state.best_epoch is None:
        io.save_model(model, model_out)
    else:
        io.copy_file(Path(state_dir) / "best.keras", model_out)
    io.write_rows(Path(history_out), state.history)
    mark_finished(state_dir)
    return state.history[-1]


def _level_columns(coarse_val: Mapping[int, LatticeBatches], model, epoch) -> dict:
    """The base network's loss and accuracy on each coarse level's validation lattices."""
    row = {}
    for level, data in coarse_val.items():
        scores = model.evaluate(data, verbose=0, return_dict=True)
        row.update({f"val_level{level}_{name}": float(value) for name, value in scores.items()})
    return row


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
    network = partial(rg_network, params.width, padding=params.padding,
                      linear_path=params.linear_path, disorder_factor=params.disorder_factor)
    phase = Phase(name="decimation", epochs=params.epochs, network=network, optimizer=params,
                  loss=None, data=train, schedule=ExponentialSchedule(float(params.lr_decay)),
                  inputs=inputs_fingerprint(train_shards))
    model, state = fit_resumable(phase, state_dir, log=log)
    io.save_model(model, Path(model_out))
    io.write_rows(Path(history_out), state.history)
    fidelity = decimation_fidelity(model, check_shards, batch, params.disorder_factor)
    fidelity["final_training_loss"] = state.history[-1].get("loss")
    io.write_json(Path(metrics_out), fidelity, sort_keys=True)
    mark_finished(state_dir)
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


@dataclasses.dataclass(frozen=True)
class RGPhase:
    """One phase of RG training: its lattices, parameters and start, and where its state goes.

    ``start`` None is a random RG network, ``SELECTED`` the best epoch of the phases before.
    """

    name: str
    size: int
    params: RGTrainingParams
    start: Path | str | None
    state_dir: Path


SELECTED = "selected"


def train_rg(params: RGTrainingParams | Mapping, base_model, init_model, train_shards,
             validation_shards: Mapping[int, Sequence], *, epochs_dir, history_out, selected_out,
             state_dir, log=print) -> dict:
    """Stage 3: the compound network on 8x8 labels, base frozen, one RG checkpoint per epoch.

    init_model None trains from a random start (the uninitialized ablation).
    After every epoch the RG network is saved and evaluated on every validation
    set (RG applied k times). With ``tied_epochs``, a curriculum of tied phases
    follows, one per larger training size in ``train_shards`` (16x16, then 32x32, ...): the
    RG network is applied k times with one set of weights (tied copies, the paper's
    proposal for future work), each phase starting from the best epoch so far at
    ``select_size``; epochs continue the numbering. ``certified_only`` trains on the
    certified labels alone. The epoch with the best ``select_size`` validation accuracy
    over all phases is copied to ``selected_out``. Test sets play no part here: what is
    chosen on validation lattices is reported on test lattices.
    """
    params = RGTrainingParams.of(params)
    key = f"validation_accuracy_{params.select_size}x{params.select_size}"
    train_sets = _shards_by_size(train_shards)
    sets = {int(s): LatticeBatches(p, params.batch_size, "chern")
            for s, p in validation_shards.items()}
    if params.select_size not in sets:
        raise SpecError(f"selection size {params.select_size} has no validation set")
    epoch_dir = Path(state_dir) / "epochs"
    validation_inputs = [p for paths in validation_shards.values() for p in paths]
    phases = _rg_phases(params, train_sets, init_model, Path(state_dir))
    rows, offset = [], 0
    for spec in phases:
        start = spec.start
        if start == SELECTED:
            selected = _best(rows, key)["epoch"]
            log(f"tied {spec.size}x{spec.size} phase from epoch {selected}")
            start = epoch_file(epoch_dir, selected)
        shards = train_sets[spec.size]
        data = LatticeBatches(shards, spec.params.batch_size, "chern", shuffle_seed=params.seed,
                              augment=params.augment, certified_only=params.certified_only)
        phase = Phase(name=spec.name, epochs=spec.params.epochs, optimizer=spec.params,
                      loss=params.loss, data=data, on_epoch=_rg_epoch(epoch_dir, offset, sets),
                      network=partial(_compound_network, params, base_model, start, spec.size),
                      inputs=inputs_fingerprint([*shards, *validation_inputs], [base_model, start]))
        _, state = fit_resumable(phase, spec.state_dir, log=log)
        # a later phase's epoch 0 is its start, already a row
        rows += [{**row, "epoch": offset + row["epoch"], "phase": spec.name}
                 for row in state.history[(1 if offset else 0):]]
        offset += spec.params.epochs
    best = _best(rows, key)
    for row in rows:
        row["selected"] = int(row is best)
        io.copy_file(epoch_file(epoch_dir, row["epoch"]),
                     epoch_file(Path(epochs_dir), row["epoch"]))
    io.write_rows(Path(history_out), rows)
    io.copy_file(epoch_file(epoch_dir, best["epoch"]), selected_out)
    # only now: a run killed in a later phase, or before its outputs, resumes there
    mark_finished(*(spec.state_dir for spec in phases))
    log(f"selected epoch {best['epoch']} ({key} = {best[key]:.4f})")
    return best


def _rg_phases(params: RGTrainingParams, train_sets: Mapping[int, list], init_model,
               state_dir: Path) -> list[RGPhase]:
    """The first phase on the smallest training lattices and, with ``tied_epochs``, a tied
    phase on each larger training size, in order, with their own rate and batch size.

    The sizes must double from one phase to the next: each tied phase adds one RG step.
    """
    sizes = sorted(train_sets)
    phases = [RGPhase(f"rg_{sizes[0]}", sizes[0], params, init_model, state_dir)]
    if not params.tied_epochs:
        if len(sizes) > 1:
            raise SpecError(f"training shards at {sizes[1:]} need rg_training.tied_epochs > 0 "
                            "(the tied phases train on them)")
        return phases
    if len(sizes) == 1:
        raise SpecError(f"tied_epochs {params.tied_epochs} needs {2 * sizes[0]}x{2 * sizes[0]} "
                        f"training shards (a train_{2 * sizes[0]} dataset)")
    tied = dataclasses.replace(params, epochs=params.tied_epochs,
                               batch_size=params.tied_batch_size,
                               learning_rate=params.tied_learning_rate)
    for smaller, size in zip(sizes, sizes[1:]):
        if size != 2 * smaller:
            raise SpecError(f"training sizes {sizes}: each tied phase doubles the lattice, so "
                            f"{size}x{size} cannot follow {smaller}x{smaller}")
        phases.append(RGPhase(f"tied_{size}", size, tied, SELECTED, state_dir / f"tied_{size}"))
    return phases


def _compound_network(params: RGTrainingParams, base_model, start, size: int) -> keras.Model:
    """The frozen base network behind an RG network (new, or loaded from ``start``)."""
    base = load_model(base_model)
    rg = rg_network(params.width, padding=params.padding,
                    linear_path=params.linear_path) if start is None else load_model(start)
    check_head_loss(base, params.loss)
    return compound_network(base, rg, size)


def _rg_epoch(epoch_dir: Path, offset: int, sets: Mapping[int, LatticeBatches]):
    """A phase's on_epoch: save its RG network as epoch ``offset + epoch``, then validate it."""
    def on_epoch(model, epoch):
        if offset and epoch == 0:  # the starting point is an earlier phase's selected epoch
            return {}
        rg, base = model.get_layer("rg_network"), model.get_layer("base_network")
        io.save_model(rg, epoch_file(epoch_dir, offset + epoch))
        return validation_columns(base, rg, sets)
    return on_epoch


def epoch_file(epoch_dir, epoch) -> Path:
    """The RG network after an epoch: the one name of every epoch checkpoint."""
    return Path(epoch_dir) / f"epoch_{int(epoch):03d}.keras"


def _best(rows, key):
    """The first row with the highest ``key``."""
    return max(rows, key=lambda r: (r[key], -r["epoch"]))


def _shards_by_size(paths) -> dict[int, list]:
    found = by_size(paths)
    if not found:
        raise ShardError("no training shards given")
    return found
