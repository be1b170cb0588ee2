"""Model bundles: the trained base and RG networks with a card that says where they came from.

A bundle is a directory holding

* ``base_network.keras``: the 4x4 base network;
* ``rg_network.keras``: the selected RG network;
* ``card.json``: ``format`` = "rgtopo-bundle", ``format_version``, the
  rgtopo version, date and git commit that made it, the config it was
  trained with, the accuracies (``results/metrics/accuracy.json`` as
  written by the evaluation, paper baselines included), the network widths
  and the numpy / tensorflow / keras versions; optionally ``accuracy_by_size``,
  the size study's accuracy per disorder convention and size
  (``rgtopo.evaluation.size_study.accuracy_record``), which the caveats read first.

One bundle is shipped inside the package (``default_bundle/``) so that
``rgtopo predict`` and ``rgtopo.predict_chern`` work without training.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

import numpy as np

from .. import __version__, io
from ..errors import BundleError, ModelError
from ..physics.lattice import BASE_SIZE, CHANNELS, as_lattice_batch
from ..training.metrics import MAJORITY_CLASS, STATISTICS_BASELINE, chain_key
from ..provenance import PACKAGES, UNKNOWN, git_state, package_version

FORMAT = "rgtopo-bundle"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 2: the base network may be level-conditioned (two inputs)
BASE_FILE = "base_network.keras"
RG_FILE = "rg_network.keras"
CARD_FILE = "card.json"
DEFAULT_BUNDLE = Path(__file__).resolve().parents[1] / "default_bundle"
# The card's sampling keys that bound the lattice averages the networks were trained on.
# The packages a card records (with Python): those the networks and their files depend on.
CARD_PACKAGES = {name: PACKAGES[name] for name in ("numpy", "tensorflow", "keras", "h5py")}
RANGE_KEYS = {"mu": "mu_range", "t_minus": "t_minus_range", "Delta": "delta_range"}


class Bundle:
    """Loaded networks of one bundle; ``predict`` maps lattices of size 4 * 2^k to raw outputs."""

    def __init__(self, path: Path, base, rg, card: dict):
        self.path, self.base, self.rg, self.card = path, base, rg, card

    def __repr__(self) -> str:
        return (f"Bundle({str(self.path)!r}, rgtopo {self.card.get('rgtopo_version')}, "
                f"commit {str(self.card.get('git_commit'))[:10]})")

    def batch_size(self, size: int, batch_size: int = 256) -> int:
        """Lattices per network call at linear size N: at most ``batch_size``, bounded memory."""
        from ..nn.chain import lattices_per_call  # lazy: TensorFlow only once networks run

        return lattices_per_call(size, batch_size)

    def check_memory(self, size: int, batch_size: int = 256,
                     max_memory_gb: float | None = None) -> float:
        """Estimated GB of one network call at linear size N, or MemoryLimitError above
        ``max_memory_gb`` (default: the memory available now): asked before a lattice is read."""
        from ..nn.chain import check_memory  # lazy: TensorFlow only once networks run

        return check_memory(size, self.batch_size(size, batch_size), self.base, self.rg,
                            max_memory_gb)

    def predict(self, lattices, batch_size: int = 256,
                max_memory_gb: float | None = None) -> np.ndarray:
        """Real-valued network output (B,) for lattices (N, N, 3) or (B, N, N, 3), N = 4 * 2^k.

        The scalar head's value, or for a class head the expected Chern number.

        Round to get the predicted Chern number; the distance to the nearest
        integer is a confidence one can filter on. A lattice whose network call would exceed
        ``max_memory_gb`` (default: the memory available now) is refused before it runs.
        """
        from ..nn.chain import predict_bounded  # lazy: TensorFlow only once networks run

        return predict_bounded(lattices, self.base, self.rg, batch_size, max_memory_gb)

    def with_rg_network(self, path) -> Bundle:
        """This bundle's base network behind another RG network (one trained on further, as
        the size study's own run is), checked as ``load_bundle`` checks its own."""
        from ..nn.saving import load_model  # lazy: TensorFlow only once networks run

        try:
            rg = load_model(path)
        except ModelError as exc:
            raise BundleError(f"{path}: {exc}") from None
        try:
            _check_networks(self.path, self.base, rg, self.card)
        except BundleError:
            raise BundleError(f"{path}: not an RG network (lattices of any size with 3 "
                              "channels in and out)") from None
        return Bundle(self.path, self.base, rg, self.card)

    def training_range(self) -> dict | None:
        """{channel: [low, high]} of the lattice averages the networks were trained on (the
        card's sampling config), or None for a card without a config."""
        sampling = (self.card.get("config") or {}).get("sampling") or {}
        found = {ch: list(sampling[key]) for ch, key in RANGE_KEYS.items() if key in sampling}
        return found or None

    def training_range_text(self) -> str:
        found = self.training_range()
        if found is None:
            return "not recorded in the bundle card"
        return ", ".join(f"{'|Delta|' if ch == 'Delta' else ch} in [{lo:g}, {hi:g}]"
                         for ch, (lo, hi) in found.items())

    def accuracy_caveat(self, size: int) -> str | None:
        """One line for the user where the card gives no reason to trust the chain at linear size
        N, or None. The size study's record (``accuracy_by_size``) is read first: at a size it
        measured, the chain must beat the strongest no-network baseline (``metrics``: clean
        formula, majority class, statistics baseline where the card records it) on the
        certified lattices of every convention. Elsewhere the evaluation's record: no test
        accuracy there, or one not above the strongest baseline on the same test lattices."""
        n = int(size)
        rows = [r for r in (self.card.get("accuracy_by_size") or {}).get("rows", [])
                if r.get("size") == n and r.get("certified_lattices")]
        if rows:
            return _size_study_caveat(n, rows)
        row = (self.card.get("accuracy") or {}).get(chain_key(n))
        if not row or row.get("measured_percent") is None:
            return (f"this bundle's card records no test accuracy at {n}x{n}: its predictions "
                    "there are unvalidated")
        measured, baseline = row["measured_percent"], row.get("stronger_baseline_percent")
        if baseline is None or measured > baseline:
            return None
        return (f"at {n}x{n} this bundle scored {measured:.2f} % on its {int(row['test_lattices'])} "
                f"test lattices, not above the {_baseline_name(row['stronger_baseline'], row.get('majority_label'))}: "
                f"{baseline:.2f} % on the same lattices")

    def in_training_range(self, lattices) -> np.ndarray:
        """Per lattice, whether its averages (|Delta|: ``predict`` uses Delta -> -Delta, an exact
        symmetry) lie in ``training_range``; all True when the card records none."""
        means = as_lattice_batch(lattices).mean(axis=(1, 2))
        means[:, 2] = np.abs(means[:, 2])
        ok = np.ones(len(means), bool)
        for ch, (lo, hi) in (self.training_range() or {}).items():
            column = means[:, CHANNELS.index(ch)]
            ok &= (column >= lo) & (column <= hi)
        return ok


