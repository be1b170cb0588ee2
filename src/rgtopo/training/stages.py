"""The three training stages of Appendices A and B: base network, decimation start, RG network.

Each stage builds its ``Phase`` records (``rgtopo.training.loop``) from its parameters and
shards, runs them resumably, and selects on validation data; ``validation_columns`` are the
columns each RG epoch adds to the history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import keras
import numpy as np

from .. import io
from ..data.batches import LatticeBatches
from ..data.shards import by_size, open_shard
from ..errors import ShardError, SpecError
from ..nn.chain import compound_network
from ..nn.heads import (
    abs_square_loss,
    check_head_loss,
    chern_value,
)
from ..nn.registry import architecture
from ..nn.rg import build as rg_build
from ..nn.saving import load_model
from ..params import BaseNetworkParams, DecimationParams, RGTrainingParams
from ..physics.lattice import BASE_SIZE, rg_steps
from .loop import Phase, epoch_file, fit_resumable, inputs_fingerprint, mark_finished
from .metrics import Tally, clean_formula, wilson_interval
from .optimizers import CosineSchedule, ExponentialSchedule, PlateauSchedule


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
                           levels=params.network.levels, coarse_share=params.coarse_share)
    validation_sizes = by_size(validation_shards)
    if not validation_sizes or min(validation_sizes) != BASE_SIZE:
        raise SpecError(f"the base network's validation needs {BASE_SIZE}x{BASE_SIZE} shards, "
                        f"got sizes {sorted(validation_sizes) or 'none'}")
    val = LatticeBatches(validation_sizes.pop(min(validation_sizes)), batch, "chern",
                         levels=params.network.levels)
    coarse_val = {rg_steps(size): LatticeBatches(paths, batch, "chern", levels=params.network.levels,
                                                 disorder_factor=params.disorder_factor)
                  for size, paths in sorted(validation_sizes.items())}
    if params.lr_schedule == "cosine":
        schedule = CosineSchedule(params.learning_rate, params.max_epochs, params.lr_floor)
    else:
        schedule = PlateauSchedule(params.patience, params.lr_factor, params.lr_floor)
    arch = architecture(params.architecture)
    scales = None
    if arch.scales is not None:
        sizes = by_size(train_shards)
        with open_shard(sizes[min(sizes)][0]) as f:
            scales = arch.scales(f["lattices"][: params.feature_scale_lattices])
    phase = Phase(name="base_network", epochs=params.max_epochs,
                  network=partial(arch.build, params.network, scales=scales), optimizer=params,
                  loss=params.network.loss, data=train, validation=val, schedule=schedule,
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
    """Stage 2: train the RG network to act as ``physics.lattice.decimate`` on the wide uniform set."""
    params = DecimationParams.of(params)
    batch = params.batch_size
    train = LatticeBatches(train_shards, batch, "decimated", shuffle_seed=params.seed,
                           disorder_factor=params.disorder_factor)
    network = partial(rg_build, params.network, disorder_factor=params.disorder_factor)
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
    rg = rg_build(params.network) if start is None else load_model(start)
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




def _best(rows, key):
    """The first row with the highest ``key``."""
    return max(rows, key=lambda r: (r[key], -r["epoch"]))


def _shards_by_size(paths) -> dict[int, list]:
    found = by_size(paths)
    if not found:
        raise ShardError("no training shards given")
    return found
