"""The clean (disorder-free) phase diagram, Fig. 2(a), and the distance to its boundaries.

With t_plus = 1 the clean Chern number depends only on mu and t_minus; the phase
boundaries are the lines mu = +-2 t_plus and mu = +-2 t_minus.
"""

from __future__ import annotations

import numpy as np


def clean_chern_number(mu, t_minus):
    """Analytic Chern number of a clean lattice (broadcasts over arrays).

    Same sign convention as the Bott labels: for |t_minus| < 1 the phase
    -2 < mu < -2|t_minus| has C = +1 and 2|t_minus| < mu < 2 has C = -1; for
    |t_minus| > 1 the outer wings -2|t_minus| < mu < -2 and 2 < mu < 2|t_minus|
    have C = -1 and +1. Points exactly on a boundary are given 0.
    """
    mu = np.asarray(mu, dtype=float)
    a = 2.0 * np.abs(np.asarray(t_minus, dtype=float))
    mu, a = np.broadcast_arrays(mu, a)
    chern = np.zeros(mu.shape, dtype=np.int64)
    inner = a < 2.0
    chern[inner & (mu > -2.0) & (mu < -a)] = 1
    chern[inner & (mu > a) & (mu < 2.0)] = -1
    outer = a > 2.0
    chern[outer & (mu > -a) & (mu < -2.0)] = -1
    chern[outer & (mu > 2.0) & (mu < a)] = 1
    return chern if chern.ndim else int(chern)


def boundary_distance(mu, t_minus):
    """Euclidean distance of (mu / 2, t_minus) to the nearest clean phase boundary.

    The boundaries in that plane are the lines mu/2 = +-1 and mu/2 = +-t_minus
    (the quantity x(mu, t_minus) of Eq. (A1)).
    """
    half_mu, t_minus = np.broadcast_arrays(
        np.asarray(mu, dtype=float) / 2.0, np.asarray(t_minus, dtype=float)
    )
    vertical = np.minimum(np.abs(half_mu - 1.0), np.abs(half_mu + 1.0))
    diagonal = np.minimum(np.abs(half_mu - t_minus), np.abs(half_mu + t_minus)) / np.sqrt(2.0)
    return np.minimum(vertical, diagonal)