def _baseline_name(name: str, majority_label) -> str:
    if name == MAJORITY_CLASS:
        return f"{name} (always answering {majority_label if majority_label is not None else 0})"
    if name == STATISTICS_BASELINE:
        return f"{name} (trees on the lattice's disorder statistics, nothing positional)"
    return f"{name} (the clean phase diagram at the lattice-averaged mu and t_minus)"


def _size_study_caveat(n: int, rows: list) -> str | None:
    """The caveat of the size study's rows at one size: each convention where the chain is not
    above the strongest baseline on the certified lattices."""
    failed = [r for r in rows if r.get("certified_percent") is None
              or r["certified_percent"] <= (r.get("certified_stronger_baseline_percent") or 0.0)]
    if not failed:
        return None
    parts = [f"{r['certified_percent']:.1f} % on {int(r['certified_lattices'])} certified "
             f"lattices of the {r['convention']} disorder convention, against "
             f"{r['certified_stronger_baseline_percent']:.1f} % for the "
             f"{r['certified_stronger_baseline']}" for r in failed]
    return (f"at {n}x{n} this bundle is not above the strongest no-network baseline: "
            + "; ".join(parts) + " (the card's size study)")


def _network_info(model, file: str, kind: str) -> dict:
    """The card's record of one network: its file, size and shape, as the module that builds
    that architecture reads it."""
    from ..nn import rg as rg_module  # lazy: TensorFlow only once networks run
    from ..nn.chain import base_levels  # lazy: as above
    from ..nn.registry import describe_base  # lazy: as above

    info = {"file": file, "parameters": int(model.count_params())}
    if kind == "base":
        info.update(describe_base(model))
        if base_levels(model) > 1:  # a level-conditioned base network
            info["levels"] = base_levels(model)
    else:
        info.update(rg_module.describe(model))
    return info


