"""Atomic writes and content hashes, shared by every stage that writes or caches."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from synthscale.errors import SynthscaleError

log = logging.getLogger(__name__)
CACHE_VERSION_FILE = "CACHE_VERSION"
_VERSIONS_CHECKED: set[Path] = set()  # cache roots this process has checked


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


def write_checksummed_entry(
    entry: Path, payload: str, record_file: str, version: int, fill: Callable[[Path], dict[str, Any]]
) -> None:
    """Write a cache entry so that a reader sees all of it or nothing: `fill` writes the entry's
    files into a partial directory and returns its record; the record gets the cache's version
    and the checksum of the `payload` file, then the directory is renamed into place."""
    partial = entry.with_name(f"{entry.name}.partial-{uuid.uuid4().hex}")
    partial.mkdir(parents=True)
    try:
        record = {**fill(partial), "cache_version": version, "sha256": file_sha256(partial / payload)}
        with atomic_write(partial / record_file) as handle:
            json.dump(record, handle, indent=2)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    publish_directory(partial, entry)


def read_checksummed_entry(
    entry: Path, payload: str, record_file: str, version: int
) -> dict[str, Any] | None:
    """The entry's record; None when there is no entry, or (removed, with a warning that says
    why, so that the caller rebuilds it) when it is incomplete, fails its checksum or was
    written in another version of the cache's format."""
    if not entry.exists():
        return None
    try:
        record = json.loads((entry / record_file).read_text())
        found = record.get("cache_version", 1)
        if found != version:
            why = f"was written by another synthscale (cache version {found}; this one reads {version})"
        elif record["sha256"] != file_sha256(entry / payload):
            why = "is corrupt (its checksum does not match)"
        else:
            return record
    except (OSError, ValueError, KeyError, AttributeError):
        why = "is incomplete or corrupt"
    discard_entry(entry, why)
    return None


def discard_entry(entry: Path, why: str) -> None:
    """Remove a cache entry that cannot be used, saying why; the caller rebuilds it."""
    log.warning("cache entry %s %s; rebuilding it", entry, why)
    shutil.rmtree(entry, ignore_errors=True)


def check_cache_version(root: Path, version: int, what: str) -> None:
    """A cache whose keys carry its format's version never reads an older synthscale's entries:
    say so once per process when the root holds entries without this version's mark, then mark
    it. A root that does not exist yet is left alone (`mark_cache_version` marks it at the first
    write)."""
    root = root.expanduser()
    if root in _VERSIONS_CHECKED or not root.is_dir():
        return
    _VERSIONS_CHECKED.add(root)
    marker = root / CACHE_VERSION_FILE
    try:
        found = marker.read_text().strip() if marker.exists() else None
        if found == str(version):
            return
        if any(p.name != CACHE_VERSION_FILE for p in root.iterdir()):
            log.warning(
                "the %s in %s were written by another synthscale (cache version %s, this one reads %d): "
                "each is rebuilt once, when a sweep needs it (nothing written before is read: delete the "
                "directory's old entries to free their space)",
                what, root, found or "1", version,
            )  # fmt: skip
    except OSError as error:  # an unreadable root fails later, where its entries are read
        log.debug("could not check the cache version of %s: %s", root, error)
        return
    mark_cache_version(root, version)


def mark_cache_version(root: Path, version: int) -> None:
    """Record the cache format's version in its root, once it holds entries of that version."""
    marker = root.expanduser() / CACHE_VERSION_FILE
    try:
        if not marker.exists() or marker.read_text().strip() != str(version):
            with atomic_write(marker) as handle:
                handle.write(f"{version}\n")
    except OSError as error:  # a read-only cache still serves its entries
        log.debug("could not mark %s with its cache version: %s", marker.parent, error)


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
