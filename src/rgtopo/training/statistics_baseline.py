"""The statistics baseline: gradient-boosted trees that see how much disorder a lattice has,
never where it sits.

A lattice's label depends on where its disorder sits and, more crudely, on how much of it
there is: a wide mu distribution pushes sites across a phase boundary. This classifier reads
only per-lattice statistics (``lattice_statistics``: per channel the mean, standard deviation,
extremes and quantiles; the clean formula; the fractions of sites in each local clean phase and
off the average's), so a network that beats it on the same lattices has read the configuration.

The trees are scikit-learn's HistGradientBoostingClassifier, one per training size, fitted on
the training shards the networks saw; the leaf count and the number of boosting iterations are
chosen on that size's validation set. A lattice of size N is read by the classifier of the
largest training size <= N (the networks above 8x8 are trained at 8x8 too); with
``pool_above`` a larger lattice is first average-pooled down to that size.
"""

from __future__ import annotations

import io as _io
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from .. import io
from ..errors import ModelError, RgtopoError
from ..physics.lattice import CHANNELS, average_pool
from .metrics import clean_formula
from ..params import StatisticsBaselineParams
from ..physics.phase_diagram import clean_chern_number
from ..data.shards import read_shard

LOCAL_PHASES = (-1, 0, 1)  # the clean phases a site's (mu, t_minus) can sit in
FORMAT = "rgtopo-statistics-baseline"
FORMAT_VERSION = 1


def feature_names(quantiles: Sequence[float]) -> list[str]:
    """The columns of ``lattice_statistics``, in order."""
    per_channel = ["mean", "std", "min", "max", *(f"q{100 * q:g}" for q in quantiles)]
    return ([f"{c}_{s}" for c in CHANNELS for s in per_channel] + ["clean_formula"]
            + [f"sites_phase_{p}" for p in LOCAL_PHASES] + ["sites_off_clean_formula"])


def lattice_statistics(lattices, quantiles: Sequence[float]) -> np.ndarray:
    """(B, F) per-lattice statistics of (B, N, N, 3) lattices: nothing positional.

    Invariant under any permutation of a lattice's sites, so the classifier that reads them
    cannot tell two lattices apart that differ only in where their disorder sits.
    """
    lat = np.asarray(lattices, dtype=np.float64)
    if lat.ndim != 4 or lat.shape[-1] != len(CHANNELS):
        raise RgtopoError(f"expected lattices of shape (B, N, N, 3), got {lat.shape}")
    sites = lat.reshape(lat.shape[0], lat.shape[1] * lat.shape[2], len(CHANNELS))
    columns = []
    q = np.quantile(sites, list(quantiles), axis=1) if len(quantiles) else None
    for c in range(len(CHANNELS)):
        v = sites[..., c]
        columns += [v.mean(axis=1), v.std(axis=1), v.min(axis=1), v.max(axis=1)]
        columns += [q[i, :, c] for i in range(len(quantiles))]
    clean = clean_formula(lat)
    local = clean_chern_number(sites[..., 0], sites[..., 1])
    columns.append(clean.astype(np.float64))
    columns += [(local == p).mean(axis=1) for p in LOCAL_PHASES]
    columns.append((local != clean[:, None]).mean(axis=1))
    return np.stack(columns, axis=1)


