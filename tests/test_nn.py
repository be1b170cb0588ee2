"""Network shapes, the architecture registry, padding, equivariance, saving and bad inputs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

import rgtopo  # noqa: E402
from conftest import REPO  # noqa: E402
from rgtopo.errors import LatticeError, ModelError, SpecError  # noqa: E402
from rgtopo import predict_chern  # noqa: E402
from rgtopo.physics.lattice import level_code, rg_steps  # noqa: E402
from rgtopo.nn import (  # noqa: E402
    LOSSES,
    ConditionedShifts,
    DisorderFeatures,
    LatticePad,
    abs_square_loss,
    apply_rg,
    base_level,
    base_levels,
    base_network,
    chern_accuracy,
    check_head_loss,
    chern_cross_entropy,
    chern_expected_error,
    chern_value,
    compound_network,
    feature_scales,
    head_loss,
    load_model,
    rg_network,
)
from rgtopo.params import LOSS_HEADS  # noqa: E402


@pytest.fixture(scope="module")
def nets():
    keras.utils.set_random_seed(3)
    return base_network(8), rg_network(4)


@pytest.mark.parametrize("n", [8, 16, 32])
def test_rg_halves_any_lattice_and_compound_gives_one_number(nets, rng, n):
    base, rg = nets
    x = rng.normal(size=(3, n, n, 3)).astype("float32")
    x[..., 2] = np.abs(x[..., 2])  # predict_chern reads a negative average Delta as its image
    assert rg(x).shape == (3, n // 2, n // 2, 3)
    assert apply_rg(rg, x, rg_steps(n)).shape == (3, 4, 4, 3)
    compound = compound_network(base, rg, n)
    assert compound(x).shape == (3, 1)
    np.testing.assert_allclose(predict_chern(x, base, rg), np.asarray(compound(x))[:, 0],
                               rtol=1e-5, atol=1e-6)


def test_periodic_padding_equals_numpy_wrap(rng):
    x = rng.normal(size=(2, 5, 6, 3)).astype("float32")
    padded = np.asarray(LatticePad(2, "periodic")(x))
    np.testing.assert_array_equal(padded, np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="wrap"))
    zero = np.asarray(LatticePad(1, "zero")(x))
    np.testing.assert_array_equal(zero, np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)]))


@pytest.mark.parametrize("axis", [1, 2])
def test_rg_of_a_lattice_rolled_by_two_sites_is_the_rolled_output(nets, rng, axis):
    _, rg = nets
    x = rng.normal(size=(2, 16, 16, 3)).astype("float32")
    out = np.asarray(rg(x))
    rolled = np.asarray(rg(np.roll(x, 2, axis=axis)))
    np.testing.assert_allclose(rolled, np.roll(out, 1, axis=axis), rtol=1e-5, atol=1e-6)


def test_zero_padding_breaks_translation_symmetry(rng):
    keras.utils.set_random_seed(4)
    rg = rg_network(4, padding="zero")
    x = rng.normal(size=(1, 8, 8, 3)).astype("float32")
    assert not np.allclose(np.asarray(rg(np.roll(x, 2, axis=1))), np.roll(np.asarray(rg(x)), 1, 1))


def test_loss_is_abs_plus_square_summed_over_sites_and_channels():
    y_true = np.zeros((2, 4, 4, 3), "float32")
    y_pred = np.full((2, 4, 4, 3), 0.5, "float32")
    np.testing.assert_allclose(np.asarray(abs_square_loss(y_true, y_pred)), [36.0, 36.0])
    scalar = abs_square_loss(np.array([[1.0], [0.0]]), np.array([[3.0], [0.0]]))
    np.testing.assert_allclose(np.asarray(scalar), [6.0, 0.0])
    # one value per lattice, as the validation columns of RG training sum it
    per_lattice = abs_square_loss(np.array([1.0, 0.0, -2.0]), np.array([3.0, 0.5, -1.0]))
    np.testing.assert_allclose(np.asarray(per_lattice), [6.0, 0.75, 2.0])
    acc = chern_accuracy(np.array([[1.0], [0.0], [-1.0]]), np.array([[0.6], [0.49], [0.2]]))
    np.testing.assert_array_equal(np.asarray(acc), [1.0, 1.0, 0.0])


def test_saved_models_load_back_without_custom_objects(nets, tmp_path, rng):
    base, rg = nets
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    rg.save(tmp_path / "rg.keras")
    base.save(tmp_path / "base.keras")
    rg2, base2 = rgtopo.load_model(tmp_path / "rg.keras"), load_model(tmp_path / "base.keras")
    np.testing.assert_allclose(predict_chern(x, base2, rg2), predict_chern(x, base, rg), rtol=1e-6)
    again = keras.saving.load_model(tmp_path / "rg.keras")
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(rg(x)), rtol=1e-6)


@pytest.mark.parametrize("factor", [1.0, 0.5])
def test_linear_path_starts_as_exactly_the_decimation_and_learns_from_there(rng, tmp_path, factor):
    from rgtopo.physics.lattice import decimate

    x = rng.uniform(-5, 5, size=(3, 16, 16, 3)).astype("float32")
    rg = rg_network(4, linear_path=True, disorder_factor=factor)
    np.testing.assert_allclose(np.asarray(rg(x)), decimate(x, factor), atol=2e-6)
    rg.save(tmp_path / "rg.keras")
    np.testing.assert_array_equal(np.asarray(load_model(tmp_path / "rg.keras")(x)), np.asarray(rg(x)))
    # the ResNet branch is live: one step towards another target moves its output layer
    before = np.asarray(rg.get_layer("to_lattice").kernel).copy()
    rg.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    rg.fit(x, decimate(x, factor) + 1.0, epochs=1, verbose=0)
    assert np.abs(np.asarray(rg.get_layer("to_lattice").kernel) - before).max() > 0
    # without a factor (the uninitialized ablation) the branch starts random
    random = np.asarray(rg_network(4, linear_path=True)(x))
    assert np.abs(random - decimate(x, factor)).max() > 0.5


def test_parameter_counts_at_paper_width():
    assert base_network(256).count_params() == 4_728_065
    assert rg_network(256).count_params() > 9_000_000


def test_bad_inputs_raise_clear_errors(nets, tmp_path):
    base, rg = nets
    with pytest.raises(LatticeError, match="4 \\* 2\\^k"):
        predict_chern(np.zeros((1, 6, 6, 3)), base, rg)
    with pytest.raises(LatticeError, match="need an RG network"):
        predict_chern(np.zeros((1, 8, 8, 3)), base)
    with pytest.raises(LatticeError, match="even lattice size"):
        apply_rg(rg, np.zeros((1, 7, 7, 3)), 1)
    with pytest.raises(LatticeError, match="4 \\* 2\\^k"):
        compound_network(base, rg, 12)
    with pytest.raises(ModelError, match="no such saved model"):
        load_model(tmp_path / "missing.keras")
    (tmp_path / "junk.keras").write_text("junk")
    with pytest.raises(ModelError, match="not a .keras zip archive"):
        load_model(tmp_path / "junk.keras")
    with pytest.raises(LatticeError, match="NaN"):
        predict_chern(np.full((1, 4, 4, 3), np.nan), base)


@pytest.fixture(scope="module")
def spectral():
    keras.utils.set_random_seed(5)
    x = np.random.default_rng(2).normal(size=(256, 4, 4, 3))
    x[..., 2] = np.abs(x[..., 2])  # Delta > 0, as trained (predict_chern reads Delta < 0 as -Delta)
    return base_network(16, architecture="spectral", blocks=2, shifts=3, loss="cross_entropy",
                        scales=feature_scales(x)), x.astype("float32")


def test_feature_scales_standardize_means_and_disorder(rng):
    means = rng.normal(size=(500, 1, 1, 3)) * [2.0, 1.0, 0.03] + [0.0, 0.5, 0.15]
    x = means + rng.normal(size=(500, 4, 4, 3)) * [0.1, 0.05, 0.01]
    scales = feature_scales(x)
    np.testing.assert_allclose(scales["mean_scale"], [2.0, 1.0, 0.03], rtol=0.1)
    np.testing.assert_allclose(scales["disorder_scale"], np.array([0.1, 0.05, 0.01]) * np.sqrt(15 / 16),
                               rtol=0.1)
    feats = np.asarray(DisorderFeatures(**scales)(x.astype("float32")))
    assert feats.shape == (500, 3 + 12 * 16)
    np.testing.assert_allclose(feats[:, :3].std(axis=0), 1.0, rtol=0.05)


def test_disorder_spectra_are_translation_invariant_and_match_numpy(spectral, rng):
    net, x = spectral
    layer = net.get_layer("disorder_features")
    f0 = np.asarray(layer(x))
    f1 = np.asarray(layer(np.roll(x, (1, 2), axis=(1, 2))))
    np.testing.assert_allclose(f1[:, :3], f0[:, :3], atol=1e-5)
    np.testing.assert_allclose(f1[:, 51:], f0[:, 51:], rtol=1e-4, atol=1e-4)
    dev = (x - x.mean(axis=(1, 2), keepdims=True)) / np.array(layer.disorder_scale)
    power_mu = np.abs(np.fft.fft2(dev[..., 0])) ** 2 / 16
    np.testing.assert_allclose(f0[:, 51:67], power_mu.reshape(-1, 16), rtol=1e-3, atol=1e-4)


def test_class_head_value_is_the_expected_chern_number(spectral, tmp_path):
    net, x = spectral
    logits = np.asarray(net(x))
    assert logits.shape == (256, 5)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(predict_chern(x, net), p @ np.arange(-2, 3), rtol=1e-5, atol=1e-6)
    net.save(tmp_path / "spectral.keras")
    np.testing.assert_allclose(predict_chern(x, load_model(tmp_path / "spectral.keras")),
                               predict_chern(x, net), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(chern_value(keras.ops.convert_to_tensor([[0.0, 0.0, 9.0, 0.0, 0.0]])),
                               [0.0], atol=1e-3)
    labels = np.array([1.0, -1.0])
    sure = np.array([[-9, -9, -9, 9, -9], [-9, 9, -9, -9, -9]], dtype="float32")
    assert float(np.mean(chern_accuracy(labels, sure))) == 1.0
    assert float(np.mean(chern_cross_entropy(labels, sure))) < 1e-6


def test_expected_error_is_one_minus_the_label_probability_and_bounded():
    logits = np.log(np.array([[0.1, 0.2, 0.4, 0.2, 0.1], [0.7, 0.1, 0.1, 0.05, 0.05]], "float32"))
    np.testing.assert_allclose(chern_expected_error(np.array([0.0, 1.0]), logits), [0.6, 0.95],
                               rtol=1e-5)
    # confidently wrong costs at most 1 (cross-entropy: ~18), so such lattices cannot dominate
    wrong = np.array([[-9, -9, -9, 9, -9]], dtype="float32")
    assert 0.999 < float(chern_expected_error(np.array([-1.0]), wrong)[0]) <= 1.0
    assert float(chern_cross_entropy(np.array([-1.0]), wrong)[0]) > 17


def test_the_loss_of_a_head_is_read_back_from_its_width(nets, spectral):
    base, rg = nets
    assert base.output_shape == (None, 1) and head_loss(base) == "abs_square"
    assert spectral[0].output_shape == (None, 5) and head_loss(spectral[0]) == "cross_entropy"
    assert head_loss(compound_network(spectral[0], rg, 8)) == "cross_entropy"
    with pytest.raises(ModelError, match="a Chern head of 3 outputs matches no loss"):
        head_loss(rg_network(2))
    check_head_loss(spectral[0], "expected_error")
    check_head_loss(base, "abs_square")
    with pytest.raises(SpecError, match="needs a Chern head of 5 outputs; base_network has 1"):
        check_head_loss(base, "expected_error")
    with pytest.raises(SpecError, match="needs a Chern head of 1 outputs; .* has 5 .a classes head"):
        check_head_loss(spectral[0], "abs_square")
    with pytest.raises(SpecError, match="unknown loss 'hinge'"):
        check_head_loss(base, "hinge")


def test_every_loss_has_one_list_the_schema_and_the_models_agree_on():
    """LOSS_HEADS (rgtopo.params) is the list; the schema's one enum and LOSSES must follow it."""
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert schema["definitions"]["loss"]["enum"] == list(LOSS_HEADS)
    uses = [schema["properties"][section]["properties"]["loss"]
            for section in ("base_network", "rg_training")]
    uses.append(schema["definitions"]["rg_run"]["properties"]["loss"])
    assert uses == [{"$ref": "#/definitions/loss"}] * 3
    assert list(LOSSES) == list(LOSS_HEADS)


