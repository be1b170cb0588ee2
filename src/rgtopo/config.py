"""Config presets as overlays: a preset names its ``base`` file and holds only what differs.

``overlay(base, preset)`` merges mappings key by key (the preset's values
win; a key set to null is removed, e.g. a dataset the preset does not want);
any other value, lists included, is replaced whole. ``base`` paths are
relative to the repository. The workflow resolves the config this way before
validating it, so ``--configfile config/paper.yaml`` gives config.yaml with
paper.yaml's changes; a config without ``base`` is used as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from .errors import SpecError

BASE_KEY = "base"


def overlay(base: Mapping, preset: Mapping) -> dict:
    """base with preset's values merged in (recursively for mappings; null removes a key)."""
    out = dict(base)
    for key, value in preset.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = overlay(out[key], value)
        else:
            out[key] = value
    return out


def resolve(config: Mapping, root, seen: tuple = ()) -> dict:
    """The full config: ``config`` overlaid on its ``base`` chain (paths relative to root)."""
    config = dict(config)
    base = config.pop(BASE_KEY, None)
    if base is None:
        return config
    path = Path(root) / base
    if path in seen:
        raise SpecError(f"config base chain returns to {path}")
    try:
        parent = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"base config {path}: not a readable YAML file ({exc})") from None
    return overlay(resolve(parent, root, (*seen, path)), config)


def load_config(path, root) -> dict:
    """Read a config file and resolve its base chain."""
    return resolve(yaml.safe_load(Path(path).read_text()), root)

