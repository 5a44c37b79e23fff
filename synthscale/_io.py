"""Atomic writes and content hashes, shared by every stage that writes or caches."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from synthscale.errors import SynthscaleError


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temp file beside `path`, fsync, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~current_umask())  # mkstemp's 0600 would hide it
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def current_umask() -> int:
    """The process umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame as CSV without ever leaving a partial file at `path`."""
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False)


def hash_json(value: Any) -> str:
    """sha256 of canonical JSON: the same settings always give the same key."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def hash_frame(frame: pd.DataFrame) -> str:
    """sha256 over a table's values, index and column names."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """Checksum of a cached file, recorded at write and verified on read."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def publish_directory(partial: Path, entry: Path) -> None:
    """Rename a completed `partial` directory to `entry`. When another process published the
    same content-addressed entry first, theirs is equivalent: keep it, drop ours."""
    try:
        partial.rename(entry)
    except OSError:
        shutil.rmtree(partial)
        if not entry.exists():
            raise


def check_output_dir(path: str | Path, flag: str) -> Path:
    """An output directory must be one we can create or write in; checked before the work
    that fills it, so a bad -o does not cost a fit or a training run."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SynthscaleError(f"{flag} {path}: is a file, not a directory; pass a directory")
    check_writable_dir(path, flag)
    return path


def check_output_file(path: str | Path, flag: str, example: str = "rows.csv") -> Path:
    """An output file must not be a directory, and its directory must be writable."""
    path = Path(path)
    if path.is_dir():
        raise SynthscaleError(f"{flag} {path}: is a directory; pass a file path, e.g. {path / example}")
    check_writable_dir(path.parent, flag)
    return path


def check_writable_dir(directory: Path, flag: str) -> None:
    """`directory`, or the nearest of its parents that exists, must be a directory we can write in."""
    existing = next((p for p in [directory, *directory.parents] if p.exists()), Path("."))
    if existing.is_file():
        raise SynthscaleError(f"{flag} {directory}: {existing} is a file, not a directory; pass another path")
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise SynthscaleError(
            f"{flag} {directory}: {existing} is not a writable directory; pass another path"
        )


def why_not_a_file(path: Path) -> str:
    """Why `path` cannot be read as a file, in the words of the fix: a folder, a link to
    nothing (or to itself), or nothing there."""
    if path.is_dir():
        return "is a directory, not a file"
    if path.is_symlink():
        return "is a symbolic link that leads to no file (a loop, or its target is gone)"
    return "not found"


def read_csv_input(path: str | Path, flag: str, what: str, **read_options: Any) -> pd.DataFrame:
    """Read a CSV a user passed, with one error per way it can be unreadable, each naming the
    file and the fix: missing, a directory, empty, not text, not a table."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise SynthscaleError(f"{flag} {path}: is a directory; pass {what}")
    if not path.is_file():
        raise SynthscaleError(f"{flag} {str(path)!r} {why_not_a_file(path)}; pass {what}")
    if path.stat().st_size == 0:
        raise SynthscaleError(f"{flag} {path.name}: the file is empty; pass {what}")
    try:
        return pd.read_csv(path, **read_options)
    except UnicodeDecodeError as exc:
        raise SynthscaleError(
            f"{flag} {path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}); pass {what} "
            "(a binary file, or save the CSV as UTF-8)"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise SynthscaleError(f"{flag} {path.name}: holds no table; pass {what}") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        reason = " ".join(str(exc).split())  # pandas' parser messages end in a newline
        raise SynthscaleError(f"{flag} {path.name}: not a readable CSV ({reason}); pass {what}") from exc
