"""The generic Chern core: real forms, the torus and its tiling, both methods on QWZ, Haldane
and BdG models against each other, against pybott and the p+ip labeler, the certificate, and
one-line errors."""

import platform
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import REPO

from rgtopo import chern_numbers, hamiltonian_chern
from rgtopo.config import load_config
from rgtopo.errors import MemoryLimitError, SpecError
from rgtopo.models import haldane, pip_bdg, qwz
from rgtopo.params import LabelingParams, LocalizerParams
from rgtopo.physics.bott import bott_index_reference
from rgtopo.physics.bott import chern_numbers as bott_labels
from rgtopo.physics.hamiltonian import bott_index
from rgtopo.physics.lattice import bdg_hamiltonian
from rgtopo.physics.localizer import majorana_sparse
from rgtopo.physics.spectral_localizer import localizer_real, tile
from rgtopo.physics.system import (
    as_system,
    from_kwant,
    majorana_form,
    nambu_to_majorana,
    realify,
)

SOLVERS = ["superlu", "pardiso"] if platform.machine() == "x86_64" else ["superlu"]


def pip_lattice(n, seed, mu=1.0):
    rng = np.random.default_rng(seed)
    return np.stack([mu + 0.3 * rng.uniform(-0.5, 0.5, (n, n)),
                     0.2 * rng.uniform(-0.5, 0.5, (n, n)),
                     0.15 + 0.05 * rng.uniform(-0.5, 0.5, (n, n))], axis=-1)


def test_realify_has_every_eigenvalue_twice():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(7, 7)) + 1j * rng.normal(size=(7, 7))
    h = a + a.conj().T
    r = realify(sp.csr_matrix(h)).toarray()
    assert np.allclose(r, r.T)
    assert np.allclose(np.linalg.eigvalsh(r), np.repeat(np.linalg.eigvalsh(h), 2))


def test_nambu_bdg_of_the_pip_lattice_has_its_majorana_form():
    """The Nambu-basis BdG matrix of a lattice (rgtopo.physics.lattice's convention) is recognised as
    class D, and its Majorana form is the lattice's own Majorana matrix."""
    lat = pip_lattice(5, 1)
    model = pip_bdg(lat)
    n = 25
    assert np.allclose(model.hamiltonian.toarray(), bdg_hamiltonian(lat), atol=1e-14)
    a, pos = majorana_form(as_system(model.hamiltonian, model.positions, period=model.period))
    assert np.allclose(a.toarray(), majorana_sparse(lat, periodic=True).toarray())
    assert np.array_equal(pos[::2], model.positions[:n])
    back = nambu_to_majorana(model.hamiltonian)
    assert abs(back.imag).max() < 1e-12


def test_a_bdg_matrix_away_from_zero_energy_or_without_symmetry_is_class_a():
    model = pip_bdg(pip_lattice(4, 2))
    assert majorana_form(as_system(model.hamiltonian, model.positions, period=model.period,
                                   fermi_energy=0.1)) is None
    assert majorana_form(as_system(*qwz(4, 1.0)[:2], period=(4.0, 4.0))) is None


def test_tiling_a_torus_gives_the_larger_open_lattice():
    """QWZ on an 8x8 torus tiled 2x2 is QWZ on an open 16x16 lattice, bond for bond."""
    small = qwz(8, 1.3)
    big = qwz(16, 1.3, periodic=False)
    h, pos = tile(small.hamiltonian, small.positions, small.period, (2, 2))
    index = {tuple(p) + (k % 2,): k for k, p in enumerate(big.positions)}
    order = np.array([index[tuple(p) + (k % 2,)] for k, p in enumerate(pos)])
    assert sorted(order) == list(range(len(order)))
    assert abs(h - big.hamiltonian[order][:, order]).max() < 1e-14


def test_one_tile_drops_exactly_the_wrap_around_bonds():
    torus = qwz(6, 1.0)
    h, _ = tile(torus.hamiltonian, torus.positions, torus.period, (1, 1))
    assert abs(h - qwz(6, 1.0, periodic=False).hamiltonian).max() < 1e-14