def test_unknown_architecture_or_loss_is_a_spec_error():
    with pytest.raises(SpecError, match="architecture"):
        base_network(8, architecture="mlp")
    with pytest.raises(SpecError, match="loss"):
        base_network(8, loss="hinge")
    with pytest.raises(SpecError, match="feature scales"):
        base_network(8, architecture="spectral", loss="cross_entropy")


def test_conditioned_shifts_are_feature_sums_weighted_per_lattice(rng):
    features = rng.normal(size=(5, 7)).astype("float32")
    weights = rng.normal(size=(5, 7 * 3)).astype("float32")
    out = np.asarray(ConditionedShifts(3)([weights, features]))
    expected = np.einsum("bfj,bf->bj", weights.reshape(5, 7, 3), features)
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_level_conditioned_base_reads_each_rg_step_at_its_own_level(rng, tmp_path):
    """levels 3: the compound network and predict_chern give the base the one-hot level k
    after k RG steps (the deepest level after more), and the level changes the answer."""
    keras.utils.set_random_seed(6)
    x4 = rng.normal(size=(64, 4, 4, 3)).astype("float32")
    x4[..., 2] = np.abs(x4[..., 2])  # Delta > 0 (predict_chern reads Delta < 0 as -Delta)
    base = base_network(16, architecture="spectral", blocks=1, shifts=2, loss="cross_entropy",
                        scales=feature_scales(x4), levels=3)
    rg = rg_network(4, linear_path=True, disorder_factor=1.0)
    assert base_levels(base) == 3 and [base_level(base, k) for k in range(5)] == [0, 1, 2, 2, 2]
    assert base_levels(rgtopo.nn.base_network(4)) == 1
    np.testing.assert_array_equal(level_code(3, 1, 2), [[0, 1, 0], [0, 1, 0]])
    with pytest.raises(SpecError, match="level 3 outside"):
        level_code(3, 3, 1)
    by_level = [np.asarray(chern_value(base([x4, level_code(3, k, 64)]))) for k in range(3)]
    assert np.abs(by_level[0] - by_level[1]).max() > 1e-4
    np.testing.assert_allclose(predict_chern(x4, base), by_level[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict_chern(x4, base, level=2), by_level[2], rtol=1e-5, atol=1e-6)
    for size, level in ((8, 1), (16, 2), (32, 2)):
        x = np.abs(rng.normal(size=(16, size, size, 3))).astype("float32")
        coarse = apply_rg(rg, x, rg_steps(size))
        expected = np.asarray(chern_value(base([coarse, level_code(3, level, 16)])))
        np.testing.assert_allclose(predict_chern(x, base, rg), expected, rtol=1e-5, atol=1e-5)
        compound = np.asarray(chern_value(compound_network(base, rg, size)(x)))
        np.testing.assert_allclose(compound, expected, rtol=1e-5, atol=1e-5)
    compound_network(base, rg, 8).save(tmp_path / "compound.keras")
    x = np.abs(rng.normal(size=(4, 8, 8, 3))).astype("float32")
    np.testing.assert_allclose(chern_value(load_model(tmp_path / "compound.keras")(x)),
                               predict_chern(x, base, rg), rtol=1e-5, atol=1e-5)
    with pytest.raises(SpecError, match=r"level-conditioned architecture \(spectral\); the 'conv'"):
        base_network(8, levels=2)


@pytest.mark.parametrize("architecture, loss", [("spectral", "cross_entropy"),
                                                ("conv", "abs_square")])
def test_canonical_base_network_is_exactly_symmetric(rng, tmp_path, architecture, loss):
    """With canonical=True every element of the 64-element group (translations x transpose with
    t_minus -> -t_minus x mu -> -mu) gives the same answer, with C -> -C under mu -> -mu, for a
    random untrained network: the symmetry is built in, not learned. Saved and loaded, too."""
    from rgtopo.physics import symmetries

    x = rng.normal(size=(64, 4, 4, 3)).astype("float32")
    x[..., 2] += 0.15
    scales = feature_scales(x) if architecture == "spectral" else None
    keras.utils.set_random_seed(3)
    net = base_network(8, architecture=architecture, loss=loss, scales=scales, canonical=True)
    value = lambda v: chern_value(net.predict(v.astype("float32"), verbose=0))  # noqa: E731
    expected = value(x)
    assert np.std(expected) > 1e-6  # the answers differ between lattices: not a constant net
    for sx, sy in ((1, 0), (0, 3), (2, 1)):
        np.testing.assert_allclose(value(symmetries.translate(x, sx, sy)), expected, atol=1e-5)
    np.testing.assert_allclose(value(symmetries.transpose(x)), expected, atol=1e-5)
    np.testing.assert_allclose(value(symmetries.negate_mu(x)), -expected, atol=1e-5)
    both = symmetries.negate_mu(symmetries.translate(symmetries.transpose(x), 3, 2))
    np.testing.assert_allclose(value(both), -expected, atol=1e-5)
    net.save(tmp_path / "canonical.keras")
    loaded = load_model(tmp_path / "canonical.keras")
    np.testing.assert_allclose(chern_value(loaded.predict(x, verbose=0)), expected, atol=1e-6)
    plain = base_network(8, architecture=architecture, loss=loss, scales=scales)
    assert not np.allclose(chern_value(plain.predict(symmetries.transpose(x), verbose=0)),
                           chern_value(plain.predict(x, verbose=0)), atol=1e-5)


def test_schema_architectures_are_the_registry():
    """The config schema offers exactly the base architectures the registry builds."""
    from rgtopo.nn.registry import BASE_NETWORKS

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    offered = schema["properties"]["base_network"]["properties"]["architecture"]["enum"]
    assert sorted(offered) == sorted(BASE_NETWORKS)


def test_conv_network_honours_blocks_and_rejects_the_spectral_keys():
    """blocks sets the convolutional network's depth (the paper's 4: nine convolutions); shifts
    and levels, which it cannot use, are SpecErrors instead of being ignored."""
    convs = lambda net: [l.name for l in net.layers if l.name.startswith("conv")]  # noqa: E731
    assert convs(base_network(4)) == [f"conv{i}" for i in range(1, 10)]
    assert convs(base_network(4, blocks=2)) == [f"conv{i}" for i in range(1, 6)]
    with pytest.raises(SpecError, match="base_network.shifts: the 'conv' base network has no"):
        base_network(4, shifts=4)


def test_paper_config_builds_the_paper_network():
    """config/paper.yaml's section builds the convolutional network of Appendix A unchanged."""
    from rgtopo.config import load_config
    from rgtopo.nn.registry import build_base

    section = load_config(REPO / "config/paper.yaml", REPO)["base_network"]
    net = build_base(section["architecture"], section)
    assert net.count_params() == 4728065 and net.output_shape == (None, 1)
