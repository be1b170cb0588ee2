"""Exact symmetries of the disordered p+ip lattice, used to augment training batches.

Each was checked against the Bott labeler on thousands of lattices
(tests/test_symmetries.py): with the site-owned bond convention of
``lattice.py`` (site (x, y) owns the bonds to (x+1, y) and (x, y+1)),

* a cyclic translation keeps the Chern number;
* the transpose x <-> y together with t_minus -> -t_minus keeps it (the x and
  y bonds swap owners' roles; p_x + i p_y becomes i (p_x - i p_y) up to a
  gauge, and the hopping anisotropy changes sign);
* mu -> -mu on every site flips its sign;
* Delta -> -Delta on every site (a global gauge c -> i c) keeps it.

Mirror reflections are not symmetries in this convention: they move a bond to
a different owner site (about 4 % of 4x4 labels change).
"""

from __future__ import annotations

import numpy as np

NEGATE_T_MINUS = np.array([1.0, -1.0, 1.0], dtype=np.float32)


def translate(lattices, shift_x: int, shift_y: int) -> np.ndarray:
    return np.roll(lattices, (shift_x, shift_y), axis=(1, 2))


def transpose(lattices) -> np.ndarray:
    """x <-> y with t_minus -> -t_minus (Chern number unchanged)."""
    return np.swapaxes(lattices, 1, 2) * NEGATE_T_MINUS.astype(np.asarray(lattices).dtype)


def negate_mu(lattices) -> np.ndarray:
    """mu -> -mu (Chern number changes sign)."""
    out = np.array(lattices, copy=True)
    out[..., 0] *= -1
    return out


def positive_delta(lattices) -> np.ndarray:
    """Delta -> -Delta on every lattice whose average Delta is negative: the same Chern
    number, with the pairing's sign the networks were trained on."""
    out = np.array(lattices, copy=True)
    negative = out[..., 2].mean(axis=(1, 2)) < 0
    out[negative, ..., 2] *= -1
    return out


def augment(lattices, labels, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random element of the symmetry group per lattice, and the matching labels.

    labels has shape (B,) or (B, 1). The translation is drawn once per batch;
    the transpose and the sign of mu per lattice.
    """
    x = np.asarray(lattices)
    y = np.asarray(labels)
    n = x.shape[1]
    x = translate(x, *rng.integers(0, n, size=2))
    swap = rng.random(len(x)) < 0.5
    x = np.where(swap[:, None, None, None], transpose(x), x)
    flip = rng.random(len(x)) < 0.5
    x = np.where(flip[:, None, None, None], negate_mu(x), x)
    sign = np.where(flip, -1, 1).reshape((-1,) + (1,) * (y.ndim - 1))
    return x, (y * sign).astype(y.dtype)