def export_bundle(base, rg, out, *, metrics=None, config: Mapping | None = None,
                  git_dir=None, accuracy_by_size: Mapping | None = None) -> Path:
    """Write a bundle directory ``out`` from saved (or in-memory) base and RG networks.

    base, rg: paths of saved networks or Keras models; metrics: accuracy JSON
    (a path or a dict), stored as-is; config: the config the networks were
    trained with; accuracy_by_size: the size study's record
    (``rgtopo.evaluation.size_study.accuracy_record``). Written to a temporary directory and
    renamed, so ``out`` is either the old bundle or the complete new one.
    """
    from ..nn.saving import load_model  # lazy: TensorFlow only once networks run

    base = load_model(base) if isinstance(base, (str, os.PathLike)) else base
    rg = load_model(rg) if isinstance(rg, (str, os.PathLike)) else rg
    if isinstance(metrics, (str, os.PathLike)):
        try:
            metrics = json.loads(Path(metrics).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise BundleError(f"{metrics}: not a readable accuracy JSON ({exc})") from None
    git = git_state(git_dir or Path.cwd())
    commit, dirty = (None, None) if git["commit"] == UNKNOWN else (git["commit"], git["dirty"])
    card = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "rgtopo_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": dirty,
        "networks": {"base": _network_info(base, BASE_FILE, "base"),
                     "rg": _network_info(rg, RG_FILE, "rg")},
        "accuracy": metrics,
        "config": dict(config) if config is not None else None,
        "packages": {"python": platform.python_version(),
                     **{name: package_version(dists) for name, dists in CARD_PACKAGES.items()}},
    }
    if accuracy_by_size is not None:
        card["accuracy_by_size"] = dict(accuracy_by_size)
    out = Path(out)
    with io.atomic_dir(out) as tmp:
        base.save(tmp / BASE_FILE)
        rg.save(tmp / RG_FILE)
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    return out


def record_size_study(path, accuracy_by_size: Mapping) -> Path:
    """Set the ``accuracy_by_size`` record of an existing bundle's card, every other field
    kept (a bundle measured after it was made, such as the shipped one)."""
    path = Path(path)
    card = read_card(path)
    card["accuracy_by_size"] = dict(accuracy_by_size)
    io.write_text(path / CARD_FILE, json.dumps(card, indent=2, sort_keys=False) + "\n")
    return path / CARD_FILE


