"""The spectral-localizer labeler: its matrices, the sparse inertia against dense eigenvalues,
the certificate, and agreement with the dense Bott index and the clean phase diagram."""

import platform

import numpy as np
import pytest
import scipy.sparse as sp

from rgtopo.physics.bott import chern_numbers as bott_labels
from rgtopo.errors import SolverError, SpecError
from rgtopo.physics.lattice import bdg_hamiltonian, clean_lattice, majorana_hamiltonian
from rgtopo.physics.localizer import (
    bdg_gap,
    bdg_gap_matrix,
    factor_memory_gb,
    gapped,
    kappa_for,
    localizer_label,
    localizer_labels,
    localizer_matrix,
    majorana_sparse,
    tiles_for,
    workers_for,
)
from rgtopo.params import LocalizerParams
from rgtopo.physics.phase_diagram import clean_chern_number
from rgtopo.physics.solvers import counts_outside, inertia

SOLVERS = ["superlu", "pardiso"]
if platform.machine() != "x86_64":  # MKL (pypardiso) exists for x86-64 only
    SOLVERS = ["superlu"]


def random_lattice(n, seed, mu=1.0, mu_width=0.3):
    rng = np.random.default_rng(seed)
    return np.stack([mu + mu_width * rng.uniform(-0.5, 0.5, (n, n)),
                     0.2 * rng.uniform(-0.5, 0.5, (n, n)),
                     0.15 + 0.05 * rng.uniform(-0.5, 0.5, (n, n))], axis=-1)


def majorana_site_order(m):
    """Dense block order (all first Majoranas, then all second) -> index 2 * site + c."""
    perm = np.empty(2 * m, int)
    perm[0::2], perm[1::2] = np.arange(m), m + np.arange(m)
    return perm


def test_sparse_majorana_matrix_is_the_dense_one_on_the_torus():
    lat = random_lattice(5, 0)
    perm = majorana_site_order(25)
    dense = majorana_hamiltonian(lat)[np.ix_(perm, perm)]
    assert np.array_equal(majorana_sparse(lat, periodic=True).toarray(), dense)


