"""The statistics baseline: positional blindness, selection on validation, the file round trip,
and its place beside the other two baselines."""

import json
import pickle

import numpy as np
import pytest

from rgtopo.errors import ModelError, RgtopoError, SpecError
from rgtopo.training.metrics import CLEAN_FORMULA, STATISTICS_BASELINE, Tally, clean_formula
from rgtopo.params import StatisticsBaselineParams
from rgtopo.physics.phase_diagram import clean_chern_number
from rgtopo.training.statistics_baseline import (StatisticsBaseline, feature_names, fit,
                                        lattice_statistics, load)

QUANTILES = (0.25, 0.5, 0.75)


def params(**kw):
    values = dict(train_sizes=(4, 8), max_train_lattices=None, quantiles=QUANTILES,
                  max_leaf_nodes=(7, 15), max_iter=30, learning_rate=0.1, importance_repeats=1,
                  pool_above=False, seed=3)
    return StatisticsBaselineParams(**{**values, **kw})


def test_statistics_of_a_clean_lattice():
    lattice = np.broadcast_to([-1.0, 0.2, 0.15], (1, 4, 4, 3))
    names = feature_names(QUANTILES)
    f = dict(zip(names, lattice_statistics(lattice, QUANTILES)[0]))
    assert len(names) == 3 * (4 + len(QUANTILES)) + 5
    assert f["mu_mean"] == f["mu_min"] == f["mu_max"] == f["mu_q50"] == -1.0
    assert f["t_minus_std"] == 0.0 and f["Delta_q25"] == 0.15
    # -2 < mu < -2|t_minus|: C = +1 everywhere, and no site off the clean formula
    assert f["clean_formula"] == 1 == clean_chern_number(-1.0, 0.2)
    assert f["sites_phase_1"] == 1.0 and f["sites_phase_0"] == 0.0
    assert f["sites_off_clean_formula"] == 0.0


def test_statistics_are_blind_to_where_the_disorder_sits(rng):
    lattices = rng.uniform(-3, 3, (5, 8, 8, 3))
    sites = lattices.reshape(5, 64, 3)
    shuffled = sites[:, rng.permutation(64)].reshape(5, 8, 8, 3)
    assert not np.allclose(shuffled, lattices)
    np.testing.assert_allclose(lattice_statistics(shuffled, QUANTILES),
                               lattice_statistics(lattices, QUANTILES))
    # one impurity moved from site (1, 2) to (5, 6): the same statistics, the same answer
    a = np.broadcast_to([0.5, 1.0, 0.15], (1, 8, 8, 3)).copy()
    b = a.copy()
    a[0, 1, 2, 0], b[0, 5, 6, 0] = 3.0, 3.0
    np.testing.assert_array_equal(lattice_statistics(a, QUANTILES), lattice_statistics(b, QUANTILES))


def test_statistics_reject_other_shapes():
    with pytest.raises(RgtopoError, match=r"\(B, N, N, 3\)"):
        lattice_statistics(np.zeros((4, 4, 3)), QUANTILES)
    assert lattice_statistics(np.zeros((0, 4, 4, 3)), QUANTILES).shape == (
        0, len(feature_names(QUANTILES)))


@pytest.fixture(scope="module")
def fitted(labeled_shards):
    train = {4: [labeled_shards["train_4"]], 8: [labeled_shards["train_8"]]}
    validation = {4: [labeled_shards["validation_4"]], 8: [labeled_shards["validation_8"]]}
    return fit(params(), train, validation, log=lambda _: None)


def test_fit_chooses_on_validation_and_reports_every_feature(fitted):
    baseline, selection, importance = fitted
    assert sorted(baseline.classifiers) == [4, 8]
    for size in (4, 8):
        rows = [r for r in selection if r["size"] == size]
        assert [r["max_leaf_nodes"] for r in rows] == [7, 15]
        chosen = [r for r in rows if r["selected"]]
        assert len(chosen) == 1
        assert chosen[0]["validation_accuracy"] == max(r["validation_accuracy"] for r in rows)
        assert 1 <= chosen[0]["iterations"] <= 30
        # the kept classifier has exactly the chosen number of boosting iterations
        assert baseline.classifiers[size].n_iter_ == chosen[0]["iterations"]
    assert len(importance) == 2 * len(feature_names(QUANTILES))


def test_baseline_beats_the_majority_on_its_own_sizes(fitted, labeled_shards):
    from rgtopo.data.shards import read_shard

    baseline = fitted[0]
    data = read_shard(labeled_shards["test_8"], labeled=True)
    labels = data["chern"].astype(np.int64)
    predicted = baseline.predict(data["lattices"])
    assert predicted.dtype == np.int64 and predicted.shape == labels.shape
    majority = np.mean(labels == 0)
    assert np.mean(predicted == labels) > majority


def test_file_round_trip_and_size_choice(fitted, labeled_shards, tmp_path):
    from rgtopo.data.shards import read_shard

    baseline = fitted[0]
    baseline.save(tmp_path / "b.pkl")
    again = load(tmp_path / "b.pkl")
    x = read_shard(labeled_shards["test_16"], labeled=True)["lattices"]
    np.testing.assert_array_equal(again.predict(x), baseline.predict(x))
    # 16x16 is read by the 8x8 classifier: the largest training size <= 16
    assert again.classifier_for(16) is again.classifiers[8]
    with pytest.raises(ModelError, match="no classifier for 2x2"):
        again.classifier_for(2)
    assert again.predict(np.zeros((0, 8, 8, 3))).shape == (0,)