def read_card(path) -> dict:
    """The card of bundle ``path``, checked for format and version compatibility."""
    path = Path(path)
    if path.is_file():
        raise BundleError(f"{path}: is a file; a model bundle is the directory holding {CARD_FILE}")
    if not path.is_dir():
        raise BundleError(f"{path}: no such model bundle (expected a directory with {CARD_FILE})")
    try:
        card = json.loads((path / CARD_FILE).read_text())
    except FileNotFoundError:
        raise BundleError(f"{path}: not a model bundle ({CARD_FILE} missing)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: unreadable {CARD_FILE} ({exc})") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise BundleError(f"{path}: {CARD_FILE} is not an rgtopo bundle card")
    made = card.get("format_version")
    if made not in READABLE_VERSIONS:
        raise BundleError(
            f"{path}: bundle format version {made} (made by rgtopo {card.get('rgtopo_version')}) "
            f"is incompatible with rgtopo {__version__}, which reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    _check_card_fields(path, card)
    keras_made = str(card.get("packages", {}).get("keras", "3")).split(".")[0]
    keras_here = version("keras").split(".")[0]
    if keras_made != keras_here:
        raise BundleError(f"{path}: saved with keras {card['packages']['keras']}, "
                          f"incompatible with the installed keras {version('keras')}")
    return card


def _kind(value, kinds) -> bool:
    """isinstance for a card's JSON values: a number is an int or float but never a bool."""
    if value is None:
        return type(None) in kinds
    if isinstance(value, bool):
        return bool in kinds
    return isinstance(value, tuple(k for k in kinds if k is not bool))


_NUMBER = (int, float, type(None))
# The card fields a reader uses, with the JSON types it expects (None: may be null).
_CARD_FIELDS = {"networks": (dict,), "accuracy": (dict, type(None)),
                "config": (dict, type(None)), "packages": (dict,),
                "accuracy_by_size": (dict, type(None))}
_ROW_FIELDS = {"measured_percent": _NUMBER, "stronger_baseline_percent": _NUMBER,
               "test_lattices": _NUMBER, "stronger_baseline": (str, type(None)),
               "size": (int,), "lattices": _NUMBER, "certified_lattices": _NUMBER,
               "certified_percent": _NUMBER, "certified_stronger_baseline_percent": _NUMBER}


def _check_card_fields(path, card: dict) -> None:
    """The fields that predict's caveats and checks read have the types they expect; a card
    with wrong types or values is refused with one line naming the field."""
    def refuse(field, value):
        raise BundleError(f"{path}: {CARD_FILE} field {field} has an unexpected value {value!r}")

    for field, kinds in _CARD_FIELDS.items():
        if field in card and not _kind(card[field], kinds):
            refuse(field, card[field])
    rows = [(f"accuracy.{k}", r) for k, r in (card.get("accuracy") or {}).items()]
    by_size = card.get("accuracy_by_size") or {}
    if not isinstance(by_size.get("rows", []), list):
        refuse("accuracy_by_size.rows", by_size["rows"])
    rows += [(f"accuracy_by_size.rows[{i}]", r) for i, r in enumerate(by_size.get("rows", []))]
    for where, row in rows:
        if not isinstance(row, dict):
            refuse(where, row)
        for key, kinds in _ROW_FIELDS.items():
            value = row.get(key)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if key in row and (not _kind(value, kinds) or (number and not 0 <= value < 1e12)):
                refuse(f"{where}.{key}", value)
    base = (card.get("networks") or {}).get("base", {})
    if not isinstance(base, dict):
        refuse("networks.base", base)
    levels = base.get("levels", 1)
    if not _kind(levels, (int,)) or levels < 1:
        refuse("networks.base.levels", levels)
    sampling = (card.get("config") or {}).get("sampling") or {}
    if not isinstance(sampling, dict):
        refuse("config.sampling", sampling)
    for key in RANGE_KEYS.values():
        value = sampling.get(key, [0, 1])
        if not (isinstance(value, list) and len(value) == 2
                and all(_kind(v, (int, float)) for v in value)):
            refuse(f"config.sampling.{key}", value)


_CACHE: dict = {}


def load_bundle(path=None) -> Bundle:
    """Load a bundle directory; None loads the bundle shipped with the package.

    Loaded bundles are cached per directory and card, so repeated
    ``rgtopo.predict_chern`` calls do not reload the networks.
    """
    if path is None:
        if not (DEFAULT_BUNDLE / CARD_FILE).is_file():
            raise BundleError(
                f"no default model bundle installed (no {CARD_FILE} in {DEFAULT_BUNDLE}); pass "
                "a bundle directory (--model, or rgtopo.load_bundle(path))"
            )
        path = DEFAULT_BUNDLE
    path = Path(path)
    card = read_card(path)
    key = (str(path.resolve()), (path / CARD_FILE).stat().st_mtime_ns)
    if key not in _CACHE:
        from ..nn.saving import load_model  # lazy: a cached bundle and read_card need no TensorFlow

        try:
            base, rg = load_model(path / BASE_FILE), load_model(path / RG_FILE)
        except ModelError as exc:
            raise BundleError(f"{path}: {exc}") from None
        _check_networks(path, base, rg, card)
        _CACHE[key] = Bundle(path, base, rg, card)
    return _CACHE[key]


def _check_networks(path, base, rg, card: dict) -> None:
    """The two files are a base network (4x4 lattices in) and an RG network (any 2N x 2N
    lattice in, N x N out), with the levels the card records: not swapped, not foreign."""
    from ..nn.chain import base_levels  # lazy: TensorFlow only once networks run

    shape, lattice = tuple(base.inputs[0].shape[1:]), (BASE_SIZE, BASE_SIZE, len(CHANNELS))
    if shape != lattice:
        raise BundleError(f"{path}: {BASE_FILE} takes input {shape}, not 4x4 lattices {lattice}"
                          f"; is it the base network?")
    channels = len(CHANNELS)
    if len(rg.inputs) != 1 or rg.inputs[0].shape[-1] != channels \
            or rg.outputs[0].shape[-1] != channels \
            or rg.inputs[0].shape[1] is not None:
        raise BundleError(f"{path}: {RG_FILE} is not an RG network (lattices of any size with "
                          f"3 channels in and out)")
    recorded = (card.get("networks") or {}).get("base", {}).get("levels", 1)
    if base_levels(base) != recorded:
        raise BundleError(f"{path}: {BASE_FILE} has {base_levels(base)} level(s), the card "
                          f"records {recorded}")
