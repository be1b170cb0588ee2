"""Loading saved networks: base, RG and compound, with their custom layers and losses."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras

from ..errors import ModelError
from . import heads, layers  # noqa: F401  (registers the custom objects saved networks name)


def load_model(path, *, compile: bool = False) -> keras.Model:
    """Load a saved base, RG or compound network (no custom_objects needed).

    Keras' safe mode stays on: a file whose config would run code when loaded (a Lambda
    layer's pickled function, an unregistered custom object) is refused with one ModelError,
    so a bundle from someone else cannot run code here."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such saved model or checkpoint")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a saved Keras model (not a .keras zip archive)")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"{path}: not a loadable Keras model ({' '.join(str(exc).split())})"
                         ) from None