def test_second_centre_shifts_the_torus_by_half_a_period():
    torus = qwz(6, 1.0)
    h, pos = tile(torus.hamiltonian, torus.positions, torus.period, (1, 1), shift=(3.0, 3.0))
    rolled = np.mod(torus.positions + 3.0, 6.0)
    assert np.array_equal(pos, rolled)
    # the rolled open lattice has the same spectrum as the open lattice (a relabelling)
    assert np.allclose(np.linalg.eigvalsh(h.toarray()),
                       np.linalg.eigvalsh(qwz(6, 1.0, periodic=False).hamiltonian.toarray()))


def test_class_a_real_localizer_has_the_spectrum_of_the_complex_one_twice():
    model = qwz(4, 1.0, periodic=False)
    h = model.hamiltonian.toarray()
    x, y = model.positions[:, 0] - 1.5, model.positions[:, 1] - 1.5
    kappa = 0.2
    z = kappa * (x + 1j * y)
    big = np.block([[h, np.diag(z.conj())], [np.diag(z), -h]])
    m = localizer_real(sp.csr_matrix(h), x, y, kappa, majorana=False).toarray()
    assert np.allclose(m, m.T)
    assert np.allclose(np.linalg.eigvalsh(m), np.repeat(np.linalg.eigvalsh(big), 2))


def test_generic_bott_index_is_the_pip_labelers_on_its_bdg_matrix():
    """One sign convention: the generic dense Bott index of the Nambu BdG matrix is the raw
    Bott sum of rgtopo.physics.bott (and of the NumPy port of the authors' MATLAB code)."""
    for seed, mu in ((3, 1.0), (4, -1.0), (5, 3.5)):
        lat = pip_lattice(6, seed, mu)
        model = pip_bdg(lat)
        raw, gap = bott_index(as_system(model.hamiltonian, model.positions, period=model.period))
        fast = bott_labels(lat)
        assert raw == pytest.approx(bott_index_reference(lat), abs=1e-8)
        assert round(raw) == fast.chern[0] and gap == pytest.approx(fast.gap[0], rel=1e-8)


@pytest.mark.parametrize("mass,chern", [(-3.0, 0), (-1.0, 1), (1.0, -1), (3.0, 0)])
def test_clean_qwz_both_methods_give_its_phase_diagram(mass, chern):
    model = qwz(16, mass)
    bott = hamiltonian_chern(model, method="bott")
    loc = hamiltonian_chern(model, method="localizer")
    assert bott.chern[0] == loc.chern[0] == chern
    assert bott.certified[0] and loc.certified[0] and loc.gapped[0]
    assert loc.method[0] == "localizer" and loc.tiles[0] == 3


@pytest.mark.parametrize("mass,chern", [(0.0, -1), (2.0, 0)])
def test_clean_haldane_both_methods(mass, chern):
    """Topological where |M| < 3 sqrt(3) t2 (t2 = 0.2: 1.04), trivial beyond."""
    model = haldane(10, 6, mass=mass)
    bott = hamiltonian_chern(model, method="bott")
    loc = hamiltonian_chern(model, method="localizer")
    assert bott.chern[0] == loc.chern[0] == chern
    assert bott.certified[0] and loc.certified[0]


def test_haldane_sign_follows_the_flux():
    assert hamiltonian_chern(haldane(6, 4, phi=-np.pi / 2), method="bott").chern[0] == 1


def test_open_flake_localizer_at_its_centre():
    loc = hamiltonian_chern(qwz(24, 1.0, periodic=False))
    assert loc.chern[0] == -1 and loc.certified[0]
    assert not loc.gapped[0] and np.isnan(loc.gap[0])  # a flake has no torus gap
    assert hamiltonian_chern(qwz(24, 3.0, periodic=False)).chern[0] == 0


def test_fermi_energy_and_a_band_above_it():
    """Two copies of QWZ shifted apart in energy: the Fermi energy picks how many are filled."""
    model = qwz(12, 1.0)
    h = sp.block_diag([model.hamiltonian, model.hamiltonian + 10 * sp.identity(288)])
    pos = np.concatenate([model.positions, model.positions])
    low = hamiltonian_chern(h, pos, period=model.period, fermi_energy=0.0)
    mid = hamiltonian_chern(h, pos, period=model.period, fermi_energy=5.0)
    both = hamiltonian_chern(h, pos, period=model.period, fermi_energy=5.0, method="localizer")
    assert low.chern[0] == -1 and mid.chern[0] == 0 and both.chern[0] == 0


