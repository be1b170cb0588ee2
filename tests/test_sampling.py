"""Sampling distributions, seeds independent of sharding, and HDF5 shards."""

import subprocess
import sys

import h5py
import numpy as np
import pytest
from scipy import stats

import rgtopo
from conftest import physics_spec
from rgtopo.datasets import label_shard, read_shard, sample_shard, write_shard
from rgtopo.errors import ShardError, SpecError
from rgtopo.phase_diagram import boundary_distance
from rgtopo.sampling import biased_density, disorder_widths, sample_lattices


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
    from rgtopo.sampling import stream_key

    assert stream_key(7, "validation_16") != stream_key(7, "test_16")
    means = {}
    for name in ("validation_16", "test_16"):
        lat = sample_lattices(physics_spec(distribution="uniform", size=16, stream=name), 0, 2000)
        means[name] = {tuple(m) for m in lat.mean(axis=(1, 2)).round(12)}
        assert len(means[name]) == 2000
    assert not means["validation_16"] & means["test_16"]


def test_same_seed_reproduces_a_shard_bit_for_bit(tmp_path):
    spec = physics_spec(size=8)
    sample_shard(spec, 3, 50, tmp_path / "a.h5")
    sample_shard(spec, 3, 50, tmp_path / "b.h5")
    a, b = read_shard(tmp_path / "a.h5"), read_shard(tmp_path / "b.h5")
    assert a["lattices"].tobytes() == b["lattices"].tobytes()
    assert a["attrs"]["first_index"] == 150 and a["attrs"]["size"] == 8
    assert a["attrs"]["seed"] == 7 and a["attrs"]["distribution"] == "boundary_biased"
    assert a["attrs"]["rgtopo_version"] == rgtopo.__version__


def test_labels_are_the_chern_numbers_of_the_stored_values(tmp_path):
    spec = physics_spec(size=4)
    sample_shard(spec, 0, 300, tmp_path / "s.h5")
    label_shard(tmp_path / "s.h5", tmp_path / "l.h5", threads=1, chunk=100)
    data = read_shard(tmp_path / "l.h5", labeled=True)
    assert data["lattices"].dtype == np.float32
    again = rgtopo.chern_numbers(data["lattices"].astype(np.float64))
    np.testing.assert_array_equal(data["chern"], again.chern)
    np.testing.assert_allclose(data["gap"], again.gap)
    assert data["attrs"]["labeled"] and data["chern"].dtype == np.int8
    assert {-1, 0, 1} <= set(np.unique(data["chern"]).tolist())


def test_an_interrupted_write_leaves_no_file(tmp_path):
    class Boom:
        chern = None

    with pytest.raises(AttributeError):
        write_shard(tmp_path / "x.h5", np.zeros((2, 4, 4, 3)), physics_spec(), 0, labels=Boom())
    assert list(tmp_path.iterdir()) == []


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


def test_foreign_or_unreadable_files_are_rejected(tmp_path):
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ShardError, match="not a readable HDF5"):
        read_shard(tmp_path / "text.h5")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ShardError, match="not an rgtopo shard"):
        read_shard(tmp_path / "foreign.h5")
    with pytest.raises(ShardError, match="no such shard"):
        read_shard(tmp_path / "missing.h5")
    sample_shard(physics_spec(), 0, 5, tmp_path / "unlabeled.h5")
    with pytest.raises(ShardError, match="no Chern labels"):
        read_shard(tmp_path / "unlabeled.h5", labeled=True)


def test_command_line_samples_labels_and_reports_errors(tmp_path):
    import json

    run = [sys.executable, "-m", "rgtopo"]
    spec = json.dumps(physics_spec(size=4))
    args = ["sample", "--spec", spec, "--shard", "1", "--shard-size", "20"]
    subprocess.run([*run, *args, "--out", str(tmp_path / "s.h5")], check=True)
    subprocess.run(
        [*run, "label", "--in", str(tmp_path / "s.h5"), "--out", str(tmp_path / "l.h5")],
        check=True,
    )
    assert read_shard(tmp_path / "l.h5", labeled=True)["chern"].shape == (20,)
    bad = subprocess.run(
        [*run, "label", "--in", str(tmp_path / "nope.h5"), "--out", str(tmp_path / "x.h5")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "no such shard file" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run(
        [*run, *args[:2], json.dumps({**physics_spec(), "distribution": "x"}), *args[3:],
         "--out", str(tmp_path / "y.h5")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown distribution" in bad.stderr
    assert not (tmp_path / "y.h5").exists()
