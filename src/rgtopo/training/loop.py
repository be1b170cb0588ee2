"""The resumable training loop: one phase, epoch by epoch, surviving any kill.

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

Data stream from HDF5 shards batch by batch (``rgtopo.data.batches.LatticeBatches``,
importable from here too), so paper-scale sets need not fit in memory; every
file is written through ``rgtopo.io``.
"""


from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras

from .. import io
from ..data.batches import LatticeBatches
from ..data.shards import shard_digest
from ..errors import ModelError
from ..nn.saving import load_model
from ..params import Optimizer
from .optimizers import ExponentialSchedule, Schedule, compile_model


def inputs_fingerprint(shards: Sequence = (), models: Sequence = ()) -> list[list[str]]:
    """[path, content digest] of every shard and model a stage reads (None models skipped)."""
    models = [Path(p) for p in models if p is not None]
    for path in models:
        if not path.is_file():
            raise ModelError(f"{path}: no such saved model")
    return ([[str(p), shard_digest(p)] for p in shards]
            + [[str(p), io.file_digest(p)] for p in models])



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



def epoch_file(epoch_dir, epoch) -> Path:
    """The RG network after an epoch: the one name of every epoch checkpoint."""
    return Path(epoch_dir) / f"epoch_{int(epoch):03d}.keras"