def test_pooling_above_the_training_sizes(fitted, labeled_shards):
    """With pool_above a 16x16 lattice is read as its 2x2 block average, an 8x8 lattice."""
    from rgtopo.physics.lattice import average_pool
    from rgtopo.data.shards import read_shard

    pooled = StatisticsBaseline(fitted[0].classifiers, QUANTILES, pool_above=True)
    x = read_shard(labeled_shards["test_16"], labeled=True)["lattices"]
    np.testing.assert_array_equal(pooled.predict(x), fitted[0].predict(average_pool(x)))
    eight = read_shard(labeled_shards["test_8"], labeled=True)["lattices"]
    np.testing.assert_array_equal(pooled.predict(eight), fitted[0].predict(eight))


def test_load_refuses_what_it_did_not_write(fitted, tmp_path):
    from sklearn import __version__ as sklearn_version

    good = {"format": "rgtopo-statistics-baseline", "format_version": 1,
            "sklearn_version": sklearn_version, "quantiles": list(QUANTILES),
            "pool_above": False, "classifiers": dict(fitted[0].classifiers)}
    (tmp_path / "garbage.pkl").write_bytes(b"\x00not a pickle")
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"format": "something else"}))
    (tmp_path / "newer.pkl").write_bytes(pickle.dumps({**good, "format_version": 99}))
    (tmp_path / "old.pkl").write_bytes(pickle.dumps({**good, "sklearn_version": "0.1"}))
    (tmp_path / "short.pkl").write_bytes(pickle.dumps({**good, "quantiles": [0.5]}))
    (tmp_path / "bare.pkl").write_bytes(pickle.dumps(
        {k: v for k, v in good.items() if k != "classifiers"}))
    for name, match in (("garbage.pkl", "not a readable"), ("other.pkl", "not a statistics"),
                        ("newer.pkl", "format 99"), ("missing.pkl", "no statistics baseline"),
                        ("old.pkl", "fitted with scikit-learn 0.1"),
                        ("short.pkl", "damaged.*another feature count"),
                        ("bare.pkl", "damaged")):
        with pytest.raises(ModelError, match=match):
            load(tmp_path / name)


def test_trees_learn_the_clean_formula_exactly(rng, labeled_shards, tmp_path):
    """Where the label is the clean formula, the baseline (which has it as a feature) is exact."""
    from rgtopo.data.shards import read_shard, write_shard

    data = read_shard(labeled_shards["train_4"], labeled=True)
    lattices = data["lattices"]

    class Labels:  # what write_shard reads of a ChernResult
        def __init__(self, chern):
            n = len(chern)
            self.chern, self.gap, self.bott_deviation = chern, np.ones(n), np.zeros(n)
            self.certified, self.gapped = np.ones(n, bool), np.ones(n, bool)
            self.localizer_gap, self.method = np.full(n, np.nan), np.full(n, "bott")

    spec = json.loads(read_shard(labeled_shards["train_4"])["attrs"]["spec"])
    write_shard(tmp_path / "t.h5", lattices[:1000], spec, 0, Labels(clean_formula(lattices[:1000])))
    write_shard(tmp_path / "v.h5", lattices[1000:], spec, 1000,
                Labels(clean_formula(lattices[1000:])))
    baseline, _, _ = fit(params(train_sizes=(4,)), {4: [tmp_path / "t.h5"]},
                         {4: [tmp_path / "v.h5"]}, log=lambda _: None)
    np.testing.assert_array_equal(baseline.predict(lattices[1000:]),
                                  clean_formula(lattices[1000:]))


def test_tally_names_the_strongest_of_three_baselines():
    labels = np.array([0, 0, 1, 1, -1, 0])
    clean = np.array([0, 0, 0, 1, 0, 0])  # 4 of 6 right
    stats = np.array([0, 0, 1, 1, 0, 0])  # 5 of 6 right, 1 of the 2 disorder-decided
    s = Tally().add(labels, labels, clean, statistics=stats).summary()
    assert s["statistics_percent"] == pytest.approx(500 / 6)
    assert s["stronger_baseline"] == STATISTICS_BASELINE
    assert s["stronger_baseline_percent"] == pytest.approx(500 / 6)
    assert s["statistics_decided_percent"] == 50.0
    # without its predictions the columns are NaN and the strongest of the other two is named
    s = Tally().add(labels, labels, clean).summary()
    assert np.isnan(s["statistics_percent"]) and s["stronger_baseline"] == CLEAN_FORMULA
    with pytest.raises(RgtopoError, match="every batch or none"):
        Tally().add(labels, labels, clean, statistics=stats).add(labels, labels, clean)
    with pytest.raises(RgtopoError, match="5 statistics-baseline predictions for 6"):
        Tally().add(labels, labels, clean, statistics=stats[:5])


def test_params_are_checked():
    with pytest.raises(SpecError, match=r"statistics_baseline.quantiles: distinct values in \(0, 1\)"):
        params(quantiles=(0.5, 1.0))
    with pytest.raises(SpecError, match="distinct values"):
        params(quantiles=(0.5, 0.5))
    with pytest.raises(SpecError, match="max_train_lattices: must be positive"):
        params(max_train_lattices=0)


def test_workflow_config_needs_the_sets_it_fits_on():
    from rgtopo.config import load_config
    from rgtopo.params import WorkflowParams
    from conftest import REPO

    config = load_config(REPO / "config" / "config.yaml", REPO)
    config["statistics_baseline"]["train_sizes"] = [4, 16]
    with pytest.raises(SpecError, match="statistics_baseline.train_sizes: no dataset train_16"):
        WorkflowParams.from_config(config)