def _read(shards: Sequence, limit: int | None, quantiles) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the first ``limit`` lattices of labeled shards (all if None)."""
    features, labels, left = [], [], limit
    for path in shards:
        if left is not None and left <= 0:
            break
        data = read_shard(path, labeled=True)
        x, y = data["lattices"], data["chern"]
        if left is not None:
            x, y, left = x[:left], y[:left], left - min(left, len(y))
        features.append(lattice_statistics(x, quantiles))
        labels.append(np.asarray(y, dtype=np.int64))
    if not features:
        raise RgtopoError("the statistics baseline needs at least one labeled shard per size")
    return np.concatenate(features), np.concatenate(labels)


def _sklearn_version() -> str | None:
    try:
        return version("scikit-learn")
    except PackageNotFoundError:
        return None


def _classifier(params: StatisticsBaselineParams, leaves: int, iterations: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    return HistGradientBoostingClassifier(
        max_iter=iterations, learning_rate=params.learning_rate, max_leaf_nodes=leaves,
        early_stopping=False, random_state=params.seed)


@dataclass(frozen=True)
class StatisticsBaseline:
    """The fitted classifiers, one per training size, and the statistics they read.

    pool_above: whether a lattice larger than the largest training size is first
    average-pooled down to it (2x2 blocks, the decimation the RG network starts as), so that
    under the paper's convention (mu width growing as N) its disorder widths are those the
    trees were fitted on; otherwise its statistics are read as they are.
    """

    classifiers: Mapping[int, object]
    quantiles: tuple[float, ...]
    pool_above: bool = False

    def classifier_for(self, size: int):
        """The classifier of the largest training size <= size."""
        fitted = [n for n in sorted(self.classifiers) if n <= int(size)]
        if not fitted:
            raise ModelError(f"the statistics baseline has no classifier for {size}x{size} "
                             f"lattices (trained at {', '.join(map(str, sorted(self.classifiers)))})")
        return self.classifiers[fitted[-1]]

    def predict(self, lattices) -> np.ndarray:
        """Integer Chern numbers of (B, N, N, 3) lattices."""
        lat = np.asarray(lattices)
        if lat.ndim != 4:
            raise RgtopoError(f"expected lattices of shape (B, N, N, 3), got {lat.shape}")
        if lat.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        classifier = self.classifier_for(lat.shape[1])
        largest = max(self.classifiers)
        if self.pool_above:
            while lat.shape[1] > largest and lat.shape[1] % 2 == 0:
                lat = average_pool(lat)
        features = lattice_statistics(lat, self.quantiles)
        return np.asarray(classifier.predict(features), dtype=np.int64)

    def save(self, path) -> None:
        """One pickle file, written atomically: the workflow's own result, never a user's input."""
        payload = {"format": FORMAT, "format_version": FORMAT_VERSION,
                   "sklearn_version": _sklearn_version(), "quantiles": list(self.quantiles),
                   "pool_above": self.pool_above, "classifiers": dict(self.classifiers)}
        buffer = _io.BytesIO()
        pickle.dump(payload, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        with io.atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())


def load(path) -> StatisticsBaseline:
    """A baseline written by ``StatisticsBaseline.save`` in this workflow (pickle: trusted files
    only); one ModelError for a file that is missing, truncated or of another format."""
    path = Path(path)
    try:
        payload = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        raise ModelError(f"{path}: no statistics baseline there") from None
    except Exception as err:
        raise ModelError(f"{path}: not a readable statistics baseline ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: not a statistics baseline")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: statistics baseline format {payload.get('format_version')}, "
                         f"this package reads {FORMAT_VERSION}")
    fitted_with, here = payload.get("sklearn_version"), _sklearn_version()
    if fitted_with != here:
        raise ModelError(f"{path}: fitted with scikit-learn {fitted_with}, installed {here} "
                         "(a pickle does not carry across versions): fit it again with "
                         "`snakemake statistics_baseline --forcerun fit_statistics_baseline`")
    try:
        baseline = StatisticsBaseline({int(n): c for n, c in payload["classifiers"].items()},
                                      tuple(float(q) for q in payload["quantiles"]),
                                      payload["pool_above"])
        widths = {getattr(c, "n_features_in_", None) for c in baseline.classifiers.values()}
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ModelError(f"{path}: a damaged statistics baseline ({err})") from None
    width = len(feature_names(baseline.quantiles))
    if widths != {width}:
        raise ModelError(f"{path}: a damaged statistics baseline (classifiers of another "
                         f"feature count than {width})")
    return baseline


def _staged_accuracy(classifier, features, labels) -> np.ndarray:
    """Validation accuracy after each boosting iteration (index 0: one iteration)."""
    return np.array([np.mean(p == labels) for p in classifier.staged_predict(features)])


def _importance(classifier, features, labels, names, seed: int, repeats: int) -> list[dict]:
    """Permutation importance on the validation set: accuracy lost when a column is shuffled."""
    from sklearn.inspection import permutation_importance
    result = permutation_importance(classifier, features, labels, n_repeats=repeats,
                                    random_state=seed, scoring="accuracy")
    return [{"feature": name, "importance_mean": float(m), "importance_std": float(s)}
            for name, m, s in zip(names, result.importances_mean, result.importances_std)]


def fit(params: StatisticsBaselineParams | Mapping, train: Mapping[int, Sequence],
        validation: Mapping[int, Sequence], *, threads: int = 1,
        log: Callable[[str], None] = print) -> tuple[StatisticsBaseline, list[dict], list[dict]]:
    """Fit one classifier per training size; choose leaves and iterations on validation.

    train, validation: labeled shard paths per size. Returns the baseline, the selection
    table (validation accuracy of every leaf count at its best iteration, the chosen one
    marked) and the permutation importance of each feature per size.
    """
    from threadpoolctl import threadpool_limits

    params = StatisticsBaselineParams.of(params)
    names = feature_names(params.quantiles)
    classifiers, selection, importance = {}, [], []
    with threadpool_limits(limits=int(threads)):
        for size in sorted(train):
            x, y = _read(train[size], params.max_train_lattices, params.quantiles)
            vx, vy = _read(validation[size], None, params.quantiles)
            log(f"{size}x{size}: {len(y)} training and {len(vy)} validation lattices, "
                f"{len(names)} statistics each")
            best = None
            for leaves in params.max_leaf_nodes:
                clf = _classifier(params, leaves, params.max_iter).fit(x, y)
                staged = _staged_accuracy(clf, vx, vy)
                iterations = int(np.argmax(staged)) + 1
                row = {"size": size, "max_leaf_nodes": leaves, "iterations": iterations,
                       "validation_accuracy": float(staged[iterations - 1]), "selected": 0}
                selection.append(row)
                log(f"{size}x{size}: {leaves} leaves, best validation accuracy "
                    f"{100 * row['validation_accuracy']:.2f} % after {iterations} iterations")
                if best is None or row["validation_accuracy"] > best[0]["validation_accuracy"]:
                    best = (row, clf)
            row, clf = best
            row["selected"] = 1
            if row["iterations"] < params.max_iter:
                clf = _classifier(params, row["max_leaf_nodes"], row["iterations"]).fit(x, y)
            classifiers[size] = clf
            importance += [{"size": size, **r} for r in _importance(
                clf, vx, vy, names, params.seed, params.importance_repeats)]
    baseline = StatisticsBaseline(classifiers, tuple(params.quantiles), params.pool_above)
    return baseline, selection, importance
