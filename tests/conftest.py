"""Shared fixtures: the reference data beside the checkout and small dataset specs."""

from pathlib import Path

import numpy as np
import pytest

import rgtopo  # noqa: F401  (first, so its TensorFlow settings precede every test's import of it)

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
    """A sampler spec with the default config's physics (config/config.yaml), for ad hoc sets,
    as the dict the workflow passes (so a test can change or drop a key)."""
    from rgtopo.config import load_config
    from rgtopo.params import DatasetSpec

    return DatasetSpec.from_config(load_config(REPO / "config" / "config.yaml", REPO),
                                   distribution=distribution, size=size, stream=stream,
                                   seed=seed).as_dict()


def write_lattice_files(d: Path, lat: np.ndarray) -> None:
    """The same lattices in every file layout a user may bring (the readers' and commands'
    tests): .npy (batch, one lattice, integers, Fortran order), .npz (several arrays, compressed float32,
    Fortran order), HDF5 (nested dataset, a shard-like file)."""
    import h5py

    np.save(d / "batch.npy", lat)
    np.save(d / "one.npy", lat[3])
    np.save(d / "ints.npy", np.rint(lat).astype(np.int16))
    np.save(d / "fortran.npy", np.asfortranarray(lat))
    np.savez(d / "several.npz", lattices=lat, mu=lat[..., 0])
    np.savez_compressed(d / "named.npz", mine=lat.astype(np.float32))
    np.savez(d / "fortran.npz", lattices=np.asfortranarray(lat))
    with h5py.File(d / "nested.hdf5", "w") as f:
        f["group/lat"] = lat
        f["other"] = np.arange(3)
    with h5py.File(d / "shard.h5", "w") as f:
        f["lattices"] = lat
        f["chern"] = np.zeros(len(lat))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def labeled_shards(tmp_path_factory):
    """Small labeled sets: 4x4 train/validation, wide 8x8, 8x8, 16x16 and 32x32 train, 8x8 and
    16x16 test and validation."""
    from rgtopo.data.datasets import label_shard, sample_shard

    d = tmp_path_factory.mktemp("shards")
    made = {}
    for name, dist, size, count in [
        ("train_4", "boundary_biased", 4, 1500), ("validation_4", "boundary_biased", 4, 300),
        ("decimation_8", "wide_uniform", 8, 1200), ("train_8", "boundary_biased", 8, 400),
        ("test_8", "uniform", 8, 100), ("test_16", "uniform", 16, 16),
        ("validation_8", "uniform", 8, 60), ("validation_16", "uniform", 16, 12),
        ("train_16", "boundary_biased", 16, 24), ("train_32", "boundary_biased", 32, 8),
    ]:
        raw = d / f"{name}_raw.h5"
        sample_shard(physics_spec(distribution=dist, size=size, stream=name), 0, count, raw)
        if dist == "wide_uniform":
            made[name] = raw
        else:
            # the localizer labels 32x32 in a fraction of a second; the Bott index takes seconds
            label_shard(raw, d / f"{name}.h5", threads=2,
                        method="localizer" if size >= 32 else "bott")
            made[name] = d / f"{name}.h5"
    return made
