"""A network pair at work: the RG network applied k times, then the base network.

``compound_network`` is the chain as one Keras model (training); ``predict`` runs it on
lattices of size 4 * 2^k (inference). ``rgtopo.predict_chern``, ``Bundle.predict`` and the
evaluation all predict through here.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from ..errors import LatticeError, MemoryLimitError
from ..physics.lattice import as_lattice_batch, level_code, rg_steps
from ..physics.symmetries import positive_delta
from .heads import chern_value
from .layers import LevelCode

SITES_PER_BATCH = 2**18
"""Lattice sites per network call in ``predict_bounded``: bounds memory (64 lattices at N = 64,
one from N = 512 on)."""


def base_levels(base: keras.Model) -> int:
    """How many coarse-graining levels a base network tells apart (1: the paper's, no level input)."""
    return 1 if len(base.inputs) == 1 else int(base.inputs[1].shape[-1])


def base_level(base: keras.Model, steps: int) -> int:
    """The level a base network reads a lattice at after ``steps`` RG steps: the deepest it knows."""
    return min(int(steps), base_levels(base) - 1)


def compound_network(base: keras.Model, rg: keras.Model, size: int) -> keras.Model:
    """RG applied k times to a size x size lattice, then the frozen base network (at level k)."""
    base.trainable = False
    inp = keras.Input((size, size, 3), name="lattice")
    x = inp
    steps = rg_steps(size)
    for _ in range(steps):
        x = rg(x)
    levels = base_levels(base)
    if levels > 1:
        x = [x, LevelCode(base_level(base, steps), levels, name="level_code")(x)]
    return keras.Model(inp, base(x), name=f"compound_{size}")


def apply_rg(rg: keras.Model, lattices, steps: int, batch_size: int = 256) -> np.ndarray:
    """The lattice after ``steps`` applications of the RG network, shape (B, N/2^k, N/2^k, 3)."""
    x = np.asarray(lattices, dtype=np.float32)
    for _ in range(steps):
        if x.shape[1] % 2:
            raise LatticeError(f"the RG network needs an even lattice size, got {x.shape[1]}")
        x = _predict(rg, x, batch_size)
    return x


def _predict(model, x, batch_size, code=None):
    """model(x) batch by batch; with ``code`` (one row per lattice), model([x, code])."""
    def part(i):
        chunk = x[i : i + batch_size]
        return chunk if code is None else [chunk, code[i : i + batch_size]]

    out = [np.asarray(model(part(i), training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, *model.output_shape[1:]), np.float32)


def predict(lattices, base: keras.Model, rg: keras.Model | None = None, batch_size: int = 256,
            *, level: int | None = None) -> np.ndarray:
    """Real-valued Chern numbers (B,) of lattices of size 4 * 2^k from a base network and, for
    N > 4, its RG network. Lattices with a negative average Delta are read as their
    Delta -> -Delta images (the same Chern number; the networks were trained on Delta > 0).
    ``level``: how many times 4x4 input was coarse-grained elsewhere (default: the RG steps
    taken here), for a level-conditioned base network.
    """
    x = positive_delta(as_lattice_batch(lattices)).astype(np.float32)
    steps = rg_steps(x.shape[1])
    if steps and rg is None:
        raise LatticeError(f"{x.shape[1]}x{x.shape[1]} lattices need an RG network")
    x = apply_rg(rg, x, steps, batch_size) if steps else x
    levels, code = base_levels(base), None
    if levels > 1:
        code = level_code(levels, base_level(base, steps if level is None else level), len(x))
    return np.asarray(chern_value(_predict(base, x, batch_size, code)), dtype=np.float64)


PEAK_ACTIVATIONS = 8
"""Full-resolution activations of a network's widest layer alive at once in one call, for
``memory_gb``: 1,653 bytes per site were measured for the shipped RG network (64 channels) on
one 2048x2048 lattice, against the estimate's 2,120 (docs/reliability.md, "Memory")."""
INPUT_BYTES_PER_SITE = 2 * 3 * (8 + 4)
"""The lattice as read (float64) and as fed (float32), each with one copy (Delta sign, batch)."""


def widest(model: keras.Model) -> int:
    """Channels of the widest layer output: what a fully convolutional network holds per site."""
    return max(int(layer.output.shape[-1]) for layer in model.layers
               if not isinstance(layer.output, (list, tuple)))


def memory_gb(size: int, lattices: int, base: keras.Model, rg: keras.Model | None) -> float:
    """Estimated peak memory (GB) of one network call on ``lattices`` lattices of size N: the
    input copies plus ``PEAK_ACTIVATIONS`` activations of the widest layer at full resolution
    of the first network applied (the RG network for N > 4, each later step a quarter of it)."""
    first = rg if rg_steps(size) and rg is not None else base
    per_site = INPUT_BYTES_PER_SITE + PEAK_ACTIVATIONS * 4 * widest(first)
    return int(lattices) * int(size) ** 2 * per_site / 1e9


def available_memory_gb() -> float:
    """Memory the system can give a new allocation now (Linux: MemAvailable), in GB."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9


def check_memory(size: int, lattices: int, base: keras.Model, rg: keras.Model | None,
                 max_memory_gb: float | None = None) -> float:
    """The estimate of one call, or MemoryLimitError before anything is allocated when it
    exceeds ``max_memory_gb`` (default: the memory available now)."""
    limit = available_memory_gb() if max_memory_gb is None else float(max_memory_gb)
    need = memory_gb(size, lattices, base, rg)
    if need > limit:
        raise MemoryLimitError(
            f"network evaluation of {lattices} lattice(s) of {size}x{size} needs an estimated "
            f"{need:.1f} GB, above the limit of {limit:.1f} GB"
            + (" (the memory available now)" if max_memory_gb is None else ""))
    return need


def lattices_per_call(size: int, batch_size: int = 256) -> int:
    """Lattices per network call at linear size N: at most ``batch_size``, bounded memory."""
    return max(1, min(int(batch_size), SITES_PER_BATCH // (int(size) ** 2)))


def predict_bounded(lattices, base: keras.Model, rg: keras.Model, batch_size: int = 256,
                    max_memory_gb: float | None = None) -> np.ndarray:
    """``predict`` in parts of ``lattices_per_call`` lattices, so memory stays bounded at any N;
    a lattice whose single call would exceed ``max_memory_gb`` is refused (``check_memory``)."""
    x = as_lattice_batch(lattices)
    rg_steps(x.shape[1])  # an unreachable size fails even for an empty batch
    step = lattices_per_call(x.shape[1], batch_size)
    check_memory(x.shape[1], min(step, len(x)), base, rg, max_memory_gb)
    out = [predict(x[start : start + step], base, rg, step) for start in range(0, len(x), step)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)
