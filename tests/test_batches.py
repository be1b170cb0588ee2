"""Training batches streamed from shards: targets, shuffling, augmentation, bad input."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rgtopo.data.batches import LatticeBatches  # noqa: E402
from rgtopo.errors import ShardError, SpecError  # noqa: E402
from rgtopo.physics.lattice import average_pool, decimate  # noqa: E402


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


def test_certified_only_batches_keep_the_certified_labels_in_order(shards):
    """Only lattices whose label is certified, in shard order, each with its own label."""
    from rgtopo.data.shards import read_shard

    data = read_shard(shards["train_16"], labeled=True)
    keep = np.flatnonzero(data["certified"])
    assert 0 < len(keep) < len(data["certified"])  # the set has both kinds
    batches = LatticeBatches([shards["train_16"]], 5, "chern", certified_only=True)
    assert len(batches) == -(-len(keep) // 5)
    x = np.concatenate([batches[k][0] for k in range(len(batches))])
    y = np.concatenate([batches[k][1] for k in range(len(batches))])
    np.testing.assert_array_equal(x, data["lattices"][keep].astype(np.float32))
    np.testing.assert_array_equal(y[:, 0], data["chern"][keep])
    with pytest.raises(SpecError, match="certified_only needs Chern targets"):
        LatticeBatches([shards["decimation_8"]], 5, "decimated", certified_only=True)


def test_certified_only_batches_refuse_shards_without_a_certified_label(shards, tmp_path):
    import shutil

    import h5py

    from rgtopo.data.shards import CERTIFICATE_COLUMNS, LABEL_COLUMNS, data_checksum

    uncertified = tmp_path / "uncertified.h5"
    shutil.copy(shards["train_16"], uncertified)
    with h5py.File(uncertified, "r+") as f:
        f["certified"][...] = False
        columns = ("lattices",) + LABEL_COLUMNS + CERTIFICATE_COLUMNS
        f.attrs["checksum"] = data_checksum(*(f[k][...] for k in columns if k in f),
                                            np.frombuffer(f.attrs["spec"].encode(), np.uint8))
    assert len(LatticeBatches([uncertified], 5, "chern")) == 5  # all 24 lattices
    with pytest.raises(ShardError, match="no certified label in 1 shard"):
        LatticeBatches([uncertified], 5, "chern", certified_only=True)


def test_batches_refuse_a_shard_altered_in_place(shards, tmp_path):
    """One lattice value changed inside a valid HDF5 file: training must not read it."""
    import shutil

    import h5py

    altered = tmp_path / "altered.h5"
    shutil.copy(shards["train_16"], altered)
    assert len(LatticeBatches([altered], 5, "chern")) == 5
    with h5py.File(altered, "r+") as f:
        f["lattices"][3, 2, 1, 0] += 1e-3
    with pytest.raises(ShardError, match="altered.h5: its data no longer match the checksum"):
        LatticeBatches([altered], 5, "chern")


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


def test_augmentation_acts_on_coarse_lattices_before_decimation(shards):
    """A level-1 batch is the decimation of an 8x8 symmetry image, labels following; over
    epochs both even translations (the decimated lattice's own symmetry images) and odd
    ones (new 4x4 lattices, same label) occur."""
    data = LatticeBatches([shards["train_4"], shards["train_8"]], 100, "chern", levels=2,
                          disorder_factor=0.5, shuffle_seed=5, augment=True)
    raw_x, raw_y = LatticeBatches([shards["train_8"]], 100, "chern")[0]
    plain = np.sort(np.abs(decimate(raw_x, 0.5)[..., 0]).reshape(100, -1), axis=1)
    kinds = set()
    for _ in range(8):
        data.on_epoch_begin()
        k = int(np.flatnonzero(np.asarray(data.order) == 15)[0])
        (x, code), y = data[k]
        assert np.array_equal(code[:, 1], np.ones(100))
        flipped = x[..., 0].mean(axis=(1, 2)) * raw_x[..., 0].mean(axis=(1, 2)) < 0
        assert np.array_equal(y[flipped], -raw_y[flipped])
        assert np.array_equal(y[~flipped], raw_y[~flipped])
        same = np.allclose(np.sort(np.abs(x[..., 0]).reshape(100, -1), axis=1), plain, atol=1e-5)
        kinds.add(bool(same))
    assert kinds == {True, False}


def test_level_batches_decimate_coarse_shards_and_tell_the_level(shards):
    """levels 2: an 8x8 shard arrives decimated once with the one-hot level 1, in coarse_share
    of the batches; 4x4 batches carry level 0; a level beyond the base network's is an error."""
    data = LatticeBatches([shards["train_4"], shards["train_8"]], 100, "chern", levels=2,
                          disorder_factor=0.5)
    assert len(data) == 15 + 4 and data.size == 4
    (x, code), y = data[0]
    assert x.shape == (100, 4, 4, 3) and np.array_equal(code, np.tile([1.0, 0.0], (100, 1)))
    (x, code), y = data[15]
    raw = LatticeBatches([shards["train_8"]], 100, "chern")[0]
    np.testing.assert_allclose(x, decimate(raw[0], 0.5), rtol=1e-5, atol=1e-6)
    assert np.array_equal(code, np.tile([0.0, 1.0], (100, 1))) and np.array_equal(y, raw[1])
    half = LatticeBatches([shards["train_4"], shards["train_8"]], 100, "chern", levels=2,
                          coarse_share=0.5)
    assert len(half) == 30 and half.index[15:] == [half.index[15 + j % 4] for j in range(15)]
    plain = LatticeBatches([shards["train_4"]], 100, "chern", levels=1)
    assert isinstance(plain[0][0], np.ndarray)
    with pytest.raises(SpecError, match="level 1; the base network has levels 0..0"):
        LatticeBatches([shards["train_8"]], 100, "chern", levels=1)
    with pytest.raises(SpecError, match=r"level 1 of the base network has no training shards \(8x8"):
        LatticeBatches([shards["train_4"]], 100, "chern", levels=2, coarse_share=0.5)
    three = LatticeBatches([shards["train_4"], shards["train_16"], shards["train_8"]], 100,
                           "chern", levels=3, coarse_share=0.5)
    # 15 level-0 batches, then 15 / 2 -> 8 per coarse level: 4 of 8x8 cycled, 1 of 16x16 repeated
    assert len(three) == 15 + 8 + 8
    assert [three._steps[i] for i, _ in three.index[15:]] == [1] * 8 + [2] * 8
    (x, code), _ = three[30]
    assert x.shape == (24, 4, 4, 3) and np.array_equal(code[0], [0.0, 0.0, 1.0])
    with pytest.raises(SpecError, match="coarse_share 1.5"):
        LatticeBatches([shards["train_4"], shards["train_8"]], 100, "chern", levels=2,
                       coarse_share=1.5)
