"""Error types: each names the problem in one line, so the command line can print it and exit.

Every error the package raises for a known failure derives from ``RgtopoError``
(itself a ``ValueError``, so callers that catch ``ValueError`` keep working);
``rgtopo.cli.main`` turns any of them into one line on stderr and exit status 2.
"""


class RgtopoError(ValueError):
    """Base of every error the package raises on bad input, data or configuration."""


class LatticeError(RgtopoError):
    """An array that is not a valid lattice or batch of lattices."""


class SpecError(RgtopoError):
    """A dataset, training or command specification that cannot be used."""


class MemoryLimitError(SpecError):
    """A factorization or a network call whose estimated memory exceeds max_memory_gb."""


class SolverError(RgtopoError):
    """A sparse factorization that failed, or a factor used after it was released."""


class ShardError(RgtopoError):
    """A file that is not a readable rgtopo dataset shard."""


class ModelError(RgtopoError):
    """A saved network or training checkpoint that is missing or cannot be loaded."""


class InputError(RgtopoError):
    """A user's lattice file (or its --key) that cannot be read as lattices."""


class BundleError(RgtopoError):
    """A model bundle that is missing, incomplete or from an incompatible version."""


class DeviceError(RgtopoError):
    """No GPU where the configuration requires one."""


class WriteError(RgtopoError):
    """An output that cannot be written (missing directory, permissions, full disk)."""


KNOWN_ERRORS = (RgtopoError, FileNotFoundError)
