"""Lattice Hamiltonians against the reference conventions, and 2x2 average pooling."""

import numpy as np
import pytest

import rgtopo
from rgtopo.physics.lattice import average_pool, decimate, majorana_hamiltonian


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


def test_average_pool_is_the_mean_of_each_two_by_two_block(rng):
    lat = rng.normal(size=(3, 8, 8, 3))
    pooled = average_pool(lat)
    assert pooled.shape == (3, 4, 4, 3)
    np.testing.assert_allclose(pooled[1, 2, 3], lat[1, 4:6, 6:8].mean(axis=(0, 1)))
    with pytest.raises(rgtopo.LatticeError):
        average_pool(lat[:, :7, :7])


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.0])
def test_decimation_keeps_the_lattice_average_and_shrinks_only_the_disorder(rng, factor):
    lat = rng.normal(size=(6, 8, 8, 3))
    pooled, out = average_pool(lat), decimate(lat, factor)
    assert out.shape == (6, 4, 4, 3)
    # the clean phase diagram's inputs are untouched, whatever the factor
    np.testing.assert_allclose(out.mean(axis=(1, 2)), lat.mean(axis=(1, 2)), atol=1e-12)
    box = sum(np.roll(pooled, (i, j), axis=(1, 2)) for i in (-1, 0, 1) for j in (-1, 0, 1)) / 9
    np.testing.assert_allclose(out - box, factor * (pooled - box), atol=1e-12)
    if factor == 1.0:
        np.testing.assert_array_equal(out, pooled)
    clean = np.broadcast_to(lat[:, :1, :1], lat.shape)  # a clean lattice is a fixed point
    np.testing.assert_allclose(decimate(clean, factor), clean[:, :4, :4], atol=1e-12)
