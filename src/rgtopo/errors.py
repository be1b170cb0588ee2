"""Error types: each names the problem in one line, so the command line can print it and exit."""


class RgtopoError(ValueError):
    """Base of every error the package raises on bad input, data or configuration."""


class LatticeError(RgtopoError):
    """An array that is not a valid lattice or batch of lattices."""


class SpecError(RgtopoError):
    """A dataset or training specification that cannot be used."""


class ShardError(RgtopoError):
    """A file that is not a readable rgtopo shard, model or checkpoint."""


class InputError(RgtopoError):
    """A user's lattice file (or its --key) that cannot be read as lattices."""


class BundleError(RgtopoError):
    """A model bundle that is missing, incomplete or from an incompatible version."""


KNOWN_ERRORS = (RgtopoError, FileNotFoundError)


class DeviceError(RgtopoError):
    """No GPU where the configuration requires one."""
