"""Optimizers and learning-rate schedules of the training phases (Appendices A and B).

A schedule is a small object with ``state_dict``/``load_state_dict``, so a resumed phase
continues its rate exactly (``rgtopo.training.loop``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import ClassVar

import keras

from ..errors import SpecError
from ..nn.heads import (
    LOSSES,
    abs_square_loss,
    check_known_loss,
    chern_accuracy,
)

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

