"""Points mapping and impurity response, checked with exact 2x2 average pooling as the RG
network: uniform lattices stay where they are and an impurity's weight is divided by four."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rgtopo.physics.phase_diagram import clean_chern_number  # noqa: E402
from rgtopo.evaluation.rg_analysis import impurity_response, landing_phases, points_mapping  # noqa: E402


@pytest.fixture(scope="module")
def pooling():
    return keras.Sequential([keras.Input((None, None, 3)), keras.layers.AveragePooling2D(2)])


def test_average_pooling_leaves_every_clean_point_in_place(pooling):
    table = landing_phases(points_mapping(pooling, 5, 2, 0.15, 8))
    assert len(table) == 3 * 25 and sorted(table["step"].unique()) == [0, 1, 2]
    start = table[table["step"] == 0].set_index("point")
    for step in (1, 2):
        sub = table[table["step"] == step].set_index("point")
        np.testing.assert_allclose(sub[["xi", "eta"]], start[["xi", "eta"]], atol=1e-6)
        np.testing.assert_allclose(sub["nonuniformity"], 0, atol=1e-6)
    assert (table["start_chern"] == table["landing_chern"]).all()
    np.testing.assert_array_equal(start["start_chern"],
                                  clean_chern_number(2 * start["xi"], start["eta"]))


def test_an_impurity_after_pooling_is_a_quarter_of_its_strength_in_one_cell(pooling):
    table = impurity_response(pooling, 8, [3, 5], 0.5, 1.0, 0.15, [0.0, 2.0])
    assert len(table) == 2 * 4 * 4 * 3
    np.testing.assert_allclose(table["difference"][table["delta_mu"] == 0], 0, atol=1e-6)
    hit = table[(table["delta_mu"] == 2.0) & (table["impurity_response"].abs() > 1e-6)]
    assert hit[["x", "y", "channel"]].values.tolist() == [[1, 2, "mu"]]
    assert hit["impurity_response"].iloc[0] == pytest.approx(0.5)