def test_open_boundaries_drop_exactly_the_wrap_around_bonds():
    lat = random_lattice(4, 1)
    torus, open_ = majorana_sparse(lat, periodic=True), majorana_sparse(lat)
    diff = (torus - open_).toarray()
    rows = np.unique(np.nonzero(diff)[0] // 2)
    x, y = np.divmod(rows, 4)
    assert np.all((x == 0) | (x == 3) | (y == 0) | (y == 3))
    assert (open_ + open_.T).nnz == 0 or abs(open_ + open_.T).max() == 0


def test_real_localizer_has_the_spectrum_of_the_complex_one():
    """W^dagger L W = M: the realification keeps every eigenvalue (and so the signature)."""
    n, kappa = 4, 0.3
    lat = random_lattice(n, 2)
    a = majorana_sparse(lat).toarray()
    x, y = np.divmod(np.arange(n * n), n)
    px, py = np.repeat(x - 1.5, 2), np.repeat(y - 1.5, 2)
    ham = 1j * a
    z = kappa * (px + 1j * py)
    big = np.block([[ham, np.diag(z.conj())], [np.diag(z), -ham]])
    m = localizer_matrix(lat, kappa).toarray()
    assert np.allclose(m, m.T)
    assert np.allclose(np.linalg.eigvalsh(m), np.linalg.eigvalsh(big), atol=1e-12)


def test_bdg_gap_matrix_spectrum_is_plus_minus_the_bdg_energies():
    lat = random_lattice(4, 3)
    energies = np.abs(np.linalg.eigvalsh(bdg_hamiltonian(lat)))
    eig = np.abs(np.linalg.eigvalsh(bdg_gap_matrix(lat).toarray()))
    assert np.allclose(np.sort(eig), np.sort(np.concatenate([energies, energies])), atol=1e-12)


def symmetric_with_spectrum(eigenvalues, seed):
    """A sparse-stored dense symmetric matrix with the given eigenvalues."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return sp.csr_matrix((q * eigenvalues) @ q.T)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("smallest", [1.0, 1e-3, 1e-7])
def test_inertia_matches_dense_eigenvalues(solver, smallest):
    """Indefinite and nearly singular matrices: Sylvester's law through the sparse factor."""
    rng = np.random.default_rng(4)
    for seed in range(3):
        eig = rng.uniform(0.5, 3.0, 60) * rng.choice([-1, 1], 60)
        eig[:3] = [smallest, -smallest, 2 * smallest]
        m = symmetric_with_spectrum(eig, seed)
        dense = np.linalg.eigvalsh(m.toarray())
        res = inertia(m, solver)
        res.release()
        assert res.exact
        assert (res.positive, res.negative) == (np.sum(dense > 0), np.sum(dense < 0))


@pytest.mark.parametrize("solver", SOLVERS)
def test_sparse_localizer_inertia_matches_dense(solver):
    lat = random_lattice(6, 5)
    m = localizer_matrix(lat, 0.05, tiles=2)
    dense = np.linalg.eigvalsh(m.toarray())
    res = inertia(m, solver)
    res.release()
    assert res.exact and res.signature == np.sum(dense > 0) - np.sum(dense < 0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_counts_outside_is_a_rigorous_window(solver):
    eig = np.concatenate([np.linspace(-3, -0.2, 20), [0.05], np.linspace(0.3, 2, 19)])
    m = symmetric_with_spectrum(eig, 6)
    assert counts_outside(m, 0.1, solver) is None  # 0.05 lies inside [-0.1, 0.1]
    assert counts_outside(m, 0.01, solver) == (20, 20)


@pytest.mark.parametrize("solver", SOLVERS)
def test_gapped_and_bdg_gap_against_the_dense_bott_labeler(solver):
    lat = random_lattice(8, 7)
    gap = float(bott_labels(lat).gap[0])
    assert bdg_gap(lat, solver) == pytest.approx(gap, rel=1e-6)
    assert gapped(lat, 0.9 * gap, solver) and not gapped(lat, 1.1 * gap, solver)


@pytest.mark.parametrize("solver", SOLVERS)
def test_singular_matrix_is_never_certified(solver):
    """A zero eigenvalue: the bare inertia is at the mercy of rounding, the window is not."""
    m = symmetric_with_spectrum(np.array([1.0, -1.0, 0.0, 2.0] * 5), 8)
    assert counts_outside(m, 1e-6, solver) is None


def test_tiling_rule_and_kappa():
    params = LocalizerParams(min_tiled_size=48, kappa_scale=0.32)
    assert [tiles_for(n, params) for n in (8, 16, 32, 48, 64)] == [6, 3, 2, 1, 1]
    assert kappa_for(16, params) == pytest.approx(0.32 / 48)
    assert kappa_for(64, params) == pytest.approx(0.32 / 64)
    assert factor_memory_gb(512) > 4 * factor_memory_gb(256) > 16 * factor_memory_gb(128) > 0


@pytest.mark.parametrize("mu,t_minus", [(1.0, 0.0), (-1.0, 0.3), (3.0, 0.0), (5.0, 0.0),
                                        (0.5, 0.0), (1.5, 1.8)])
def test_clean_lattices_give_the_clean_phase_diagram(mu, t_minus):
    """Disorder-free lattices at 64x64: the localizer label is the clean formula's Chern number."""
    label = localizer_label(clean_lattice(64, mu, t_minus, 0.15), LocalizerParams(), 0.05)
    assert label.chern == clean_chern_number(mu, t_minus)


def test_agrees_with_the_bott_index_on_gapped_lattices_and_flags_the_rest():
    """Fixed 4x4 disorder widths at 16x16 (tiled 3x3), means across the topological phases."""
    lattices = np.stack([random_lattice(16, 100 + i, mu=mu)
                         for i, mu in enumerate(np.linspace(-3.5, 3.5, 12))])
    bott = bott_labels(lattices, threads=2)
    labels = localizer_labels(lattices, LocalizerParams(), 0.05, threads=2)
    chern = np.array([x.chern for x in labels])
    certified = np.array([x.certified for x in labels])
    assert np.array_equal(certified, bott.gap >= 0.05)
    assert certified.sum() >= 8
    assert np.array_equal(chern[certified], bott.chern[certified])
    assert set(chern[certified]) >= {-1, 0, 1}


def test_two_views_and_threads_give_the_same_labels():
    means = (-1.0, 1.0)
    lattices = np.stack([random_lattice(48, 200 + i, mu=mu) for i, mu in enumerate(means)])
    one = localizer_labels(lattices, LocalizerParams(), 0.05, threads=1)
    two = localizer_labels(lattices, LocalizerParams(views=2), 0.05, threads=2)
    clean = [clean_chern_number(mu, 0.0) for mu in means]
    assert [x.chern for x in one] == [x.chern for x in two] == clean
    assert sorted(clean) == [-1, 1]
    assert all(x.views_agree and x.certified for x in two)


def test_workers_stay_inside_the_memory_bound():
    small, big = LocalizerParams(max_memory_gb=8.0), LocalizerParams(max_memory_gb=3.0)
    assert workers_for(100, 64, 4, small) == 4
    assert workers_for(2, 64, 4, small) == 2
    assert workers_for(10, 512, 4, big) == 1  # one 512x512 factor (about 2.4 GB) at a time
    assert workers_for(10, 1024, 4, LocalizerParams(max_memory_gb=1.0)) == 1


def test_unknown_solver_is_one_error():
    with pytest.raises(SpecError, match="solver must be one of"):
        inertia(sp.identity(3, format="csr"), "cholmod")


@pytest.mark.parametrize("solver", SOLVERS)
def test_live_factors_solve_their_own_matrices_and_release_once(solver):
    """Two factors alive at once each solve their own matrix (PARDISO: one handle per live
    factor); a second release frees nothing twice, and a released PARDISO factor refuses to
    solve rather than answer from freed memory."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(40, 40))
    m = sp.csr_matrix(a + a.T)
    b = rng.normal(size=40)
    below, above = inertia(m, solver, -0.5), inertia(m, solver, 0.5)
    for factor, shift in ((below, -0.5), (above, 0.5)):
        x = factor.solve(b)
        assert np.allclose((a + a.T - shift * np.eye(40)) @ x, b)
    below.release()
    above.release()
    above.release()
    if solver == "pardiso":
        with pytest.raises(SolverError, match="released"):
            above.solve(b)
