"""Where a run's results came from: code version, packages, TensorFlow device, host, config.

The report carries this record so that a figure or accuracy can be traced to the exact
checkout, library versions and configuration that produced it.
"""

from __future__ import annotations

import datetime
import html
import json
import platform
import re
import socket
import subprocess
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import __version__, io

UNKNOWN = "unknown"

# Distributions that provide each package (TensorFlow ships under several names).
PACKAGES = {
    "numpy": ("numpy",),
    "scipy": ("scipy",),
    "numba": ("numba",),
    "h5py": ("h5py",),
    "pandas": ("pandas",),
    "matplotlib": ("matplotlib",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly"),
    "keras": ("keras",),
    "scikit-learn": ("scikit-learn",),
    "snakemake": ("snakemake",),
}
DEVICE_LINE = re.compile(r"TensorFlow devices: (.*)$", re.M)


def package_version(dists: Sequence[str]) -> str:
    """Installed version of the first distribution found, or 'not installed'."""
    for dist in dists:
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "not installed"


def git_state(repo) -> dict:
    """{'commit', 'dirty'} of the checkout at repo; 'unknown' outside git or without git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=60, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": UNKNOWN, "dirty": UNKNOWN}
    return {"commit": commit, "dirty": dirty}


def training_devices(logs: Sequence) -> dict:
    """{log name: device line} from the 'TensorFlow devices:' line of each job log there is."""
    found = {}
    for log in logs:
        path = Path(log)
        if not path.is_file():
            continue
        lines = DEVICE_LINE.findall(path.read_text(errors="replace"))
        if lines:
            found[path.stem] = lines[-1].strip()
    return found


def queried_device() -> str:
    """What TensorFlow sees in this process, for runs whose logs name no device."""
    from .devices import device_summary  # lazy: imports TensorFlow

    return device_summary()


def collect(config: Mapping, *, repo, logs: Sequence = (), config_files: Sequence = (),
            snakemake_version: str | None = None) -> dict:
    """The provenance record of a run: JSON-able, config included as used."""
    packages = {name: package_version(dists) for name, dists in PACKAGES.items()}
    if snakemake_version:
        packages["snakemake"] = snakemake_version
    devices = training_devices(logs)
    source = "training job logs"
    if not devices:
        devices, source = {"provenance job": queried_device()}, "queried by the provenance job"
    git = git_state(repo)
    return {
        "rgtopo": __version__,
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "python": platform.python_version(),
        "packages": packages,
        "tensorflow_devices": devices,
        "tensorflow_devices_source": source,
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config_files": [str(f) for f in config_files],
        "config": json.loads(json.dumps(config)),
    }


def rows(record: Mapping) -> list[tuple[str, str]]:
    """(key, value) rows of the record, nested keys dotted, for the human-readable table."""
    out = []

    def walk(prefix, value):
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out.append((prefix, value if isinstance(value, str) else json.dumps(value)))

    walk("", {k: v for k, v in record.items() if k != "config"})
    return out


def to_html(record: Mapping) -> str:
    """A self-contained page (the report shows HTML inline): the table, then the config."""
    body = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                     for k, v in rows(record))
    config = html.escape(json.dumps(record["config"], indent=2, sort_keys=True))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Run provenance</title>"
        "<style>body{font-family:sans-serif}th{text-align:left;padding-right:1em}"
        "td,th{border-bottom:1px solid #ddd;vertical-align:top}</style></head><body>\n"
        "<h2>Run provenance</h2>\n<table>\n" + body + "\n</table>\n"
        "<h2>Configuration as used</h2>\n<pre>" + config + "</pre>\n</body></html>\n"
    )


def write(record: Mapping, json_out, html_out) -> None:
    """provenance.json (machine-readable) and provenance.html (shown in the report)."""
    io.write_text(json_out, json.dumps(record, indent=2) + "\n")
    io.write_text(html_out, to_html(record))
