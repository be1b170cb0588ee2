"""The Bott labeler against the authors' labels, an independent port, and known physics
(the Hamiltonians themselves: tests/test_lattice.py)."""

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import rgtopo
from rgtopo.physics import bott
from conftest import physics_spec
from rgtopo.physics.bott import bott_index_reference
from rgtopo.physics.phase_diagram import boundary_distance, clean_chern_number
from rgtopo.evaluation.reference import reference_lattices


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
