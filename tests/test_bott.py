"""The Bott labeler against the authors' labels, an independent port, and known physics."""

import numba
import numpy as np
import pytest
import scipy.io
from threadpoolctl import threadpool_info, threadpool_limits

import rgtopo
from rgtopo import bott
from conftest import physics_spec
from rgtopo.bott import bott_index_reference
from rgtopo.lattice import average_pool, majorana_hamiltonian
from rgtopo.phase_diagram import boundary_distance, clean_chern_number


def reference_lattices(path):
    """All 160,000 lattices of one reference file and their (rounded) labels."""
    d = scipy.io.loadmat(path)
    xi, eta = d["xvec"].ravel(), d["yvec"].ravel()
    disorder = np.stack(
        [d["mu_dis"].ravel(), d["t_minus_dis"].ravel(), d["Delta_dis"].ravel()], axis=-1
    ).reshape(4, 4, 3)  # site k -> (x, y) = divmod(k, 4)
    i, j = np.divmod(np.arange(xi.size * eta.size), eta.size)
    lat = np.broadcast_to(disorder, (i.size, 4, 4, 3)).copy()
    lat[..., 0] += 2 * xi[i][:, None, None]
    lat[..., 1] += eta[j][:, None, None]
    lat[..., 2] += 0.15
    return lat, np.rint(d["Bott_vec"].ravel()).astype(int)


@pytest.mark.parametrize("name", ["data_1.mat", "data_2.mat", "data_3.mat"])
def test_agrees_with_every_reference_label(reference_dir, name):
    lat, labels = reference_lattices(reference_dir / name)
    assert labels.size == 160_000
    result = rgtopo.chern_numbers(lat)
    mismatches = np.flatnonzero(result.chern != labels)
    assert mismatches.size == 0, f"{mismatches.size} labels differ, first at {mismatches[:5]}"
    assert set(np.unique(labels)) <= {-2, -1, 0, 1}


