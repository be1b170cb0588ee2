"""The augmentation's symmetries hold for the Bott labeler, and reflections do not."""

import numpy as np
import pytest

from conftest import physics_spec
from rgtopo import chern_numbers
from rgtopo.physics import symmetries
from rgtopo.physics.sampling import sample_lattices


@pytest.fixture(scope="module", params=[4, 8])
def labeled(request):
    n = request.param
    count = 600 if n == 4 else 120
    x = sample_lattices(physics_spec(distribution="boundary_biased", size=n, stream="sym"), 0, count)
    return x, np.asarray(chern_numbers(x, threads=2).chern)


def _labels(x):
    return np.asarray(chern_numbers(np.ascontiguousarray(x), threads=2).chern)


def test_symmetries_keep_or_flip_the_bott_index(labeled):
    x, y = labeled
    assert np.count_nonzero(y) > len(y) // 10  # enough topological lattices to mean something
    np.testing.assert_array_equal(_labels(symmetries.translate(x, 1, 3)), y)
    np.testing.assert_array_equal(_labels(symmetries.transpose(x)), y)
    np.testing.assert_array_equal(_labels(symmetries.negate_mu(x)), -y)
    np.testing.assert_array_equal(_labels(x * np.array([1.0, 1.0, -1.0])), y)


def test_mirror_reflection_is_not_a_symmetry_of_this_convention(labeled):
    x, y = labeled
    assert np.mean(_labels(x[:, ::-1]) != y) > 0.005


def test_augment_returns_labels_that_match_the_labeler(labeled):
    x, y = labeled
    xa, ya = symmetries.augment(x, y, np.random.default_rng(0))
    np.testing.assert_array_equal(_labels(xa), ya)
    xb, yb = symmetries.augment(x, y[:, None], np.random.default_rng(0))
    np.testing.assert_array_equal(xb, xa)
    assert yb.shape == (len(y), 1) and np.array_equal(yb[:, 0], ya)


def test_positive_delta_flips_only_negative_pairing_and_keeps_the_label(labeled):
    x, y = labeled
    mixed = x.copy()
    mixed[::2, ..., 2] *= -1  # every other lattice gets the opposite pairing sign
    out = symmetries.positive_delta(mixed)
    np.testing.assert_array_equal(out, x)  # the sampler draws Delta > 0: all flipped back
    np.testing.assert_array_equal(_labels(mixed), y)
    assert np.all(mixed[::2, ..., 2] < 0)  # the input is not modified
