"""The authors' reference data: three 4x4 disorder realizations on a 400x400 grid of
clean parameters, each point labeled with the Bott index (``data_1.mat`` ... ``data_3.mat``).

Point (i, j) is the disorder added to the clean lattice mu = 2 xi_i,
t_minus = eta_j, Delta = ``REFERENCE_DELTA``; its label is ``Bott_vec`` at
i * 400 + j. The Bott labeler is checked against every label
(``tests/test_bott.py``) and Fig. 2 compares the base network with them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.io

from ..physics.bott import chern_numbers
from ..training.metrics import clean_formula

# Delta of every reference lattice (and of the clean lattices of Figs. 2 and 7 by default).
REFERENCE_DELTA = 0.15


def reference_realization(path) -> dict:
    """One of the authors' 4x4 disorder realizations and its 400x400 Bott labels."""
    d = scipy.io.loadmat(path)
    disorder = np.stack([d["mu_dis"].ravel(), d["t_minus_dis"].ravel(), d["Delta_dis"].ravel()], -1)
    return {
        "xi": d["xvec"].ravel(), "eta": d["yvec"].ravel(), "disorder": disorder.reshape(4, 4, 3),
        "labels": np.rint(d["Bott_vec"].ravel()).astype(int).reshape(d["xvec"].size, -1),
    }


def realization_grid(ref: Mapping, grid: int, delta0: float = REFERENCE_DELTA) -> tuple[np.ndarray, pd.DataFrame]:
    """Lattices on a grid x grid subset of the reference points, and the points' table."""
    n_ref = ref["xi"].size
    idx = np.unique(np.rint(np.linspace(0, n_ref - 1, min(grid, n_ref))).astype(int))
    i, j = (a.ravel() for a in np.meshgrid(idx, idx, indexing="ij"))
    lat = np.broadcast_to(ref["disorder"], (i.size, 4, 4, 3)).copy()
    lat[..., 0] += 2 * ref["xi"][i][:, None, None]
    lat[..., 1] += ref["eta"][j][:, None, None]
    lat[..., 2] += delta0
    points = pd.DataFrame({"xi": ref["xi"][i], "eta": ref["eta"][j],
                           "reference_bott": ref["labels"][i, j]})
    return lat, points


def reference_lattices(path) -> tuple[np.ndarray, np.ndarray]:
    """All grid points of one reference file as lattices (B, 4, 4, 3) and their labels (B,)."""
    ref = reference_realization(path)
    lattices, points = realization_grid(ref, ref["xi"].size)
    return lattices, points["reference_bott"].to_numpy()


def compare_on_realization(ref: Mapping, base, grid: int, delta0: float,
                           threads: int) -> pd.DataFrame:
    """Fig. 2's points: reference label, Bott index, base network and clean formula per point."""
    from ..nn.chain import predict  # lazy: TensorFlow only for this figure

    lat, points = realization_grid(ref, grid, delta0)
    points["bott"] = chern_numbers(lat, threads=threads).chern
    points["network"] = np.rint(predict(lat, base)).astype(int)
    points["clean_formula"] = clean_formula(lat)
    points["disorder_decided"] = points["bott"] != points["clean_formula"]
    return points


def phase_diagram_points(reference_files, base_model, grid: int, delta0: float,
                         threads: int) -> pd.DataFrame:
    """Fig. 2's data: on each reference realization (numbered from 1, column ``realization``),
    the Bott label against the saved base network's on a grid x grid clean-parameter grid."""
    from ..nn.saving import load_model  # lazy: TensorFlow only for the figures of networks

    base = load_model(base_model)
    tables = []
    for k, path in enumerate(reference_files, start=1):
        points = compare_on_realization(reference_realization(path), base, grid, delta0, threads)
        points["realization"] = k
        tables.append(points)
    return pd.concat(tables, ignore_index=True)
