"""Hamiltonian files (.npz, HDF5) and `rgtopo chern --hamiltonian`: round trips, the table,
and every bad file as one line on stderr with exit status 2, nothing written."""

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from rgtopo.cli import main
from rgtopo.data.hamiltonian_io import read_hamiltonian, write_hamiltonian
from rgtopo.errors import InputError
from rgtopo.models import haldane, qwz
from rgtopo.physics.system import COLUMNS


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_round_trip_keeps_matrix_positions_period_and_fermi_energy(tmp_path, suffix):
    model = haldane(4, 3, mass=0.2)
    path = write_hamiltonian(tmp_path / f"h{suffix}", model.hamiltonian, model.positions,
                             period=model.period, fermi_energy=0.25)
    back = read_hamiltonian(path)
    assert abs(back.model.hamiltonian - model.hamiltonian).max() == 0
    assert np.array_equal(back.model.positions, model.positions)
    assert back.model.period == model.period and back.fermi_energy == 0.25


def test_dense_h_and_an_open_flake(tmp_path):
    model = qwz(6, 1.0, periodic=False)
    np.savez(tmp_path / "dense.npz", H=model.hamiltonian.toarray(), positions=model.positions)
    back = read_hamiltonian(tmp_path / "dense.npz")
    assert back.model.period is None and back.fermi_energy == 0.0
    assert abs(back.model.hamiltonian - model.hamiltonian).max() < 1e-15


def test_command_line_labels_files_in_order(tmp_path, capsys):
    rng = np.random.default_rng(4)
    files = []
    for i, model in enumerate([qwz(8, 1.0), qwz(8, 3.0), qwz(20, -1.0, disorder=0.5, rng=rng,
                                                              periodic=False)]):
        files.append(write_hamiltonian(tmp_path / f"m{i}.npz", model.hamiltonian,
                                       model.positions, period=model.period))
    out = tmp_path / "labels.csv"
    assert main(["chern", "--hamiltonian", *map(str, files), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["index", "file", *COLUMNS]
    assert list(table.chern) == [-1, 0, 1]
    assert list(table.method) == ["bott", "bott", "localizer"]
    assert table.certified.tolist() == [1, 1, 1]
    h5 = tmp_path / "labels.h5"
    assert main(["chern", "--hamiltonian", str(files[0]), "--out", str(h5),
                 "--method", "localizer"]) == 0
    with h5py.File(h5) as f:
        assert f["chern"][()].tolist() == [-1] and f["method"][0] == b"localizer"


def bad_files(tmp_path):
    model = qwz(4, 1.0)
    h = model.hamiltonian.toarray()
    np.savez(tmp_path / "nopos.npz", H=h)
    np.savez(tmp_path / "noh.npz", positions=model.positions)
    np.savez(tmp_path / "notherm.npz", H=h + np.triu(np.ones_like(h), 1),
             positions=model.positions)
    np.savez(tmp_path / "shape.npz", H=h, positions=model.positions[:5])
    np.savez(tmp_path / "period.npz", H=h, positions=model.positions, period=[4.0])
    np.savez(tmp_path / "csr.npz", H_data=[1.0], H_indices=[7], H_indptr=[0, 1],
             H_shape=[1, 1], positions=[[0.0, 0.0]])
    sp.save_npz(tmp_path / "scipy.npz", sp.csr_matrix(h))
    (tmp_path / "garbage.h5").write_bytes(b"not hdf5")
    (tmp_path / "text.txt").write_text("H")
    with h5py.File(tmp_path / "group.h5", "w") as f:
        f.create_group("H").create_dataset("data", data=[1.0])
        f.create_dataset("positions", data=[[0.0, 0.0]])
    with h5py.File(tmp_path / "nested.h5", "w") as f:
        f.create_group("H").create_group("data")
        f.create_dataset("positions", data=[[0.0, 0.0]])
    np.savez(tmp_path / "floatidx.npz", H_data=[1.0], H_indices=[0.5], H_indptr=[0, 1],
             H_shape=[1, 1], positions=[[0.0, 0.0]])
    return {
        "nopos.npz": "no positions", "noh.npz": "no Hamiltonian",
        "notherm.npz": "not Hermitian", "shape.npz": "positions must be",
        "period.npz": "period must be", "csr.npz": "not a valid CSR",
        "scipy.npz": "no Hamiltonian", "garbage.h5": "not a readable",
        "text.txt": "unknown format", "group.h5": "lacks 'indices'", "missing.npz": "no such file",
        "nested.h5": "is a group", "floatidx.npz": "must be integers",
    }


def test_bad_files_are_one_line_and_exit_2_with_nothing_written(tmp_path, capsys):
    for name, message in bad_files(tmp_path).items():
        with pytest.raises(InputError, match=message):
            read_hamiltonian(tmp_path / name)
        out = tmp_path / "out.csv"
        assert main(["chern", "--hamiltonian", str(tmp_path / name), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("rgtopo chern: error:") and message.split()[0] in err[-1]
        assert not out.exists()


def test_command_line_refuses_ambiguous_or_oversized_requests(tmp_path, capsys):
    model = qwz(32, 1.0)
    path = write_hamiltonian(tmp_path / "q.npz", model.hamiltonian, model.positions,
                             period=model.period)
    assert main(["chern"]) == 2
    assert main(["chern", str(path), "--hamiltonian", str(path)]) == 2
    assert main(["chern", "--hamiltonian", str(path), "--key", "x"]) == 2
    assert main(["chern", "--hamiltonian", str(path), "--max-memory-gb", "-1"]) == 2
    assert main(["chern", "--hamiltonian", str(path), "--method", "localizer",
                 "--max-memory-gb", "0.001"]) == 2
    err = capsys.readouterr().err
    assert "not both or neither" in err and "--key applies" in err
    assert "needs about" in err and "max_memory_gb = 0.001" in err