@pytest.mark.parametrize("solver", SOLVERS)
def test_disordered_systems_localizer_agrees_with_bott_where_gapped(solver):
    rng = np.random.default_rng(11)
    models = ([qwz(16, u, disorder=1.5, rng=rng) for u in (-2.4, -1.2, 0.8, 1.9, 2.6)]
              + [haldane(8, 6, mass=m, disorder=1.0, rng=rng) for m in (0.0, 0.9, 1.5)]
              + [pip_bdg(pip_lattice(16, 20 + i, mu)) for i, mu in enumerate((-1.0, 1.0, 3.2))])
    params = LabelingParams(localizer=LocalizerParams(solver=solver))
    bott = hamiltonian_chern(models, method="bott", params=params)
    loc = hamiltonian_chern(models, method="localizer", params=params, threads=2)
    gapped = bott.gap >= 0.05
    assert gapped.sum() >= 8
    assert np.array_equal(loc.gapped, gapped)
    assert np.array_equal(loc.chern[gapped], bott.chern[gapped])
    assert set(bott.chern[gapped]) >= {-1, 0, 1}
    assert not np.any(loc.certified & ~gapped)


def test_auto_picks_bott_for_small_tori_and_keeps_the_input_order():
    rng = np.random.default_rng(2)
    items = [qwz(8, 1.0), qwz(60, 1.0, disorder=0.5, rng=rng), qwz(10, 3.0, periodic=False)]
    res = hamiltonian_chern(items)
    assert list(res.method) == ["bott", "localizer", "localizer"]
    assert list(res.chern) == [-1, -1, 0]


def test_pybott_agrees_sign_converted():
    """pybott (Im Tr log(U V U^-1 V^-1) / 2 pi, the opposite sign) on disordered QWZ,
    Haldane and a BdG model: every label agrees where the gap is at least 0.05."""
    import matplotlib

    with matplotlib.rc_context():  # pybott turns on LaTeX text for every later figure
        from pybott import bott as pybott_bott

    rng = np.random.default_rng(5)
    models = [qwz(10, 1.0, disorder=2.0, rng=rng), qwz(10, -1.5, disorder=1.0, rng=rng),
              haldane(6, 4, mass=0.3, disorder=1.0, rng=rng),
              pip_bdg(pip_lattice(10, 7, 1.0))]
    ours = hamiltonian_chern(models, method="bott")
    theirs = [round(pybott_bott(m.positions, m.hamiltonian.toarray(), fermi_energy=0.0))
              for m in models]
    assert all(ours.gap >= 0.05)
    assert list(ours.chern) == [-t for t in theirs]


class _Family:
    def __init__(self, norbs):
        self.norbs = norbs


class _Site:
    def __init__(self, pos, family):
        self.pos, self.family = pos, family


class _KwantLike:
    """The part of a finalized kwant system that from_kwant reads: sites (pos, family.norbs)
    and hamiltonian_submatrix(sparse=True, params=...)."""

    def __init__(self, model, norbs=2):
        self.model, family = model, _Family(norbs)
        self.sites = [_Site(tuple(p), family) for p in model.positions[::norbs]]

    def hamiltonian_submatrix(self, sparse=False, params=None):
        h = self.model.hamiltonian * (params or {}).get("scale", 1.0)
        return sp.coo_matrix(h) if sparse else h.toarray()


def test_kwant_systems_give_positions_per_orbital():
    model = qwz(12, 1.0)
    fsys = _KwantLike(model)
    h, pos = from_kwant(fsys, {"scale": 2.0})
    assert np.array_equal(pos, model.positions)
    assert abs(h - 2 * model.hamiltonian).max() == 0
    res = hamiltonian_chern([fsys, fsys], period=model.period, method="bott")
    assert list(res.chern) == [-1, -1]


