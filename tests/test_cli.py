"""`rgtopo chern` / `rgtopo predict` / `rgtopo export-bundle` on user files: every input and
output format, streaming, and every bad input (one line on stderr, exit status 2)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import io  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import rgtopo  # noqa: E402
from conftest import REPO, write_lattice_files  # noqa: E402
from rgtopo.evaluation import bundle as bundle_mod  # noqa: E402
from rgtopo.physics.chern import COLUMNS  # noqa: E402
from rgtopo.cli import main  # noqa: E402
from rgtopo.nn import base_network, chain, rg_network  # noqa: E402

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO / "src")}


def rgtopo_cli(*args, cwd=None):
    """The command line in a fresh process: (exit status, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "rgtopo", *map(str, args)], capture_output=True,
                       text=True, env=ENV, cwd=cwd, timeout=300)
    return p.returncode, p.stdout, p.stderr


def lattices(rng, n, count):
    lat = np.empty((count, n, n, 3))
    lat[..., 0] = rng.uniform(-4, 4, (count, 1, 1)) + rng.uniform(-0.3, 0.3, (count, n, n))
    lat[..., 1] = rng.uniform(-2, 2, (count, 1, 1)) + rng.uniform(-0.1, 0.1, (count, n, n))
    lat[..., 2] = 0.15
    return lat


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("inputs")
    lat = lattices(rng, 8, 12)
    write_lattice_files(d, lat)
    return d, lat, rgtopo.chern_numbers(lat)


@pytest.mark.parametrize(
    "name, key",
    [("batch.npy", None), ("several.npz", None), ("named.npz", None), ("named.npz", "mine"),
     ("nested.hdf5", "group/lat"), ("shard.h5", None)],
)
def test_chern_reads_every_format_and_writes_csv_to_stdout(data, name, key, capsys):
    d, lat, expected = data
    argv = ["chern", str(d / name), "--threads", "1"] + (["--key", key] if key else [])
    assert main(argv) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table.columns) == ["index", *COLUMNS]
    assert (table["method"] == "bott").all() and set(table["certified"]) <= {0, 1}
    np.testing.assert_array_equal(table["gapped"], expected.gap >= 0.05)
    assert table["index"].tolist() == list(range(12))
    np.testing.assert_array_equal(table["chern"], expected.chern)
    np.testing.assert_allclose(table["gap"], expected.gap, rtol=1e-5)
    assert (table["bott_deviation"] < 1e-6).all()


def test_chern_by_the_localizer_and_auto(data, tmp_path, capsys):
    """--method localizer: its own certificate, never certified below 16x16; auto picks Bott."""
    d, lat, expected = data
    assert main(["chern", str(d / "batch.npy"), "--method", "localizer", "--threads", "2"]) == 0
    out = capsys.readouterr()
    table = pd.read_csv(io.StringIO(out.out))
    assert (table["method"] == "localizer").all() and (table["tiles"] == 6).all()
    assert table["bott_deviation"].isna().all() and (table["kappa"] > 0).all()
    assert (table["certified"] == 0).all()  # 8x8 is below localizer.min_certified_size
    assert "warning: 12 of 12 labels are not certified" in out.err
    np.save(tmp_path / "big.npy", lattices(np.random.default_rng(12), 16, 6))
    assert main(["chern", str(tmp_path / "big.npy"), "--method", "localizer"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    bott = rgtopo.chern_numbers(np.load(tmp_path / "big.npy"), method="bott")
    certified = table["certified"].to_numpy() == 1
    np.testing.assert_array_equal(certified, bott.gap >= 0.05)
    np.testing.assert_array_equal(table["chern"][certified], bott.chern[certified])
    assert main(["chern", str(d / "batch.npy"), "--method", "auto"]) == 0
    assert set(pd.read_csv(io.StringIO(capsys.readouterr().out))["method"]) == {"bott"}
    with pytest.raises(SystemExit) as exc:
        main(["chern", str(d / "batch.npy"), "--method", "dense"])
    assert exc.value.code == 2


def test_chern_of_one_lattice_and_h5_output(data, tmp_path):
    d, lat, expected = data
    assert main(["chern", str(d / "one.npy"), "--out", str(tmp_path / "c.csv")]) == 0
    assert pd.read_csv(tmp_path / "c.csv")["chern"].tolist() == [expected.chern[3]]
    assert main(["chern", str(d / "batch.npy"), "--out", str(tmp_path / "c.h5")]) == 0
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert sorted(f) == sorted(["index", *COLUMNS])
        np.testing.assert_array_equal(f["chern"][...], expected.chern)
        np.testing.assert_array_equal(f["gap"][...], expected.gap)
        assert f.attrs["input"] == str(d / "batch.npy") and f.attrs["command"] == "chern"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.h5"]


def test_chern_streams_inputs_larger_than_one_batch(tmp_path):
    """5000 4x4 lattices span two labeling batches; .npz members are read piecewise."""
    lat = lattices(np.random.default_rng(2), 4, 5000)
    np.savez_compressed(tmp_path / "big.npz", lattices=lat)
    assert main(["chern", str(tmp_path / "big.npz"), "--out", str(tmp_path / "big.csv")]) == 0
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "big.csv")["chern"],
                                  rgtopo.chern_numbers(lat).chern)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    keras.utils.set_random_seed(9)
    base, rg = base_network(4), rg_network(2)
    out = rgtopo.export_bundle(base, rg, tmp_path_factory.mktemp("m") / "bundle")
    return out, base, rg


