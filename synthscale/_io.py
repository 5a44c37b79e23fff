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
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


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
