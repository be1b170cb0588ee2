"""The size study: label fractions and the chain's accuracy per disorder convention and size."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from rgtopo.evaluation.bundle import Bundle
from rgtopo.physics.chern import chern_numbers
from rgtopo.config import load_config
from rgtopo.data.datasets import label_shard, sample_shard
from rgtopo.errors import SpecError
from rgtopo.training.metrics import clean_formula
from rgtopo.params import SizeStudyParams, WorkflowParams, size_study_sets
from rgtopo.physics.sampling import disorder_widths
from rgtopo.evaluation.size_study import (FRACTIONS, RECORD_KEYS, accuracy_record, accuracy_row,
                               convention_fractions, fraction_row, paired_columns, parse_sets,
                               size_accuracy, write_accuracy_table)


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "config" / "config.yaml", REPO)


@pytest.fixture(scope="module")
def labeled(config, tmp_path_factory):
    """{set name: [shard]}: a few Bott-labeled lattices at 8 and 16 under two conventions."""
    cfg = {**config, "size_study": {**config["size_study"], "sizes": [8, 16], "counts": [12, 4],
                                    "conventions": {"paper": {"exponent": 1.0},
                                                    "strong": {"exponent": 0.0, "mu": 1.2}}}}
    specs, counts = size_study_sets(cfg)
    root = tmp_path_factory.mktemp("size_study")
    sets = {}
    for name, spec in specs.items():
        raw, out = root / f"{name}_raw.h5", root / f"{name}.h5"
        sample_shard(spec, 0, counts[name], raw, count=counts[name])
        label_shard(raw, out, method="auto", threads=1)
        sets[name] = [str(out)]
    return sets


def test_each_convention_draws_its_own_mu_width_from_its_own_streams(config):
    specs, counts = size_study_sets(config)
    study = config["size_study"]
    assert set(counts) == {f"{c}_{n}" for c in study["conventions"] for n in study["sizes"]}
    paper, fixed, strong = specs["paper_64"], specs["fixed_64"], specs["strong_64"]
    assert disorder_widths(paper, 64)[0] == pytest.approx(0.3 * 16)
    assert disorder_widths(fixed, 64)[0] == pytest.approx(0.3)
    assert disorder_widths(strong, 64)[0] == pytest.approx(1.2)
    assert disorder_widths(strong, 64)[1:] == pytest.approx(disorder_widths(fixed, 64)[1:])
    assert paper.distribution == "uniform" and paper.seed == study["seed"]
    workflow = WorkflowParams.from_config(config).datasets
    assert {s.stream for s in specs.values()}.isdisjoint(s.stream for s in workflow.values())
    own = {**config, "size_study": {**study, "conventions": {
        **study["conventions"], "paper": {"exponent": 1.0, "counts": [7] * len(study["sizes"])}}}}
    counts = size_study_sets(own)[1]
    assert {counts[f"paper_{n}"] for n in study["sizes"]} == {7}
    assert [counts[f"strong_{n}"] for n in study["sizes"]] == study["counts"]


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.update(sizes=[4, 12]), "size_study.sizes: 12"),
    (lambda s: s.update(sizes=[8, 4]), "increasing"),
    (lambda s: s.update(counts=[1]), "size_study.counts"),
    (lambda s: s["conventions"]["paper"].update(counts=[1]),
     "size_study.conventions.paper.counts: 1 counts for"),
    (lambda s: s.update(accuracy_conventions=["nope"]), "size_study.accuracy_conventions"),
    (lambda s: s["conventions"].update(bad={"exponent": 1.0, "width": 2}), "unknown key 'width'"),
])
def test_a_bad_size_study_key_is_one_line_naming_it(config, edit, message):
    study = json.loads(json.dumps(config["size_study"]))
    edit(study)
    with pytest.raises(SpecError, match=message):
        WorkflowParams.from_config({**config, "size_study": study})


def test_fractions_are_fractions_with_intervals_around_them():
    chern = np.array([0, 1, 1, -1, 0, 0, 2, 0])
    clean = np.array([0, 1, 0, -1, 0, 1, 2, 0])
    certified = np.array([1, 1, 1, 0, 1, 0, 1, 1], bool)
    row = fraction_row(chern, certified, certified, clean)
    assert row["lattices"] == 8
    assert row["nonzero"] == 4 / 8 and row["disorder_decided"] == 2 / 8
    assert row["certified"] == 6 / 8 and row["certified_decided"] == 1 / 8
    for name in FRACTIONS:
        assert 0 <= row[f"{name}_ci_low"] <= row[name] <= row[f"{name}_ci_high"] <= 1


def test_convention_fractions_of_labeled_shards(labeled):
    table = convention_fractions(labeled)
    assert list(table[["convention", "size"]].itertuples(index=False, name=None)) == [
        ("paper", 8), ("paper", 16), ("strong", 8), ("strong", 16)]
    assert table["lattices"].tolist() == [12, 4, 12, 4]
    for name in FRACTIONS:
        assert table[name].between(0, 1).all()
        assert (table[f"{name}_ci_low"] <= table[name]).all()
        assert (table[name] <= table[f"{name}_ci_high"]).all()
    # a Bott label is certified where the gap is, unless its raw sum is far from an integer
    assert table["certified"].tolist() == table["gapped"].tolist()
    assert (table["certified_decided"] <= table[["certified", "disorder_decided"]].min(axis=1)).all()


class _Oracle:
    """A stand-in network that answers the clean formula (what needs no disorder)."""

    def predict(self, lattices, batch_size=64):
        return clean_formula(lattices).astype(float)


def test_the_clean_formula_scores_the_clean_baseline_and_nothing_on_decided_lattices(labeled):
    params = SizeStudyParams(seed=1, sizes=(8, 16), accuracy_conventions=("strong",),
                             accuracy_min_size=16, batch_size=8)
    table = size_accuracy(_Oracle(), labeled, params)
    assert table[["convention", "size"]].values.tolist() == [["strong", 16]]
    row = table.iloc[0]
    assert row["measured_percent"] == row["clean_formula_percent"]
    assert row["certified_percent"] == row["certified_clean_formula_percent"]
    assert row["certified_decided_lattices"] == 0 or row["certified_decided_percent"] == 0
    assert set(RECORD_KEYS) <= set(table.columns)


def test_a_clean_lattice_is_no_disorder_decided_case():
    lattices = np.zeros((3, 8, 8, 3))
    lattices[..., 0] = [[[-1.0]], [[1.0]], [[3.5]]]
    lattices[..., 2] = 0.15
    labels = chern_numbers(lattices, method="bott").chern
    assert labels.tolist() == clean_formula(lattices).tolist() == [1, -1, 0]
    row = accuracy_row(labels, labels, clean_formula(lattices), np.ones(3, bool))
    assert row["measured_percent"] == row["certified_percent"] == 100.0
    assert row["decided_lattices"] == row["certified_decided_lattices"] == 0
    assert math.isnan(row["certified_decided_percent"])
    assert row["measured_ci_low"] < 100.0 == row["measured_ci_high"]


def _table(certified_percent, baseline_percent) -> pd.DataFrame:
    row = {k: 0 for k in RECORD_KEYS}
    row.update(convention="strong", size=64, lattices=100, measured_percent=90.0,
               stronger_baseline="clean formula", certified_lattices=40,
               certified_percent=certified_percent, certified_ci_low=certified_percent - 5,
               certified_ci_high=min(100.0, certified_percent + 5),
               certified_stronger_baseline="majority class",
               certified_stronger_baseline_percent=baseline_percent)
    return pd.DataFrame([row])


def test_the_card_record_feeds_the_caveat(tmp_path):
    bundle = Bundle(tmp_path, None, None, {"accuracy": {}, "accuracy_by_size": accuracy_record(
        pd.concat([_table(97.5, 95.0), _table(80.0, 85.0).assign(size=128)]), "x.csv")})
    assert bundle.accuracy_caveat(64) is None
    assert bundle.accuracy_caveat(128) == (
        "at 128x128 this bundle is not above the strongest no-network baseline: 80.0 % on 40 "
        "certified lattices of the strong disorder convention, against 85.0 % for the majority "
        "class (the card's size study)")
    assert bundle.accuracy_caveat(256).startswith("this bundle's card records no test accuracy")


def test_the_accuracy_table_is_written_as_csv_markdown_and_html(tmp_path):
    write_accuracy_table(_table(97.5, 95.0), tmp_path / "t")
    markdown = (tmp_path / "t.md").read_text()
    assert "| strong | 64x64 | 100 |" in markdown and "97.5 [92.5, 100.0]" in markdown
    assert (tmp_path / "t.html").read_text().startswith("<!DOCTYPE html>")
    assert pd.read_csv(tmp_path / "t.csv").shape == (1, len(RECORD_KEYS))


def test_sets_are_named_convention_and_size():
    assert parse_sets(["paper_16=a.h5", "paper_16=b.h5", "strong_32=c.h5"]) == {
        "paper_16": ["a.h5", "b.h5"], "strong_32": ["c.h5"]}
    with pytest.raises(SpecError, match="CONVENTION_SIZE=PATH"):
        parse_sets(["paper=a.h5"])


def test_the_tuning_figure_sets_the_trained_chain_beside_the_measured_one(tmp_path):
    """Its table holds both chains at every size of the tuned one, from their own tables."""
    from rgtopo.figures.sizes import fig_size_tuning

    rng = np.random.default_rng(3)

    def table(convention, sizes, right):
        rows = []
        for size in sizes:
            labels = rng.integers(-1, 2, 200)
            predicted = np.where(rng.random(200) < right, labels, 0)
            rows.append({"convention": convention, "size": size,
                         **accuracy_row(predicted, labels, labels, rng.random(200) < 0.5)})
        return pd.DataFrame(rows)

    accuracy = pd.concat([table("strong", [16, 32, 64], 0.9), table("paper", [16, 32], 0.8)])
    tuned = table("strong", [16, 32, 64], 0.95).assign(gained=5, lost=2)
    history = {"epoch": [0, 1, 2, 3], "phase": ["rg_8", "rg_8", "tied_16", "tied_32"],
               "selected": [0, 0, 1, 0]}
    for n in (16, 32):
        history.update({f"validation_accuracy_{n}x{n}": [0.9, 0.91, 0.93, 0.92],
                        f"validation_accuracy_low_{n}x{n}": [0.88] * 4,
                        f"validation_accuracy_high_{n}x{n}": [0.95] * 4,
                        f"validation_clean_formula_{n}x{n}": [0.94] * 4,
                        f"validation_majority_{n}x{n}": [0.7] * 4})
    out = fig_size_tuning(accuracy, tuned, pd.DataFrame(history), tmp_path / "f")
    assert (tmp_path / "f.png").stat().st_size > 0 and (tmp_path / "f.pdf").is_file()
    assert out[["chain", "size"]].values.tolist() == [
        ["measured", 16], ["measured", 32], ["measured", 64],
        ["trained on", 16], ["trained on", 32], ["trained on", 64]]
    strong = accuracy[accuracy["convention"] == "strong"]
    np.testing.assert_array_equal(out["measured_percent"][:3], strong["measured_percent"])
    np.testing.assert_array_equal(out["measured_percent"][3:], tuned["measured_percent"])
    assert pd.read_csv(tmp_path / "f.csv").shape == out.shape


def test_paired_columns_count_the_lattices_each_chain_alone_gets_right():
    labels = np.array([0, 1, 1, -1, 0, 1, 0, 0])
    before = np.array([0, 0, 1, -1, 1, 1, 0, 1])  # wrong on 1, 4, 7
    after = np.array([0, 1, 1, 0, 0, 1, 0, 1])  # wrong on 3, 7
    certified = np.array([1, 1, 0, 1, 0, 1, 1, 1], bool)
    out = paired_columns(after, before, labels, certified)
    assert (out["gained"], out["lost"]) == (2, 1)  # lattices 1, 4 gained; 3 lost
    assert (out["certified_gained"], out["certified_lost"]) == (1, 1)
    assert out["mcnemar_p"] == pytest.approx(1.0)  # 2 against 1 of 3: no evidence
    many = paired_columns(np.ones(40, int), np.zeros(40, int), np.ones(40, int),
                          np.ones(40, bool))
    assert many["gained"] == 40 and many["mcnemar_p"] == pytest.approx(2 * 0.5 ** 40)
    assert paired_columns(labels, labels, labels, certified)["mcnemar_p"] == 1.0
