"""Accuracy, Wilson intervals and baselines on hand-made predictions (no training involved)."""

import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm

from rgtopo.errors import RgtopoError
from rgtopo.training.metrics import (
    CLEAN_FORMULA,
    MAJORITY_CLASS,
    Tally,
    accuracy_summary,
    clean_formula,
    wilson_interval,
)


@pytest.mark.parametrize(
    "hits, n, low, high",
    [  # by hand: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.96
        (8, 10, 0.4901568, 0.9433191),
        (0, 10, 0.0, 0.2775402),
        (10, 10, 0.7224598, 1.0),
        (50, 100, 0.4038298, 0.5961702),
    ],
)
def test_wilson_interval_matches_hand_computation(hits, n, low, high):
    assert wilson_interval(hits, n) == pytest.approx((low, high), abs=1e-7)


@pytest.mark.parametrize("hits, n", [(8, 10), (0, 10), (10, 10), (1, 3), (9_512, 10_000)])
def test_wilson_interval_matches_scipy(hits, n):
    ci = binomtest(hits, n).proportion_ci(confidence_level=0.95, method="wilson")
    ours = wilson_interval(hits, n, z=norm.ppf(0.975))
    assert ours == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)


def test_wilson_interval_edges():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    low, high = wilson_interval(9_500, 10_000)
    assert high - low == pytest.approx(2 * 1.96 * math.sqrt(0.95 * 0.05 / 10_000), rel=1e-3)
    for hits, n in [(11, 10), (-1, 10)]:
        with pytest.raises(RgtopoError, match="0 <= hits <= n"):
            wilson_interval(hits, n)


