"""RG-inspired neural networks for Chern numbers of disordered p+ip lattices (PRB 105, 205139),
and certified Chern numbers of any 2D lattice Hamiltonian (``hamiltonian_chern``).

Top-level names load lazily, so ``import rgtopo`` is quick and TensorFlow is
imported only by the names that need it (``predict_chern``, ``load_bundle``, ...).
"""

import os
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

# TensorFlow 2.21's oneDNN CPU kernels crashed the process (segmentation fault) in Keras training
# of the RG network on an AVX512-BF16 CPU once other models had run in the same process
# (tests/test_nn.py, 2026-12-02); TensorFlow's own kernels do not. This must be set before
# TensorFlow is imported, so it is set here; a caller's own setting wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

try:
    __version__ = version("rgtopo")
except PackageNotFoundError:
    __version__ = "0+unknown"

_EXPORTS = {
    "ChernResult": "physics.chern",
    "chern_numbers": "physics.chern",
    "hamiltonian_chern": "physics.hamiltonian",
    "MemoryLimitError": "errors",
    "LatticeError": "errors",
    "RgtopoError": "errors",
    "load_bundle": "evaluation.bundle",
    "export_bundle": "evaluation.bundle",
    "LatticeFile": "data.lattice_io",
    "as_lattice_batch": "physics.lattice",
    "bdg_hamiltonian": "physics.lattice",
    "clean_lattice": "physics.lattice",
    "boundary_distance": "physics.phase_diagram",
    "clean_chern_number": "physics.phase_diagram",
    "sample_lattices": "physics.sampling",
    "predict_chern": "evaluation.inference",
    "load_model": "nn.saving",
}

__all__ = ["__version__", *_EXPORTS]


_SUBMODULES = ("models",)  # reachable as rgtopo.models without an import of their own


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'rgtopo' has no attribute {name!r}")
