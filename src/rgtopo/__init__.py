"""RG-inspired neural networks for Chern numbers of disordered p+ip lattices (PRB 105, 205139)."""

from importlib.metadata import PackageNotFoundError, version

from .bott import BottResult, chern_numbers
from .lattice import LatticeError, as_lattice_batch, bdg_hamiltonian, clean_lattice
from .phase_diagram import boundary_distance, clean_chern_number

try:
    __version__ = version("rgtopo")
except PackageNotFoundError:
    __version__ = "0+unknown"

__all__ = [
    "BottResult",
    "LatticeError",
    "__version__",
    "as_lattice_batch",
    "bdg_hamiltonian",
    "boundary_distance",
    "chern_numbers",
    "clean_chern_number",
    "clean_lattice",
]
