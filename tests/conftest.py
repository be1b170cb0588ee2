"""Shared fixtures: the reference data beside the checkout and small dataset specs."""

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference" / "ml-topology"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not (REFERENCE / "data_1.mat").is_file():
        pytest.fail(
            f"reference data missing: expected {REFERENCE}/data_1.mat "
            "(the checkout needs ../shared beside it)",
            pytrace=False,
        )
    return REFERENCE


def physics_spec(distribution="boundary_biased", size=4, seed=7, stream="train"):
    """A dataset spec with the paper's constants (mirrors config/config.yaml)."""
    return {
        "distribution": distribution,
        "size": size,
        "seed": seed,
        "stream": stream,
        "mu_range": [-4.0, 4.0],
        "t_minus_range": [-2.0, 2.0],
        "delta_range": [0.1, 0.2],
        "alpha": 0.03,
        "density_grid": 1001,
        "disorder": {"mu": 0.3, "t_minus": 0.2, "Delta": 0.05},
        "mu_disorder_scaling": {"reference_size": 4, "exponent": 1.0},
        "value_range": [-5.0, 5.0],
    }


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
