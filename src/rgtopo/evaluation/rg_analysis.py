"""What the trained RG network does to simple lattices (Figs. 7 and 8).

Points mapping: where clean lattices land in the (mu/2, t_minus) plane after
repeated RG steps, and whether they stay in their phase. Impurity response:
the RG output around a single mu impurity, against the clean output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..physics.lattice import clean_lattice
from ..nn.chain import apply_rg
from ..nn.saving import load_model
from ..physics.phase_diagram import clean_chern_number


def points_mapping(rg, grid: int, steps: int, delta0: float, lattice_size: int) -> pd.DataFrame:
    """Where clean lattices land in (mu/2, t_minus) after 1..steps RG applications.

    A periodic RG network maps a uniform lattice to a uniform one (translation
    equivariance), so each step is applied to a small uniform lattice built
    from the previous step's site average; ``nonuniformity`` records the
    largest deviation of any output site from that average.
    """
    xi, eta = (a.ravel() for a in np.meshgrid(np.linspace(-2, 2, grid), np.linspace(-2, 2, grid),
                                              indexing="ij"))
    values = np.stack([2 * xi, eta, np.full_like(xi, delta0)], -1)
    rows = [pd.DataFrame({"point": np.arange(xi.size), "step": 0, "xi": xi, "eta": eta,
                          "nonuniformity": 0.0})]
    for step in range(1, steps + 1):
        lat = np.broadcast_to(values[:, None, None, :], (len(values), lattice_size, lattice_size, 3))
        out = apply_rg(rg, lat, 1)
        values = out.mean(axis=(1, 2)).astype(np.float64)
        dev = np.abs(out - values[:, None, None, :]).max(axis=(1, 2, 3))
        rows.append(pd.DataFrame({"point": np.arange(xi.size), "step": step, "xi": values[:, 0] / 2,
                                  "eta": values[:, 1], "nonuniformity": dev}))
    return pd.concat(rows, ignore_index=True)


def landing_phases(table: pd.DataFrame) -> pd.DataFrame:
    """Add each point's starting clean Chern number and that of the point it lands on."""
    start = table[table["step"] == 0].set_index("point")
    table = table.copy()
    table["start_chern"] = table["point"].map(
        pd.Series(clean_chern_number(2 * start["xi"].to_numpy(), start["eta"].to_numpy()),
                  index=start.index))
    table["landing_chern"] = clean_chern_number(2 * table["xi"].to_numpy(), table["eta"].to_numpy())
    return table


def impurity_response(rg, size: int, site: Sequence[int], mu0: float, t_minus0: float,
                      delta0: float, strengths: Sequence[float]) -> pd.DataFrame:
    """RG output minus the clean values for a single mu impurity of each strength."""
    clean = clean_lattice(size, mu0, t_minus0, delta0)
    lat = np.stack([clean for _ in strengths])
    lat[:, site[0], site[1], 0] += np.asarray(strengths)
    out = apply_rg(rg, lat, 1)
    clean_out = apply_rg(rg, clean[None], 1)
    b, x, y, c = np.meshgrid(np.arange(len(strengths)), np.arange(out.shape[1]),
                             np.arange(out.shape[2]), np.arange(3), indexing="ij")
    return pd.DataFrame({
        "delta_mu": np.asarray(strengths)[b.ravel()], "x": x.ravel(), "y": y.ravel(),
        "channel": np.array(["mu", "t_minus", "Delta"])[c.ravel()],
        "difference": (out - np.array([mu0, t_minus0, delta0])).ravel(),
        "impurity_response": (out - clean_out).ravel(),
    })


def points_mapping_table(rg_model, grid: int, steps: int, delta0: float,
                         lattice_size: int) -> pd.DataFrame:
    """Fig. 7's data: ``points_mapping`` of a saved RG network, with ``landing_phases``."""
    return landing_phases(points_mapping(load_model(rg_model), grid, steps, delta0, lattice_size))


def impurity_table(rg_model, size: int, site: Sequence[int], mu0: float, t_minus0: float,
                   delta0: float, strengths: Sequence[float]) -> pd.DataFrame:
    """Fig. 8's data: ``impurity_response`` of a saved RG network."""
    return impurity_response(load_model(rg_model), size, site, mu0, t_minus0, delta0, strengths)
