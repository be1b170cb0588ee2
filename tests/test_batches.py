"""Training batches streamed from shards: targets, shuffling, augmentation, bad input."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rgtopo.batches import LatticeBatches  # noqa: E402
from rgtopo.errors import ShardError, SpecError  # noqa: E402
from rgtopo.lattice import average_pool, decimate  # noqa: E402


@pytest.fixture(scope="module")
def shards(labeled_shards):
    return labeled_shards


def test_batches_stream_lattices_and_targets(shards):
    data = LatticeBatches([shards["train_8"]], 64, "chern", shuffle_seed=0)
    assert len(data) == 7
    x, y = data[0]
    assert x.shape[1:] == (8, 8, 3) and y.shape[1:] == (1,) and x.dtype == np.float32
    pooled = LatticeBatches([shards["decimation_8"]], 100, "decimated")
    x, y = pooled[3]
    np.testing.assert_allclose(y, average_pool(x), rtol=1e-6)
    shrunk = LatticeBatches([shards["decimation_8"]], 100, "decimated", disorder_factor=0.5)
    x, y = shrunk[3]
    np.testing.assert_allclose(y, decimate(x, 0.5), rtol=1e-5, atol=1e-6)
    assert np.abs(y - average_pool(x)).max() > 0.1
    with pytest.raises(ShardError, match="no Chern labels"):
        LatticeBatches([shards["decimation_8"]], 10, "chern")
    with pytest.raises(SpecError, match="unknown target"):
        LatticeBatches([shards["train_8"]], 10, "energy")


def test_augmented_batches_apply_one_symmetry_per_lattice(shards):
    plain = LatticeBatches([shards["train_4"]], 64, "chern", shuffle_seed=3)
    aug = LatticeBatches([shards["train_4"]], 64, "chern", shuffle_seed=3, augment=True)
    (x0, y0), (x1, y1) = plain[0], aug[0]
    assert x1.shape == x0.shape and y1.shape == y0.shape
    flipped = np.abs(x1[..., 0].mean(axis=(1, 2)) + x0[..., 0].mean(axis=(1, 2))) < 1e-5
    assert np.array_equal(y1[flipped], -y0[flipped]) and np.array_equal(y1[~flipped], y0[~flipped])
    np.testing.assert_allclose(np.sort(np.abs(x1[..., 2]).ravel()), np.sort(x0[..., 2].ravel()))
    with pytest.raises(SpecError, match="augmentation"):
        LatticeBatches([shards["train_4"]], 64, "decimated", shuffle_seed=3, augment=True)
