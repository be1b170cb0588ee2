"""Every output is written here: under a temporary name in its own directory, then renamed.

A killed job therefore never leaves a half-written file under an output's
final name (Snakemake, a resumed training run or a user would take it for
complete), and a failed write leaves the previous file as it was. The rename
is atomic because the temporary file lies in the same directory. A write
that fails (missing directory, permissions, full disk) is one ``WriteError``.
Heavy libraries (h5py, matplotlib, Keras) are imported only by the writers
that need them.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import WriteError


def temporary_name(path: Path, suffix: str = "") -> Path:
    """A hidden name beside ``path``, unique to this process (``suffix`` keeps an extension)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}{suffix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        pass
    return True


def clear_stale(path: Path) -> None:
    """Remove the temporaries of ``path`` that a killed writer left (SIGKILL skips every
    ``finally``): hidden siblings ``.<name>.tmp-<pid>...`` or ``.old-<pid>`` whose process is
    gone. A live writer's temporary is left alone."""
    for found in path.parent.glob(f".{glob.escape(path.name)}.*-*"):
        kind, _, rest = found.name[len(path.name) + 2:].partition("-")
        pid = rest.split(".")[0]
        if kind in ("tmp", "old") and pid.isdigit() and not _alive(int(pid)):
            if found.is_dir():
                shutil.rmtree(found, ignore_errors=True)
            else:
                _remove(found)


@contextmanager
def atomic_path(path, *, suffix: str = "", make_parent: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; rename it to ``path`` if the block succeeds.

    suffix: extension the writer needs on the temporary name (Keras wants ``.keras``).
    """
    path = Path(path)
    tmp = temporary_name(path, suffix)
    try:
        if make_parent:
            path.parent.mkdir(parents=True, exist_ok=True)
        clear_stale(path)
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        _remove(tmp)


def _remove(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:  # the directory itself is missing or not a directory: nothing was written
        pass


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path, data, **kw) -> None:
    """JSON of ``data`` (indent 2 unless told otherwise)."""
    write_text(path, json.dumps(data, **{"indent": 2, **kw}))


def write_rows(path, rows: Sequence[Mapping]) -> None:
    """CSV of dict rows; the columns are every key in order of first appearance."""
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def write_frame(path, frame) -> None:
    """CSV of a pandas DataFrame, without its index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


@contextmanager
def atomic_h5(path, *, make_parent: bool = True) -> Iterator:
    """An HDF5 file open for writing, built in memory and written under a temporary name when
    the block succeeds, then renamed.

    In memory, because HDF5 reports a failed write (a full disk) only when the file is flushed,
    as a ``RuntimeError`` followed by one report on stderr for every object it cannot free;
    written by Python, the same failure is one ``OSError``, hence one ``WriteError``.
    """
    import h5py  # lazy: HDF5 only for HDF5 outputs

    with atomic_path(path, make_parent=make_parent) as tmp:
        with h5py.File(tmp.name, "w", driver="core", backing_store=False) as f:
            yield f
            f.flush()
            image = f.id.get_file_image()
        tmp.write_bytes(image)


def save_model(model, path) -> None:
    """A Keras model (with its optimizer state) as a ``.keras`` file."""
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)


def save_figure(fig, path, **kw) -> None:
    """A matplotlib figure in the format of path's extension (``savefig`` keywords pass on)."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        fig.savefig(tmp, **kw)


def copy_file(src, dst) -> None:
    """Copy src to dst so that dst is either the old file or the complete copy."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


@contextmanager
def atomic_dir(path) -> Iterator[Path]:
    """A temporary directory to fill; it replaces directory ``path`` whole on success."""
    path = Path(path)
    tmp, old = temporary_name(path), path.with_name(f".{path.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clear_stale(path)
        tmp.mkdir()
        yield tmp
        if path.exists():
            path.rename(old)
        tmp.rename(path)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def file_digest(path) -> str:
    """SHA-256 of a file's bytes, read in 16 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()