def test_bad_inputs_are_one_line_errors():
    model = qwz(4, 1.0)
    h = model.hamiltonian.toarray()
    cases = [
        (lambda: hamiltonian_chern(h[:, :5], model.positions), "square"),
        (lambda: hamiltonian_chern(h + np.triu(np.ones_like(h), 1), model.positions),
         "not Hermitian"),
        (lambda: hamiltonian_chern(h, model.positions[:3]), r"positions must be \(n, 2\)"),
        (lambda: hamiltonian_chern(h, model.positions, period=(4.0, -1.0)), "period"),
        (lambda: hamiltonian_chern(h, model.positions, method="bott"), "needs a torus"),
        (lambda: hamiltonian_chern(h, model.positions, method="exact"), "method must be"),
        (lambda: hamiltonian_chern(np.full((2, 2), np.nan), np.zeros((2, 2))), "NaN"),
        (lambda: hamiltonian_chern([h], model.positions), "give each its positions"),
        (lambda: hamiltonian_chern(["x"]), "expected a kwant system or a tuple"),
        (lambda: hamiltonian_chern(model, period=(4.0, 4.0)), "carries its positions"),
        (lambda: hamiltonian_chern(np.array([["a"]]), np.zeros((1, 2))), "numeric"),
        (lambda: hamiltonian_chern(qwz(8, 1.0).hamiltonian, qwz(8, 1.0).positions),
         r"a torus\? give period"),
        (lambda: hamiltonian_chern([]), "empty list"),
        (lambda: hamiltonian_chern(h, model.positions, period=("a", 1)), "could not convert"),
        (lambda: hamiltonian_chern(h, model.positions, fermi_energy="x"), "fermi_energy must"),
        (lambda: hamiltonian_chern(h, model.positions, fermi_energy=None), "fermi_energy must"),
        (lambda: hamiltonian_chern([[1, 2], [3]], np.zeros((2, 2))), "hamiltonian"),
        (lambda: haldane(2, 3), "cells_x must be an integer >= 3"),
    ]
    for call, message in cases:
        with pytest.raises(SpecError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("factor", [1e-5, 1e-3, 1.0, 1e3, 1e5])
def test_labels_do_not_depend_on_the_unit_of_energy(factor):
    """kappa follows H outside the energy scales the rule was fixed on: a QWZ flake scaled by
    any positive factor keeps its certified label (a fixed kappa gave 0, certified)."""
    model = qwz(20, 1.0, periodic=False)
    res = hamiltonian_chern(model.hamiltonian * factor, model.positions, method="localizer")
    assert res.chern[0] == -1 and res.certified[0]


def test_pip_lattices_keep_the_fixed_kappa():
    """The p+ip lattices' energy scales lie where kappa is the fixed rule's: kappa_scale / (M N)."""
    lat = pip_lattice(16, 9, mu=-3.5)
    assert chern_numbers(lat, method="localizer").kappa[0] == pytest.approx(0.32 / 48)


def test_memory_is_estimated_before_factorizing():
    params = LabelingParams(localizer=LocalizerParams(max_memory_gb=0.001))
    with pytest.raises(MemoryLimitError, match="max_memory_gb = 0.001"):
        hamiltonian_chern(qwz(64, 1.0), method="localizer", params=params)
    with pytest.raises(MemoryLimitError, match="dense Bott index"):
        hamiltonian_chern(qwz(16, 1.0), method="bott", params=params)


@pytest.mark.parametrize("convention,size,count", [("fixed", 32, 60), ("paper", 32, 40),
                                                   ("fixed", 48, 20), ("paper", 64, 6)])
def test_pip_labels_on_the_generic_core_match_the_committed_agreement_caches(convention, size,
                                                                            count):
    """chern_numbers' localizer labels, now through the generic core, are the dense Bott
    labels the committed caches hold (benchmarks/results/agreement_cache), all certified."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from localizer_agreement import gapped_set

    config = load_config(REPO / "config" / "config.yaml", REPO)
    lattices, bott, _, _ = gapped_set(config, size, count, convention, 31, 0.05,
                                      REPO / "benchmarks" / "results" / "agreement_cache", 2,
                                      available=True)
    assert len(lattices) == count
    res = chern_numbers(lattices, method="localizer", threads=2)
    assert np.array_equal(res.chern, bott) and res.certified.all()


def usage_examples():
    """The Python blocks of docs/usage.md's section on any Hamiltonian, kwant's aside."""
    text = (REPO / "docs" / "usage.md").read_text()
    section = text.split("## Chern numbers of any 2D lattice Hamiltonian", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    return [b for b in blocks if "# needs kwant" not in b and "rgtopo.hamiltonian_chern(H," not in b]


def test_usage_examples_run_as_written():
    blocks = usage_examples()
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "docs/usage.md", "exec"), {})
