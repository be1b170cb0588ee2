"""Training batches streamed from HDF5 shards, so paper-scale sets need not fit in memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import keras
import numpy as np

from ..errors import ShardError, SpecError
from ..physics.lattice import BASE_SIZE, decimate, level_code, rg_steps
from ..physics.symmetries import augment
from .shards import open_shard, verify_shard

TARGETS = ("chern", "decimated")


class LatticeBatches(keras.utils.PyDataset):
    """Batches (lattices, target) read from HDF5 shards on demand.

    target 'chern': the Bott labels; 'decimated': ``lattice.decimate`` of the
    lattice with ``disorder_factor`` (decimation initialization). With ``levels``
    (the base network's training and validation data), a shard of 4 * 2^k
    lattices is decimated k times (k < levels) and, with levels > 1, a batch is
    ((lattices, one-hot level), labels); ``coarse_share`` (training) then makes the
    coarse levels that share of each epoch's batches, equal parts per level, by
    cycling theirs (with more coarse batches than that, the first ones). ``augment``
    applies a random symmetry to the lattice at its own size, before decimation: a
    coarse lattice's cyclic translations by odd steps decimate to new 4x4 lattices
    with the same label, which the canonical base network does not map back to one
    (each repeat of a cycled batch gets its own). With a seed, the batch order is drawn afresh at
    the start of every epoch from a seeded generator whose state
    (``shuffle_state``) is saved with each checkpoint; samples inside a shard are
    already i.i.d. ``certified_only`` keeps the lattices whose label carries a certificate
    (the shard's ``certified`` column): a network trained on them is never taught a label
    that noise far below the disorder could flip.
    """

    def __init__(self, shards: Sequence, batch_size: int, target: str, *, shuffle_seed=None,
                 augment: bool = False, disorder_factor: float = 1.0, levels: int | None = None,
                 coarse_share: float | None = None, certified_only: bool = False):
        super().__init__()
        self.levels = levels
        if levels is not None and target != "chern":
            raise SpecError("levels need Chern targets")
        self.disorder_factor = float(disorder_factor)
        if augment and (target != "chern" or shuffle_seed is None):
            raise SpecError("augmentation needs Chern targets and a shuffle seed")
        self.augment = bool(augment)
        self._augment_key = 0
        if target not in TARGETS:
            raise SpecError(f"unknown target {target!r}; known: {TARGETS}")
        if int(batch_size) < 1:
            raise SpecError(f"batch_size must be >= 1, got {batch_size}")
        self.paths = [Path(p) for p in shards]
        if not self.paths:
            raise ShardError("no shard files given")
        self.batch_size = int(batch_size)
        self.target = target
        self._files: dict[int, h5py.File] = {}
        self._rows: dict[int, np.ndarray] = {}  # certified_only: each shard's kept rows
        if certified_only and (target != "chern" or levels is not None):
            raise SpecError("certified_only needs Chern targets without levels")
        self.index, coarse, self._steps = [], [], {}
        for i, path in enumerate(self.paths):
            verify_shard(path)
            with open_shard(path) as f:
                if target == "chern" and not f.attrs["labeled"]:
                    raise ShardError(f"{path}: shard has no Chern labels")
                count = int(f.attrs["count"])
                self.size = int(f.attrs["size"])
                if certified_only:
                    if "certified" not in f:
                        raise ShardError(f"{path}: shard without certificates (labeled before "
                                         "format 2); relabel it to train on certified labels")
                    self._rows[i] = np.flatnonzero(f["certified"][:])
                    count = len(self._rows[i])
            batches = [(i, s) for s in range(0, count, self.batch_size)]
            if levels is None:
                self.index += batches
                continue
            self._steps[i] = steps = rg_steps(self.size)
            if steps >= levels:
                raise SpecError(f"{path}: {self.size}x{self.size} lattices are level {steps}; "
                                f"the base network has levels 0..{levels - 1}")
            (coarse if steps else self.index).extend(batches)
        if levels is not None:
            self.size = BASE_SIZE
            self.index += self._coarse_batches(coarse, coarse_share)
        if certified_only and not self.index:
            raise ShardError(f"{self.paths[0]}: no certified label in {len(self.paths)} shard(s)")
        self._seed = shuffle_seed
        self._rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
        self.order = np.arange(len(self.index))

    def _coarse_batches(self, coarse: list, share: float | None) -> list:
        """Training: each coarse level's batches, cycled to an equal part of ``share``."""
        if share is None or self.levels < 2:
            return coarse
        if not 0 < share < 1 or not self.index:
            raise SpecError(f"coarse_share {share} needs 0 < share < 1 and level-0 shards")
        by_level = {level: [b for b in coarse if self._steps[b[0]] == level]
                    for level in range(1, self.levels)}
        missing = [level for level, batches in by_level.items() if not batches]
        if missing:
            size = BASE_SIZE * 2 ** missing[0]
            raise SpecError(f"level {missing[0]} of the base network has no training shards "
                            f"({size}x{size} lattices)")
        want = max(round(share / (1 - share) * len(self.index) / len(by_level)), 1)
        return [batches[j % len(batches)] for batches in by_level.values() for j in range(want)]

    def __len__(self):
        return len(self.index)

    def _file(self, i):
        if i not in self._files:
            self._files[i] = h5py.File(self.paths[i], "r", locking=False)
        return self._files[i]

    def __getitem__(self, k):
        i, start = self.index[self.order[k]]
        f = self._file(i)
        rows = slice(start, start + self.batch_size)
        if i in self._rows:
            rows = self._rows[i][rows]  # increasing, as h5py's point selection wants
        x = f["lattices"][rows].astype(np.float32)
        if self.target == "chern":
            y = f["chern"][rows].astype(np.float32)[:, None]
        else:
            y = decimate(x, self.disorder_factor).astype(np.float32)
        if self.augment:
            x, y = augment(x, y, np.random.default_rng([self._augment_key, int(k)]))
        level = self._steps.get(i, 0)
        for _ in range(level):
            x = decimate(x, self.disorder_factor).astype(np.float32)
        if self.levels is not None and self.levels > 1:
            return (x, level_code(self.levels, level, len(x))), y
        return x, y

    def on_epoch_begin(self):
        if self._rng is not None:
            self.order = self._rng.permutation(len(self.index))
            self._augment_key = int(self._rng.integers(2**62))

    @property
    def shuffle_state(self) -> dict | None:
        """The generator's bit_generator state (None without shuffling), JSON-able."""
        return None if self._rng is None else self._rng.bit_generator.state

    @shuffle_state.setter
    def shuffle_state(self, state: dict | None) -> None:
        if (state is None) != (self._rng is None):
            raise SpecError("saved batch-shuffle state does not match this data set's shuffling")
        if state is not None:
            self._rng.bit_generator.state = state
