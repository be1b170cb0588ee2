"""``rgtopo.predict_chern``: Chern numbers from networks given as models, a bundle or a path.

The networks' arithmetic is ``rgtopo.nn.chain``'s; this module only finds the networks,
above both the chain and the bundle that loads them.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from .bundle import Bundle, load_bundle
from ..errors import SpecError
from ..nn import chain


def predict_chern(lattices, base=None, rg: keras.Model | None = None,
                  batch_size: int = 256, *, level: int | None = None) -> np.ndarray:
    """Predicted (real-valued) Chern numbers of lattices of size 4 * 2^k.

    base: a base network (with ``rg`` its RG network, None only for 4x4 input),
    a ``Bundle`` from ``rgtopo.load_bundle`` or a bundle directory, or None for
    the bundle shipped with the package. Lattices with a negative average Delta
    are read as their Delta -> -Delta images (the same Chern number; the
    networks were trained on Delta > 0). Round the result to get integer
    labels. ``level``: how many times 4x4 input was coarse-grained elsewhere
    (default: the RG steps taken here), for a level-conditioned base network.
    """
    if isinstance(base, keras.Model):
        return chain.predict(lattices, base, rg, batch_size, level=level)
    if level is not None:
        raise SpecError("predict_chern: level= needs a base network, not a bundle")
    if base is None or isinstance(base, (str, os.PathLike)):
        base = load_bundle(base)
    if not isinstance(base, Bundle):
        raise SpecError(f"predict_chern: base must be a Keras model, a Bundle or a bundle "
                        f"directory, got {type(base).__name__}")
    return base.predict(lattices, batch_size=batch_size)
