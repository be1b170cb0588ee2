"""The reference loader: the authors' grid, disorder and labels, and subsets of the grid."""

import numpy as np
import pytest

from rgtopo.evaluation.reference import (
    REFERENCE_DELTA,
    reference_lattices,
    reference_realization,
    realization_grid,
)


@pytest.fixture(scope="module")
def ref(reference_dir):
    return reference_realization(reference_dir / "data_1.mat")


def test_a_reference_file_holds_a_400_by_400_grid_of_labels(ref):
    assert ref["xi"].shape == (400,) and ref["eta"].shape == (400,)
    assert ref["disorder"].shape == (4, 4, 3) and ref["labels"].shape == (400, 400)
    assert ref["xi"][0] == pytest.approx(-2) and ref["xi"][-1] == pytest.approx(2)
    assert REFERENCE_DELTA == 0.15


def test_grid_points_are_clean_values_plus_the_same_disorder(ref):
    lat, points = realization_grid(ref, 3)
    assert lat.shape == (9, 4, 4, 3) and len(points) == 9
    assert sorted(set(points["xi"])) == pytest.approx([ref["xi"][0], ref["xi"][200], ref["xi"][399]])
    k = 5  # (i, j) = (1, 2): xi index 200, eta index 399
    np.testing.assert_allclose(lat[k] - ref["disorder"],
                               np.broadcast_to([2 * ref["xi"][200], ref["eta"][399],
                                                REFERENCE_DELTA], (4, 4, 3)))
    assert points["reference_bott"].iloc[k] == ref["labels"][200, 399]
    lat2, _ = realization_grid(ref, 3, delta0=0.1)
    np.testing.assert_allclose(lat2[..., 2] - lat[..., 2], -0.05)


def test_all_lattices_follow_the_label_order_of_the_file(reference_dir, ref):
    lat, labels = reference_lattices(reference_dir / "data_1.mat")
    assert lat.shape == (160_000, 4, 4, 3)
    np.testing.assert_array_equal(labels, ref["labels"].ravel())
    np.testing.assert_allclose(lat[400 * 7 + 11, 0, 0, :2] - ref["disorder"][0, 0, :2],
                               [2 * ref["xi"][7], ref["eta"][11]])
