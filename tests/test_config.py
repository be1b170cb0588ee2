"""Presets as overlays on config/config.yaml: merged key by key, null removes, lists replace."""

import pytest
import yaml

from conftest import REPO
from rgtopo.config import load_config, overlay, resolve
from rgtopo.errors import SpecError
from rgtopo.params import RGTrainingParams


def test_overlay_merges_mappings_replaces_other_values_and_null_removes():
    base = {"a": 1, "m": {"x": 1, "y": [1, 2], "n": {"p": 1}}, "gone": {"k": 1}}
    over = {"m": {"y": [3], "n": {"q": 2}}, "gone": None, "new": 5}
    assert overlay(base, over) == {"a": 1, "m": {"x": 1, "y": [3], "n": {"p": 1, "q": 2}},
                                   "new": 5}
    assert base["m"]["n"] == {"p": 1}  # inputs are left as they were


def test_base_chains_resolve_and_a_loop_is_one_clear_error(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"x": 1, "y": {"z": 1}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"base": "a.yaml", "y": {"w": 2}}))
    assert resolve({"base": "b.yaml", "x": 3}, tmp_path) == {"x": 3, "y": {"z": 1, "w": 2}}
    assert resolve({"x": 3}, tmp_path) == {"x": 3}
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump({"base": "loop.yaml"}))
    with pytest.raises(SpecError, match="returns to"):
        resolve({"base": "loop.yaml"}, tmp_path)
    with pytest.raises(SpecError, match="not a readable YAML"):
        resolve({"base": "missing.yaml"}, tmp_path)


def _leaves(tree) -> int:
    return sum(_leaves(v) for v in tree.values()) if isinstance(tree, dict) else 1


@pytest.mark.parametrize("name", ["test.yaml", "paper.yaml", "gpu.yaml"])
def test_presets_hold_only_differences_and_resolve_to_full_configs(name):
    default = yaml.safe_load((REPO / "config/config.yaml").read_text())
    raw = yaml.safe_load((REPO / "config" / name).read_text())
    full = load_config(REPO / "config" / name, REPO)
    assert raw["base"] == "config/config.yaml" and "base" not in full
    assert set(full) == set(default)
    assert _leaves(raw) < _leaves(default) / 2
    for section, values in raw.items():
        if isinstance(values, dict) and section in default:
            assert values != default[section]
            assert all(v != default[section].get(k) for k, v in values.items()), section


def test_the_tiny_preset_keeps_the_paper_constants_and_drops_test_32():
    full = load_config(REPO / "config/test.yaml", REPO)
    assert full["sampling"]["alpha"] == 0.03 and full["sampling"]["density_grid"] == 201
    assert "test_32" not in full["datasets"]
    assert full["datasets"]["test_16"] == {"distribution": "uniform", "size": 16, "count": 20}
    assert set(full["rg_training"]["runs"]) == {"main", "uninitialized", "zero_padding"}


def test_the_paper_preset_trains_every_run_on_the_papers_loss():
    """paper.yaml removes the default's per-run loss, so every RG run reads Eq. (A2)."""
    full = load_config(REPO / "config/paper.yaml", REPO)
    assert full["base_network"]["loss"] == "abs_square"
    assert {run: RGTrainingParams.from_config(full, run=run).loss
            for run in full["rg_training"]["runs"]} == dict.fromkeys(
        ("main", "uninitialized", "zero_padding"), "abs_square")
    default = load_config(REPO / "config/config.yaml", REPO)
    assert default["rg_training"]["runs"]["uninitialized"]["loss"] == "cross_entropy"