def test_reference_label_counts_of_data_1(reference_dir):
    _, labels = reference_lattices(reference_dir / "data_1.mat")
    values, counts = np.unique(labels, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist())) == {
        -2: 5, -1: 17_902, 0: 120_731, 1: 21_362
    }


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_raw_bott_sum_equals_direct_port_of_matlab_code(rng, n):
    lat = np.empty((6, n, n, 3))
    lat[..., 0] = rng.uniform(-4, 4, (6, 1, 1)) + rng.uniform(-0.6, 0.6, (6, n, n))
    lat[..., 1] = rng.uniform(-2, 2, (6, 1, 1)) + rng.uniform(-0.2, 0.2, (6, n, n))
    lat[..., 2] = rng.uniform(0.1, 0.2, (6, 1, 1)) + rng.uniform(-0.05, 0.05, (6, n, n))
    result = rgtopo.chern_numbers(lat)
    raw_ref = np.array([bott_index_reference(x) for x in lat])
    raw = result.chern + np.sign(raw_ref - result.chern) * result.deviation
    np.testing.assert_allclose(raw, raw_ref, atol=1e-8)
    gaps = [np.abs(np.linalg.eigvalsh(rgtopo.bdg_hamiltonian(x))).min() for x in lat]
    np.testing.assert_allclose(result.gap, gaps, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("n", [4, 8, 16])
def test_clean_lattices_follow_the_analytic_phase_diagram(n):
    mu, tm = np.meshgrid(np.linspace(-3.9, 3.9, 9), np.linspace(-1.9, 1.9, 7), indexing="ij")
    keep = boundary_distance(mu, tm) > 0.15
    mu, tm = mu[keep], tm[keep]
    lat = np.stack([rgtopo.clean_lattice(n, m, t, 0.15) for m, t in zip(mu, tm)])
    result = rgtopo.chern_numbers(lat)
    expected = clean_chern_number(mu, tm)
    np.testing.assert_array_equal(result.chern, expected)
    assert set(expected.tolist()) == {-1, 0, 1}
    assert result.deviation.max() < 1e-6


def test_clean_formula_matches_named_phases():
    assert clean_chern_number(-1.5, 0.5) == 1 and clean_chern_number(1.5, 0.5) == -1
    assert clean_chern_number(-3.0, 1.8) == -1 and clean_chern_number(3.0, 1.8) == 1
    assert clean_chern_number(0.0, 0.5) == 0 and clean_chern_number(5.0, 1.5) == 0


@pytest.mark.parametrize("axis", [1, 2])
@pytest.mark.parametrize("shift", [1, 3])
def test_translation_leaves_the_chern_number_unchanged(rng, axis, shift):
    lat = rgtopo.sample_lattices(physics_spec(size=8), 0, 40)
    rolled = np.roll(lat, shift, axis=axis)
    a, b = rgtopo.chern_numbers(lat), rgtopo.chern_numbers(rolled)
    np.testing.assert_array_equal(a.chern, b.chern)
    np.testing.assert_allclose(a.gap, b.gap, rtol=1e-8)


def test_bdg_matrix_is_hermitian_and_particle_hole_symmetric(rng):
    lat = rng.normal(size=(5, 5, 3))
    h = rgtopo.bdg_hamiltonian(lat)
    assert h.shape == (50, 50)
    np.testing.assert_allclose(h, h.conj().T, atol=1e-14)
    tau_x = np.kron(np.array([[0, 1], [1, 0]]), np.eye(25))
    np.testing.assert_allclose(tau_x @ h.conj() @ tau_x, -h, atol=1e-14)
    a = majorana_hamiltonian(lat)
    np.testing.assert_allclose(a, -a.T, atol=1e-14)
    np.testing.assert_allclose(
        np.linalg.eigvalsh(1j * a), np.linalg.eigvalsh(h), atol=1e-12
    )


def test_bdg_matrix_entries_follow_the_reference_conventions():
    lat = np.zeros((4, 4, 3))
    lat[1, 2] = [0.7, 0.4, 0.2]
    h = rgtopo.bdg_hamiltonian(lat)
    j, jx, jy = 1 * 4 + 2, 2 * 4 + 2, 1 * 4 + 3
    assert h[j, j] == pytest.approx(-0.7)
    assert h[j, jx] == pytest.approx((1 + 0.4) / 2)
    assert h[j, jy] == pytest.approx((1 - 0.4) / 2)
    assert h[j, 16 + jx] == pytest.approx(0.1)
    assert h[j, 16 + jy] == pytest.approx(0.1j)
    assert h[jx, 16 + j] == pytest.approx(-0.1)


def test_single_lattice_and_threads_argument(rng):
    lat = rgtopo.clean_lattice(4, -1.5, 0.5, 0.15)
    assert rgtopo.chern_numbers(lat, threads=1).chern.tolist() == [1]
    with pytest.raises(ValueError, match="threads"):
        rgtopo.chern_numbers(lat, threads=0)


def _blas_threads():
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_labeler_runs_blas_single_threaded_and_restores_the_callers_threads(monkeypatch):
    lat = rgtopo.clean_lattice(4, -1.5, 0.5, 0.15)
    rgtopo.chern_numbers(lat)  # loads every BLAS the labeler calls
    seen, real = {}, bott._bott_batch

    def spy(*args):
        seen["blas"], seen["numba"] = _blas_threads(), numba.get_num_threads()
        real(*args)

    monkeypatch.setattr(bott, "_bott_batch", spy)
    most = numba.config.NUMBA_NUM_THREADS
    with threadpool_limits(limits=2, user_api="blas"):
        numba.set_num_threads(most)
        before = _blas_threads()
        assert set(before.values()) == {2}
        assert rgtopo.chern_numbers(lat, threads=1).chern.tolist() == [1]
        assert set(seen["blas"].values()) == {1} and seen["numba"] == 1
        assert _blas_threads() == before and numba.get_num_threads() == most
        rgtopo.chern_numbers(lat)
        assert seen["numba"] == most and _blas_threads() == before


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 4)), "shape"),
        (np.zeros((2, 2, 4, 4, 3)), "shape"),
        (np.zeros((4, 5, 3)), "square"),
        (np.zeros((4, 4, 2)), "channels"),
        (np.zeros((1, 1, 3)), ">= 2"),
        (np.full((4, 4, 3), np.nan), "NaN"),
        (np.full((4, 4, 3), np.inf), "NaN or inf"),
        (np.array([["a"]]), "real numbers"),
    ],
)
def test_bad_lattices_raise_one_clear_error(bad, message):
    with pytest.raises(rgtopo.LatticeError, match=message):
        rgtopo.chern_numbers(bad)


def test_average_pool_is_the_mean_of_each_two_by_two_block(rng):
    lat = rng.normal(size=(3, 8, 8, 3))
    pooled = average_pool(lat)
    assert pooled.shape == (3, 4, 4, 3)
    np.testing.assert_allclose(pooled[1, 2, 3], lat[1, 4:6, 6:8].mean(axis=(0, 1)))
    with pytest.raises(rgtopo.LatticeError):
        average_pool(lat[:, :7, :7])
