"""Hamiltonian files for ``rgtopo chern --hamiltonian``: one system per file, .npz or HDF5.

The format (docs/usage.md, "Hamiltonian files"), the same names in both containers:

- ``H``: the n x n Hermitian matrix, either dense (an (n, n) array) or sparse CSR as
  ``H_data``, ``H_indices``, ``H_indptr``, ``H_shape`` (.npz) or a group ``H`` with
  datasets ``data``, ``indices``, ``indptr``, ``shape`` (HDF5). ``scipy.sparse.save_npz``
  files (``data``, ``indices``, ``indptr``, ``shape``, ``format``) hold no positions,
  so they are not accepted alone.
- ``positions``: (n, 2), one row per basis state.
- ``period`` (optional): (Lx, Ly), a torus; absent, an open flake.
- ``fermi_energy`` (optional): a scalar, 0 when absent.

``write_hamiltonian`` writes it; ``read_hamiltonian`` checks it and returns what
``hamiltonian_chern`` takes. Every problem is one ``InputError`` line.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, RgtopoError
from ..io import atomic_h5, atomic_path
from ..physics.system import Model, as_system

SUFFIXES = (".npz", ".h5", ".hdf5")
_CSR = ("data", "indices", "indptr", "shape")


class HamiltonianFile(NamedTuple):
    """A read file: the model (H, positions, period) and its Fermi energy."""

    model: Model
    fermi_energy: float


def _check_path(path: Path) -> str:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a Hamiltonian file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown format {suffix!r} for a Hamiltonian; use "
                         f"{', '.join(SUFFIXES)}")
    return suffix


def _matrix(path: Path, get, has) -> sp.csr_matrix | np.ndarray:
    if has("H") and not all(has(f"H_{k}") for k in _CSR):
        value = get("H")
        if isinstance(value, dict):
            missing = [k for k in _CSR if k not in value]
            if missing:
                raise InputError(f"{path}: group H lacks {missing[0]!r} (a sparse H needs "
                                 f"{', '.join(_CSR)})")
            parts = value
        else:
            return np.asarray(value)
    elif all(has(f"H_{k}") for k in _CSR):
        parts = {k: get(f"H_{k}") for k in _CSR}
    else:
        raise InputError(f"{path}: no Hamiltonian: expected H (dense) or H_data, H_indices, "
                         "H_indptr, H_shape (sparse CSR)")
    for key in ("indices", "indptr", "shape"):
        if np.asarray(parts[key]).dtype.kind not in "iu":
            raise InputError(f"{path}: H {key} must be integers, got {np.asarray(parts[key]).dtype}")
    try:
        shape = tuple(int(v) for v in np.asarray(parts["shape"]).ravel())
        matrix = sp.csr_matrix((np.asarray(parts["data"]), np.asarray(parts["indices"]),
                                np.asarray(parts["indptr"])), shape=shape)
        matrix.check_format(full_check=True)
        return matrix
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: H is not a valid CSR matrix ({exc})") from None


def read_hamiltonian(path) -> HamiltonianFile:
    """One system from a .npz or HDF5 file (module doc), checked."""
    path = Path(path)
    suffix = _check_path(path)
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                values = {k: f[k] for k in f.files}
        else:
            import h5py  # lazy: HDF5 only for HDF5 files

            values = {}
            with h5py.File(path, "r") as f:
                for key, item in f.items():
                    if not isinstance(item, h5py.Group):
                        values[key] = item[()]
                        continue
                    nested = [k for k in item if not isinstance(item[k], h5py.Dataset)]
                    if nested:
                        raise InputError(f"{path}: {key}/{nested[0]} is a group; expected "
                                         "datasets data, indices, indptr, shape")
                    values[key] = {k: item[k][()] for k in item}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path}: not a readable {suffix} file ({exc})") from None
    h = _matrix(path, values.get, values.__contains__)
    if "positions" not in values:
        raise InputError(f"{path}: no positions (an (n, 2) array, one row per basis state)")
    period = values.get("period")
    fermi = values.get("fermi_energy", 0.0)
    try:
        fermi = float(np.asarray(fermi).reshape(()))
        system = as_system(h, values["positions"],
                           period=None if period is None else np.asarray(period),
                           fermi_energy=fermi, name=str(path))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, RgtopoError):
            raise InputError(str(exc)) from None
        raise InputError(f"{path}: {exc}") from None
    return HamiltonianFile(Model(system.hamiltonian, system.positions, system.period),
                           system.fermi_energy)


def write_hamiltonian(path, hamiltonian, positions, *, period=None,
                      fermi_energy: float = 0.0) -> Path:
    """Write one system (checked first) as sparse CSR in .npz or HDF5, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown format {suffix!r} for a Hamiltonian; use "
                         f"{', '.join(SUFFIXES)}")
    system = as_system(hamiltonian, positions, period=period, fermi_energy=fermi_energy)
    h = system.hamiltonian
    csr = {"data": h.data, "indices": h.indices, "indptr": h.indptr,
           "shape": np.array(h.shape, dtype=np.int64)}
    extra = {"positions": system.positions, "fermi_energy": np.float64(system.fermi_energy)}
    if system.period is not None:
        extra["period"] = np.array(system.period)
    if suffix == ".npz":
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **{f"H_{k}": v for k, v in csr.items()}, **extra)
        return path
    with atomic_h5(path) as f:
        group = f.create_group("H")
        for key, value in csr.items():
            group.create_dataset(key, data=value)
        for key, value in extra.items():
            f.create_dataset(key, data=value)
    return path