@pytest.mark.parametrize("n", [4, 16])
def test_predict_matches_the_networks_in_any_batch_size(model, tmp_path, n):
    path, base, rg = model
    lat = lattices(np.random.default_rng(n), n, 10)
    np.save(tmp_path / "x.npy", lat.astype(np.float32))
    expected = rgtopo.predict_chern(lat, base, rg)
    for batch in ("3", "256"):
        out = tmp_path / f"p{batch}.csv"
        argv = ["predict", str(tmp_path / "x.npy"), "--model", str(path), "--out", str(out),
                "--batch-size", batch]
        assert main(argv) == 0
        table = pd.read_csv(out)
        assert list(table.columns) == ["index", "chern", "raw", "distance_to_integer",
                                       "in_training_range"]
        assert table["in_training_range"].tolist() == [1] * 10  # the card records no range
        np.testing.assert_allclose(table["raw"], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(table["chern"], np.rint(table["raw"]))
        np.testing.assert_allclose(table["distance_to_integer"],
                                   np.abs(table["raw"] - table["chern"]))


def test_predict_refuses_a_lattice_too_large_for_memory_before_reading_it(model, tmp_path):
    """A 16384x16384 lattice in a sparse file (no disk, no values): the estimate is refused in
    one line before the lattice is read, and nothing is written."""
    path, base, rg = model
    n = 16384
    with open(tmp_path / "huge.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (n, n, 3)})
        f.truncate(f.tell() + n * n * 3 * 4)
    code, out, err = rgtopo_cli("predict", tmp_path / "huge.npy", "--model", path,
                                "--out", tmp_path / "p.csv", "--max-memory-gb", 8)
    assert code == 2 and out == "" and not (tmp_path / "p.csv").exists()
    estimate = chain.memory_gb(n, 1, base, rg)
    assert err == (f"rgtopo predict: error: network evaluation of 1 lattice(s) of {n}x{n} needs "
                   f"an estimated {estimate:.1f} GB, above the limit of 8.0 GB\n")
    assert estimate > 8


def test_the_memory_estimate_bounds_the_measured_peak(tmp_path):
    """One 1024x1024 lattice through the shipped bundle: the growth of resident memory stays
    below ``chain.memory_gb``, and not by a factor that would refuse lattices that fit."""
    script = tmp_path / "peak.py"
    script.write_text(
        "import resource, numpy as np, rgtopo\n"
        "from rgtopo.nn import chain\n"
        "b = rgtopo.load_bundle()\n"
        "b.predict(np.ones((1, 8, 8, 3)))\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "b.predict(np.ones((1, 1024, 1024, 3)))\n"
        "grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 / 1e9\n"
        "print(grown, chain.memory_gb(1024, 1, b.base, b.rg))\n")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=ENV,
                       timeout=300)
    grown, estimate = map(float, p.stdout.split())
    assert 0.5 * estimate < grown < estimate, (grown, estimate)


def test_a_bundle_refuses_a_call_above_its_memory_limit(model):
    path, base, rg = model
    loaded = rgtopo.load_bundle(path)
    need = loaded.check_memory(64, 256, max_memory_gb=100)
    assert need == pytest.approx(chain.memory_gb(64, 64, base, rg))
    with pytest.raises(rgtopo.MemoryLimitError, match="64 lattice\\(s\\) of 64x64 needs an estimated"):
        loaded.predict(np.ones((64, 64, 64, 3)), max_memory_gb=need / 2)


def test_predict_h5_output_names_the_model(model, data, tmp_path):
    path, base, rg = model
    d, lat, _ = data
    code, out, err = rgtopo_cli("predict", d / "shard.h5", "--model", path, "--out",
                                tmp_path / "p.h5")
    assert (code, out) == (0, "")
    assert re.fullmatch(r"\[[0-9:]{8}\] warning: this bundle's card records no test accuracy at "
                        r"8x8: its predictions there are unvalidated\n", err), err  # no metrics
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert sorted(f) == ["chern", "distance_to_integer", "in_training_range", "index", "raw"]
        np.testing.assert_allclose(f["raw"][...], rgtopo.predict_chern(lat, base, rg),
                                   rtol=1e-5, atol=1e-6)
        assert f.attrs["model"] == str(path.resolve())


def test_export_bundle_command_writes_a_loadable_bundle(model, tmp_path):
    path, base, rg = model
    (tmp_path / "cfg.yaml").write_text("seed: 3\nrg_network: {width: 2}\n")
    (tmp_path / "acc.json").write_text(json.dumps({"base_4x4": {"measured_percent": 50.0}}))
    code, _, err = rgtopo_cli("export-bundle", "--base", path / "base_network.keras", "--rg",
                              path / "rg_network.keras", "--metrics", tmp_path / "acc.json",
                              "--config", tmp_path / "cfg.yaml", "--out", tmp_path / "b")
    assert code == 0, err
    card = rgtopo.load_bundle(tmp_path / "b").card
    assert card["config"] == {"seed": 3, "rg_network": {"width": 2}}
    assert card["accuracy"] == {"base_4x4": {"measured_percent": 50.0}}


def test_export_bundle_records_the_size_study_in_an_existing_card(model, tmp_path):
    from rgtopo.evaluation.size_study import RECORD_KEYS

    path, _, _ = model
    bundle = tmp_path / "b"
    shutil.copytree(path, bundle)
    before = json.loads((bundle / "card.json").read_text())
    row = {k: 1 for k in RECORD_KEYS} | {"convention": "strong", "size": 64,
                                         "stronger_baseline": "clean formula",
                                         "certified_stronger_baseline": "clean formula",
                                         "certified_percent": 99.0}
    pd.DataFrame([row]).to_csv(tmp_path / "acc.csv", index=False)
    code, _, err = rgtopo_cli("export-bundle", "--size-study", tmp_path / "acc.csv",
                              "--out", bundle)
    assert code == 0, err
    card = json.loads((bundle / "card.json").read_text())
    assert {k: v for k, v in card.items() if k != "accuracy_by_size"} == before
    assert card["accuracy_by_size"]["rows"] == [row]
    assert rgtopo.load_bundle(bundle).accuracy_caveat(64) is None
    code, _, err = rgtopo_cli("export-bundle", "--base", path / "base_network.keras",
                              "--out", tmp_path / "c")
    assert code == 2 and "--base and --rg go together" in err


def write_bad(d, model):
    """Bad inputs as the commands meet them; returns {case: (command args, expected message)}.

    Every kind of unreadable or malformed file is tested on the reader itself
    (tests/test_lattice_io.py); here, that both commands turn the reader's
    errors, and their own, into one line.
    """
    np.save(d / "rank5.npy", np.zeros((1, 1, 4, 4, 3)))
    nan = np.zeros((3000, 4, 4, 3))
    nan[2500, 1, 2, 0] = np.nan
    np.save(d / "nan.npy", nan)
    inf = np.zeros((3, 4, 4, 3))
    inf[1, 0, 0, 2] = np.inf
    np.savez(d / "inf.npz", lattices=inf)
    np.save(d / "twelve.npy", np.zeros((2, 12, 12, 3)))
    np.save(d / "good.npy", np.zeros((2, 4, 4, 3)))
    np.savez(d / "two.npz", a=np.zeros((2, 4, 4, 3)), b=np.zeros(3))
    with h5py.File(d / "mine.h5", "w") as f:
        f["lattices"] = np.zeros((2, 4, 4, 3))
    (d / "text.npy").write_text("mu t Delta\n")
    return {
        "missing": (["chern", d / "nowhere.npy"], "no such file"),
        "rank 5": (["predict", d / "rank5.npy"], r"got shape \(1, 1, 4, 4, 3\)"),
        "nan": (["chern", d / "nan.npy", "--out", d / "out.csv"], "lattice 2500 contains NaN"),
        "inf": (["predict", d / "inf.npz", "--model", model], "lattice 1 contains NaN or inf"),
        "unreachable size": (["predict", d / "twelve.npy"],
                             "twelve.npy: lattice size 12 cannot be reached .* nearest valid "
                             "sizes: 8 or 16"),
        "out is input": (["chern", d / "mine.h5", "--out", d / "mine.h5"],
                         "mine.h5: is the input file"),
        "directory": (["chern", d], "is a directory, not a lattice file"),
        "not npy": (["chern", d / "text.npy"], r"text.npy: not a .npy file \(no NumPy header\)"),
        "bundle file": (["predict", d / "good.npy", "--model", model / "card.json"],
                        "is a file; a model bundle is the directory"),
        "unknown key": (["predict", d / "two.npz", "--key", "c"], "no array 'c'; available: a, b"),
        "no bundle": (["predict", d / "good.npy", "--model", d], "not a model bundle"),
        "bad output": (["chern", d / "good.npy", "--out", d / "o.txt"], "unknown output format"),
        "no out dir": (["chern", d / "good.npy", "--out", d / "no/o.csv"], "does not exist"),
        "threads": (["chern", d / "good.npy", "--threads", "0"], "--threads must be >= 1"),
    }


@pytest.fixture(scope="module")
def bad(tmp_path_factory, model):
    d = tmp_path_factory.mktemp("bad")
    (d / "out.csv").write_text("previous results\n")
    return d, write_bad(d, model[0])


CASES = ["missing", "rank 5", "nan", "inf", "unreachable size", "unknown key", "no bundle",
         "bad output", "no out dir", "threads", "out is input", "directory", "not npy",
         "bundle file"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_exit_status_2(bad, case):
    d, cases = bad
    args, message = cases[case]
    code, out, err = rgtopo_cli(*args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"rgtopo {args[0]}: error: ")
    assert re.search(message, lines[0]), lines[0]


def test_failed_run_leaves_no_partial_output(bad):
    d, cases = bad
    rgtopo_cli(*cases["nan"][0])
    assert (d / "out.csv").read_text() == "previous results\n"
    rgtopo_cli(*cases["out is input"][0])
    with h5py.File(d / "mine.h5", "r") as f:
        assert list(f) == ["lattices"]
    assert not [p for p in d.iterdir() if p.name.startswith(".")]


def test_incompatible_bundle_version(model, tmp_path, bad):
    path, _, _ = model
    old = tmp_path / "future"
    old.mkdir()
    for p in path.iterdir():
        (old / p.name).write_bytes(p.read_bytes())
    card = json.loads((old / "card.json").read_text())
    card.update(format_version=3, rgtopo_version="9.0")
    (old / "card.json").write_text(json.dumps(card))
    code, _, err = rgtopo_cli("predict", bad[0] / "good.npy", "--model", old)
    assert code == 2
    assert err.strip() == (f"rgtopo predict: error: {old}: bundle format version 3 (made by "
                           f"rgtopo 9.0) is incompatible with rgtopo {rgtopo.__version__}, "
                           "which reads versions 1, 2")


def test_predict_without_a_default_bundle_says_so(bad, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bundle_mod, "DEFAULT_BUNDLE", tmp_path / "default_bundle")
    assert main(["predict", str(bad[0] / "good.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rgtopo predict: error: no default model bundle installed")
    assert "\n" not in err


def test_lattices_outside_the_training_range_are_flagged_and_counted(tmp_path):
    """The shipped bundle, a lattice with |Delta| = 0.5 (trained on 0.1-0.2): a warning line on
    stderr, and 0 in the in_training_range column; the in-range ones get 1."""
    lat = lattices(np.random.default_rng(3), 4, 3)
    lat[1, ..., 2] = 0.5
    np.save(tmp_path / "x.npy", lat)
    code, _, err = rgtopo_cli("predict", tmp_path / "x.npy", "--out", tmp_path / "p.csv")
    assert code == 0
    assert re.search(r"warning: 1 of 3 lattices have averages outside the networks' training "
                     r"range \(mu in \[-4, 4\], t_minus in \[-2, 2\], \|Delta\| in \[0.1, 0.2\]\)",
                     err), err
    assert pd.read_csv(tmp_path / "p.csv")["in_training_range"].tolist() == [1, 0, 1]


def test_predict_warns_where_the_card_gives_no_reason_to_trust_the_chain(tmp_path):
    """The shipped card's size study measured 64x64, where the chain is not above the clean
    formula on the certified lattices: a warning line says so, and the predictions are still
    written."""
    np.save(tmp_path / "x.npy", lattices(np.random.default_rng(5), 64, 2))
    code, _, err = rgtopo_cli("predict", tmp_path / "x.npy", "--out", tmp_path / "p.csv")
    assert code == 0
    assert "warning: at 64x64 this bundle is not above the strongest no-network baseline" in err
    assert "the card's size study" in err, err
    assert len(pd.read_csv(tmp_path / "p.csv")) == 2


def test_interrupt_is_one_line_and_exit_130(monkeypatch, capsys, bad):
    from rgtopo import cli

    def interrupted(a):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_chern", interrupted)
    assert main(["chern", str(bad[0] / "good.npy")]) == 130
    assert capsys.readouterr().err == "rgtopo chern: interrupted\n"


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`rgtopo chern x.npy | head -1`: the reader leaves early; no traceback on stderr."""
    np.save(tmp_path / "x.npy", lattices(np.random.default_rng(4), 4, 4000))
    p = subprocess.run(f"{sys.executable} -m rgtopo chern {tmp_path / 'x.npy'} | head -1",
                       shell=True, capture_output=True, text=True, env=ENV, timeout=300)
    assert p.stdout == ",".join(["index", *COLUMNS]) + "\n"
    assert p.stderr == ""


def test_help_lists_only_the_user_commands_and_the_steps_have_their_own():
    """``rgtopo`` offers the user's commands; the workflow's steps are ``python -m rgtopo.workflow.steps``."""
    code, out, _ = rgtopo_cli("--help")
    assert code == 0
    listed = [line.split()[0] for line in out.split("COMMAND\n", 2)[-1].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed == ["chern", "predict", "export-bundle"] and "train-base" not in out
    # written for a user: what each command does, no reST markup, no word about its own module
    assert out.splitlines()[2].startswith("Chern numbers of disordered p+ip lattices")
    assert "``" not in out and "command line" not in out
    code, out, _ = rgtopo_cli("--version")
    assert code == 0 and out == f"rgtopo {rgtopo.__version__}\n"
    code, _, err = rgtopo_cli("train-base", "--help")
    assert code == 2 and "invalid choice: 'train-base'" in err
    p = subprocess.run([sys.executable, "-m", "rgtopo.workflow.steps", "--help"], capture_output=True,
                       text=True, env=ENV, timeout=300)
    assert p.returncode == 0 and "train-base" in p.stdout and "chern," not in p.stdout


def test_two_commands_writing_the_same_output_never_interleave(tmp_path):
    """Outputs are written under a temporary name and renamed whole: two `rgtopo chern --out
    SAME` at once leave one complete table, exactly what either alone writes."""
    rng = np.random.default_rng(8)
    for name in ("a", "b"):
        np.save(tmp_path / f"{name}.npy", lattices(rng, 4, 3000))
    alone = {}
    for name in ("a", "b"):
        code, _, err = rgtopo_cli("chern", tmp_path / f"{name}.npy", "--out",
                                  tmp_path / f"{name}.csv")
        assert code == 0, err
        alone[name] = (tmp_path / f"{name}.csv").read_bytes()
    assert alone["a"] != alone["b"]
    for _ in range(3):
        procs = [subprocess.Popen([sys.executable, "-m", "rgtopo", "chern",
                                   str(tmp_path / f"{name}.npy"), "--out",
                                   str(tmp_path / "same.csv")], env=ENV,
                                  stderr=subprocess.PIPE) for name in ("a", "b")]
        assert all(p.wait(timeout=300) == 0 for p in procs)
        assert (tmp_path / "same.csv").read_bytes() in alone.values()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.npy", "b.csv", "b.npy",
                                                          "same.csv"]  # no temporary left