def same_summary(a: dict, b: dict) -> bool:
    """Equal summaries, NaN equal to NaN (an empty subset's percentages)."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
        for k in a)


# Ten lattices: labels, the clean formula at their averages, a network's answers.
LABELS = [0, 0, 0, 0, 0, 1, 1, -1, 2, 0]
CLEAN = [0, 0, 0, 0, 1, 1, 0, -1, 0, 0]  # differs at 4, 6, 8: three disorder-decided
PRED = [0, 0, 0, 1, 0, 1, 1, -1, 0, 0]  # wrong at 3 and 8: 8/10, decided 2/3


def test_summary_counts_accuracy_baselines_and_disorder_decided_subset():
    s = accuracy_summary(np.array(PRED), np.array(LABELS), np.array(CLEAN))
    assert s["lattices"] == 10
    assert s["measured_percent"] == pytest.approx(80.0)
    assert (s["measured_ci_low"], s["measured_ci_high"]) == pytest.approx(
        (49.01568, 94.33191), abs=1e-4)
    assert s["clean_formula_percent"] == pytest.approx(70.0)
    assert (s["clean_formula_ci_low"], s["clean_formula_ci_high"]) == pytest.approx(
        tuple(100 * v for v in wilson_interval(7, 10)))
    assert s["majority_label"] == 0 and s["majority_percent"] == pytest.approx(60.0)
    assert s["stronger_baseline"] == CLEAN_FORMULA
    assert s["stronger_baseline_percent"] == pytest.approx(70.0)
    assert s["disorder_decided_lattices"] == 3
    assert s["disorder_decided_percent"] == pytest.approx(200 / 3)
    assert (s["disorder_decided_ci_low"], s["disorder_decided_ci_high"]) == pytest.approx(
        tuple(100 * v for v in wilson_interval(2, 3)))


def test_majority_class_named_when_stronger_and_ties_go_to_smallest_label():
    labels = np.array([0] * 8 + [1, -1])
    clean = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1])  # right at 6 of 10; decided: 0, 1, 2, 9
    s = accuracy_summary(np.zeros(10, int), labels, clean)
    assert s["stronger_baseline"] == MAJORITY_CLASS
    assert s["stronger_baseline_percent"] == pytest.approx(80.0) == s["measured_percent"]
    assert s["clean_formula_percent"] == pytest.approx(60.0)
    assert s["disorder_decided_lattices"] == 4 and s["disorder_decided_percent"] == 75.0
    assert Tally().add(None, [1, -1, 1, -1], [0] * 4).majority() == (-1, 2)


def test_tally_added_batch_by_batch_equals_whole_set():
    whole = accuracy_summary(PRED, LABELS, CLEAN)
    t = Tally()
    for lo, hi in [(0, 3), (3, 4), (4, 10)]:
        t.add(PRED[lo:hi], LABELS[lo:hi], CLEAN[lo:hi])
    assert same_summary(t.summary(), whole)
    baselines_only = Tally().add(None, LABELS, CLEAN)
    assert same_summary(baselines_only.baselines(), t.baselines())
    assert baselines_only.hits == 0 and baselines_only.decided == 3


def test_empty_subset_gives_nan_not_an_error():
    s = accuracy_summary([1, 0], [1, 0], [1, 0])
    assert s["disorder_decided_lattices"] == 0
    assert math.isnan(s["disorder_decided_percent"]) and math.isnan(s["disorder_decided_ci_low"])
    with pytest.raises(RgtopoError, match="3 predictions for 2 labels"):
        accuracy_summary([1, 0, 0], [1, 0], [1, 0])


GAPS = [0.3, 0.2, 0.1, 0.05, 0.2, 0.3, 0.001, 0.2, 0.02, 0.3]  # decided 4, 6, 8: gapped 4, 8


def test_gapped_subset_counts_only_disorder_decided_lattices_with_a_gap():
    s = accuracy_summary(PRED, LABELS, CLEAN, GAPS, min_gap=0.01)
    # decided lattices 4 (right), 6 (right, gap 0.001 < 0.01) and 8 (wrong): gapped 4 and 8
    assert s["gapped_decided_lattices"] == 2
    assert s["gapped_decided_percent"] == pytest.approx(50.0)
    assert (s["gapped_decided_ci_low"], s["gapped_decided_ci_high"]) == pytest.approx(
        tuple(100 * v for v in wilson_interval(1, 2)))
    assert s["disorder_decided_lattices"] == 3 and s["measured_percent"] == pytest.approx(80.0)
    strict = accuracy_summary(PRED, LABELS, CLEAN, GAPS, min_gap=0.025)
    assert strict["gapped_decided_lattices"] == 1 and strict["gapped_decided_percent"] == 100.0
    t = Tally(min_gap=0.01)
    for lo, hi in [(0, 5), (5, 10)]:
        t.add(PRED[lo:hi], LABELS[lo:hi], CLEAN[lo:hi], GAPS[lo:hi])
    assert same_summary(t.summary(), s)
    unset = accuracy_summary(PRED, LABELS, CLEAN)
    assert unset["gapped_decided_lattices"] == 0 and math.isnan(unset["gapped_decided_percent"])
    with pytest.raises(RgtopoError, match="min_gap is set but no BdG gaps"):
        accuracy_summary(PRED, LABELS, CLEAN, min_gap=0.01)
    with pytest.raises(RgtopoError, match="2 gaps for 10 labels"):
        accuracy_summary(PRED, LABELS, CLEAN, GAPS[:2], min_gap=0.01)
    with pytest.raises(RgtopoError, match="BdG gaps must be finite"):
        accuracy_summary(PRED, LABELS, CLEAN, [float("nan")] + GAPS[1:], min_gap=0.01)
    t = Tally(min_gap=0.01)
    with pytest.raises(RgtopoError, match="3 predictions for 10 labels"):
        t.add(PRED[:3], LABELS, CLEAN, GAPS)
    assert (t.lattices, t.decided, t.gapped_decided) == (0, 0, 0)


def test_clean_formula_reads_the_lattice_average():
    rng = np.random.default_rng(0)
    means = [(1.0, 0.2, -1), (-1.0, 0.2, 1), (3.0, 0.2, 0), (2.5, 1.5, 1), (-2.5, -1.5, -1)]
    lat = np.empty((len(means), 4, 4, 3))
    for k, (mu, tm, _) in enumerate(means):
        noise = rng.uniform(-3, 3, (4, 4, 2))
        lat[k, ..., :2] = np.array([mu, tm]) + noise - noise.mean(axis=(0, 1))
        lat[k, ..., 2] = 0.15
    np.testing.assert_array_equal(clean_formula(lat), [c for *_, c in means])


def test_headline_table_shows_each_number_with_interval_and_baseline(tmp_path):
    import pandas as pd

    from rgtopo.training.metrics import TABLE1_COLUMNS, write_headline_table

    row = dict(key="selected_epoch_16x16", description="selected RG epoch (best 16x16), 16x16",
               paper_percent=95.60, measured_percent=91.234, measured_ci_low=89.5,
               measured_ci_high=92.75, stronger_baseline="clean formula",
               stronger_baseline_percent=80.0, clean_formula_percent=80.0, majority_label=0,
               majority_percent=60.0, disorder_decided_lattices=40,
               disorder_decided_percent=55.0, disorder_decided_ci_low=40.0,
               disorder_decided_ci_high=69.0, gapped_decided_lattices=10,
               gapped_decided_percent=70.0, gapped_decided_ci_low=39.68,
               gapped_decided_ci_high=89.22, statistics_percent=85.5, statistics_ci_low=80.0,
               statistics_ci_high=90.0, statistics_decided_percent=30.0,
               statistics_decided_ci_low=18.0, statistics_decided_ci_high=45.0,
               statistics_gapped_percent=20.0, epoch=3.0, selected_on="validation_16",
               test_lattices=200)
    other = {**row, "key": "x", "description": "not in the paper", "paper_percent": float("nan"),
             "epoch": float("nan"), "selected_on": float("nan"), "disorder_decided_lattices": 0,
             "disorder_decided_percent": float("nan"), "gapped_decided_lattices": 0,
             "gapped_decided_percent": float("nan"), "statistics_decided_percent": float("nan")}
    metrics = pd.DataFrame([row, other]).assign(extra=1)
    table = write_headline_table(metrics, tmp_path / "table1", "test.yaml")
    assert list(table.columns) == TABLE1_COLUMNS
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "table1.csv"),
                                  metrics[TABLE1_COLUMNS], check_dtype=False)
    lines = (tmp_path / "table1.md").read_text().splitlines()
    assert lines[0] == "# Table 1: headline accuracies (config: test.yaml)"
    assert lines[-2] == ("| selected RG epoch (best 16x16), 16x16 | 95.60 | 91.23 [89.50, 92.75] | "
                         "80.00 (clean formula) | 85.50 [80.00, 90.00] | 40 | 55.00 [40.00, 69.00] "
                         "| 30.00 [18.00, 45.00] | 10 | 70.00 [39.68, 89.22] | 3 (validation_16) "
                         "| 200 |")
    assert lines[-1] == ("| not in the paper | n/a | 91.23 [89.50, 92.75] | 80.00 (clean formula) "
                         "| 85.50 [80.00, 90.00] | 0 | n/a | n/a | 0 | n/a |  | 200 |")
