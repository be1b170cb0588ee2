"""Sampling distributions and seeds independent of sharding."""

import numpy as np
import pytest
from scipy import stats

from conftest import physics_spec
from rgtopo.errors import SpecError
from rgtopo.physics.phase_diagram import boundary_distance
from rgtopo.physics.sampling import biased_density, disorder_widths, sample_lattices


@pytest.mark.parametrize("n", [4, 8])
def test_disorder_has_zero_mean_and_the_stated_widths(n):
    spec = physics_spec(distribution="uniform", size=n)
    lat = sample_lattices(spec, 0, 4000)
    disorder = lat - lat.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(disorder.mean(axis=(1, 2)), 0, atol=1e-12)
    widths = np.array([0.3 * n / 4, 0.2, 0.05])
    np.testing.assert_allclose(disorder_widths(spec, n), widths)
    spread = disorder.max(axis=(1, 2)) - disorder.min(axis=(1, 2))
    assert np.all(spread <= widths + 1e-12)
    # the raw per-site values are uniform of full width w: std w / sqrt(12) shrunk by 1 - 1/N^2
    expected_std = widths / np.sqrt(12) * np.sqrt(1 - 1 / n**2)
    np.testing.assert_allclose(disorder.reshape(-1, 3).std(axis=0), expected_std, rtol=0.02)


def test_test_set_means_are_uniform_in_their_ranges():
    lat = sample_lattices(physics_spec(distribution="uniform"), 0, 20000)
    means = lat.mean(axis=(1, 2))
    for c, (lo, hi) in enumerate([(-4, 4), (-2, 2), (0.1, 0.2)]):
        assert stats.kstest(means[:, c], stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3


def test_training_means_follow_the_boundary_biased_density():
    spec = physics_spec()
    means = sample_lattices(spec, 0, 100_000).mean(axis=(1, 2))
    uniform = sample_lattices(physics_spec(distribution="uniform"), 0, 100_000).mean(axis=(1, 2))
    d_biased = boundary_distance(means[:, 0], means[:, 1])
    d_uniform = boundary_distance(uniform[:, 0], uniform[:, 1])
    assert stats.mannwhitneyu(d_biased, d_uniform, alternative="less").pvalue < 1e-100
    # chi-square of a 20 x 10 histogram against the density of Eq. (A1)
    mu_e, t_e = np.linspace(-4, 4, 21), np.linspace(-2, 2, 11)
    counts, _, _ = np.histogram2d(means[:, 0], means[:, 1], bins=[mu_e, t_e])
    fine_mu = np.linspace(-4, 4, 2001)[:-1] + 0.002
    fine_t = np.linspace(-2, 2, 1001)[:-1] + 0.002
    dens = biased_density(fine_mu[:, None], fine_t[None, :], 0.03)
    expected = dens.reshape(20, 100, 10, 100).sum(axis=(1, 3))
    expected *= counts.sum() / expected.sum()
    assert stats.chisquare(counts.ravel(), expected.ravel()).pvalue > 1e-4
    assert np.all(np.abs(means[:, 2] - 0.15) <= 0.05)


def test_wide_uniform_set_covers_minus_five_to_five():
    lat = sample_lattices(physics_spec(distribution="wide_uniform", size=8), 0, 500)
    assert lat.shape == (500, 8, 8, 3)
    assert lat.min() >= -5 and lat.max() < 5 and lat.min() < -4.9 and lat.max() > 4.9


@pytest.mark.parametrize("distribution", ["boundary_biased", "uniform", "wide_uniform"])
def test_a_sample_does_not_depend_on_how_the_work_is_split(distribution):
    spec = physics_spec(distribution=distribution)
    whole = sample_lattices(spec, 0, 100)
    parts = np.concatenate([sample_lattices(spec, s, 25) for s in range(0, 100, 25)])
    np.testing.assert_array_equal(whole, parts)
    np.testing.assert_array_equal(whole[37:41], sample_lattices(spec, 37, 4))
    other = sample_lattices(physics_spec(distribution=distribution, seed=8), 0, 100)
    assert not np.allclose(whole, other)
    other_stream = sample_lattices(physics_spec(distribution=distribution, stream="test"), 0, 100)
    assert not np.allclose(whole, other_stream)


def test_validation_and_test_sets_of_one_size_share_no_lattice():
    """RG epochs are chosen on validation_N and reported on test_N: distinct streams, so the
    two sets are disjoint (no lattice mean, hence no lattice, in common)."""
    from rgtopo.physics.sampling import stream_key

    assert stream_key(7, "validation_16") != stream_key(7, "test_16")
    means = {}
    for name in ("validation_16", "test_16"):
        lat = sample_lattices(physics_spec(distribution="uniform", size=16, stream=name), 0, 2000)
        means[name] = {tuple(m) for m in lat.mean(axis=(1, 2)).round(12)}
        assert len(means[name]) == 2000
    assert not means["validation_16"] & means["test_16"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"distribution": "gaussian"}, "unknown distribution 'gaussian'"),
        ({"size": 1}, "size must be >= 2"),
        ({"alpha": -1.0}, "alpha > 0"),
        ({"mu_range": [4, -4]}, "mu_range"),
        ({"seed": -3}, "seed"),
    ],
)
def test_bad_specs_raise_one_clear_error(change, message):
    with pytest.raises(SpecError, match=message):
        sample_lattices({**physics_spec(), **change}, 0, 3)
    spec = physics_spec()
    del spec["alpha"]
    with pytest.raises(SpecError, match="missing 'alpha'"):
        sample_lattices(spec, 0, 3)


def test_disorder_scale_multiplies_each_lattice_and_channel_and_keeps_the_means():
    fixed = physics_spec(distribution="uniform", size=4)
    scaled = {**fixed, "disorder_scale": [0.0, 2.0]}
    a, b = sample_lattices(fixed, 100, 3000), sample_lattices(scaled, 100, 3000)
    np.testing.assert_allclose(a.mean(axis=(1, 2)), b.mean(axis=(1, 2)), atol=1e-12)
    dev_a = a - a.mean(axis=(1, 2), keepdims=True)
    dev_b = b - b.mean(axis=(1, 2), keepdims=True)
    ratio = (dev_b * dev_a).sum(axis=(1, 2)) / (dev_a**2).sum(axis=(1, 2))
    # one factor per lattice and channel, exactly: the scaled deviations are that multiple
    np.testing.assert_allclose(dev_b, dev_a * ratio[:, None, None, :], atol=1e-12)
    assert ratio.min() >= 0 and ratio.max() <= 2
    assert stats.kstest(ratio.ravel(), stats.uniform(0, 2).cdf).pvalue > 1e-3
    assert abs(np.corrcoef(ratio[:, 0], ratio[:, 1])[0, 1]) < 0.1  # channels drawn independently
    # sample i is the same drawn alone (the factors are a pure function of the index too)
    np.testing.assert_array_equal(sample_lattices(scaled, 3099, 1)[0], b[-1])


def test_a_constant_disorder_scale_is_a_plain_factor():
    fixed = physics_spec(distribution="boundary_biased", size=8)
    a = sample_lattices(fixed, 0, 50)
    b = sample_lattices({**fixed, "disorder_scale": [0.5, 0.5]}, 0, 50)
    m = a.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(b, m + 0.5 * (a - m), atol=1e-12)


@pytest.mark.parametrize("scale", [[2.0, 1.0], [-1.0, 1.0]])
def test_a_bad_disorder_scale_is_a_spec_error(scale):
    with pytest.raises(SpecError, match="disorder_scale"):
        sample_lattices({**physics_spec(), "disorder_scale": scale}, 0, 3)
