"""Fig. 1(b)'s benchmark: the power-law fit and one row per method and size."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rgtopo.nn import base_network, rg_network  # noqa: E402
from rgtopo.evaluation.timing import fit_power_law, measure_timing  # noqa: E402


def test_power_law_fit_recovers_exponent_and_prefactor():
    sizes = np.array([4, 8, 16, 32])
    expo, pref = fit_power_law(sizes, 3e-4 * sizes**4.5)
    assert expo == pytest.approx(4.5) and pref == pytest.approx(3e-4)


def test_every_method_and_size_gets_a_positive_time():
    table = measure_timing(base_network(2), rg_network(2), [4, 8], [4, 8, 16], min_seconds=0.01,
                           network_batch=4, seed=0, threads=1)
    assert list(table.columns) == ["method", "size", "seconds_per_lattice"]
    assert table[["method", "size"]].values.tolist() == [
        ["bott", 4], ["bott", 8], ["network", 4], ["network", 8], ["network", 16]]
    assert (table["seconds_per_lattice"] > 0).all()
