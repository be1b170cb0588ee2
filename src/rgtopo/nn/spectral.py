"""The default base network: a residual network of dense layers on DisorderFeatures.

About 3x cheaper per lattice than the paper's convolutions on a CPU. ``shifts``
ConditionedShifts sums join the features; with ``levels`` > 1 a second input, the one-hot
level (how many times the lattice was coarse-grained), joins them too: a coarse-grained
lattice's label is the larger lattice's, not the one its own 4x4 invariant gives.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ..errors import SpecError
from ..params import SpectralParams
from .heads import chern_head, lattice_input
from .layers import ConditionedShifts, DisorderFeatures


def feature_scales(lattices) -> dict:
    """DisorderFeatures' standardization constants, measured on a sample of training lattices."""
    x = np.asarray(lattices, dtype=np.float64)
    mean = x.mean(axis=(1, 2))
    dev = (x - mean[:, None, None, :]).reshape(-1, 3)
    tiny = np.finfo(np.float32).eps
    return {"mean_center": mean.mean(axis=0).tolist(),
            "mean_scale": np.maximum(mean.std(axis=0), tiny).tolist(),
            "disorder_scale": np.maximum(dev.std(axis=0), tiny).tolist()}


def build(params: SpectralParams, *, scales: dict | None = None,
          name: str = "base_network") -> keras.Model:
    """The network; ``scales`` from ``feature_scales`` standardize its features."""
    if scales is None:
        raise SpecError("the spectral base network needs feature scales")
    inp, lattice, sign = lattice_input(params.canonical)
    x = DisorderFeatures(**scales, name="disorder_features")(lattice)
    means = x[:, :3]
    inputs = inp
    if params.levels > 1:
        level = keras.Input((params.levels,), name="level")
        inputs = [inp, level]
        x = layers.Concatenate(name="features_and_level")([x, level])
        means = layers.Concatenate(name="means_and_level")([means, level])
    if params.shifts:
        means = layers.Dense(64, activation="relu", name="means_hidden1")(means)
        means = layers.Dense(64, activation="relu", name="means_hidden2")(means)
        weights = layers.Dense(
            x.shape[-1] * params.shifts, name="shift_weights",
            kernel_initializer=keras.initializers.VarianceScaling(1.0 / x.shape[-1]))(means)
        x = layers.Concatenate(name="features_and_shifts")(
            [x, ConditionedShifts(params.shifts, name="shifts")([weights, x])])
    width = params.width
    x = layers.Dense(width, activation="relu", name="dense1")(x)
    for block in range(params.blocks):
        skip = x
        x = layers.Dense(width, activation="relu", name=f"dense{2 * block + 2}")(x)
        x = layers.Dense(width, name=f"dense{2 * block + 3}")(x)
        x = layers.ReLU(name=f"relu{2 * block + 3}")(layers.Add(name=f"skip{block}")([x, skip]))
    return keras.Model(inputs, chern_head(x, params.loss, sign), name=name)


def describe(model: keras.Model) -> dict | None:
    """The shape of a network this module built (the bundle card's record), None for another's."""
    names = {layer.name for layer in model.layers}
    if "disorder_features" not in names:
        return None
    shifts = model.get_layer("shifts").units if "shifts" in names else 0
    return {"architecture": "spectral", "width": int(model.get_layer("dense1").units),
            "blocks": sum(name.startswith("skip") for name in names), "shifts": int(shifts),
            "canonical": "canonical" in names}
