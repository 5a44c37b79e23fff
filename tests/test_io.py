"""Atomic writes: readers never see half a file, and the file gets the user's umask. Cache
entries: checksummed directories, and a cache root that says once when its entries are of
another version."""

from __future__ import annotations

import logging
import os
import stat

import pandas as pd
import pytest

from synthscale import _io
from synthscale._io import (
    atomic_write,
    check_cache_version,
    mark_cache_version,
    read_checksummed_entry,
    write_checksummed_entry,
    write_csv_atomic,
)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_an_atomic_write_gets_the_umask_not_mkstemps_0600(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        write_csv_atomic(pd.DataFrame({"a": [1]}), tmp_path / "results.csv")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "results.csv").stat().st_mode) == mode


def test_a_failed_write_leaves_neither_the_file_nor_its_temp(tmp_path):
    with pytest.raises(RuntimeError), atomic_write(tmp_path / "x.json") as handle:
        handle.write("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def fill_with(payload: bytes):
    def fill(partial):
        (partial / "payload.bin").write_bytes(payload)
        return {"what": "test"}

    return fill


def test_a_checksummed_entry_reads_back_and_a_damaged_one_is_removed_with_the_reason(tmp_path, caplog):
    entry = tmp_path / "key"
    write_checksummed_entry(entry, "payload.bin", "record.json", 3, fill_with(b"rows"))
    assert [p.name for p in tmp_path.iterdir()] == ["key"]
    record = read_checksummed_entry(entry, "payload.bin", "record.json", 3)
    assert record["what"] == "test" and record["cache_version"] == 3
    (entry / "payload.bin").write_bytes(b"rowz")
    with caplog.at_level(logging.WARNING):
        assert read_checksummed_entry(entry, "payload.bin", "record.json", 3) is None
    assert "checksum does not match" in caplog.text and not entry.exists()
    assert read_checksummed_entry(entry, "payload.bin", "record.json", 3) is None  # no entry: quiet


def test_an_entry_of_another_cache_version_is_not_read(tmp_path, caplog):
    entry = tmp_path / "key"
    write_checksummed_entry(entry, "payload.bin", "record.json", 1, fill_with(b"rows"))
    with caplog.at_level(logging.WARNING):
        assert read_checksummed_entry(entry, "payload.bin", "record.json", 2) is None
    assert "cache version 1; this one reads 2" in caplog.text and not entry.exists()


def test_a_failed_fill_leaves_no_partial_directory(tmp_path):
    def fill(partial):
        (partial / "payload.bin").write_bytes(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_checksummed_entry(tmp_path / "key", "payload.bin", "record.json", 1, fill)
    assert list(tmp_path.iterdir()) == []


def test_a_cache_root_of_another_version_says_so_once_and_is_marked(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(_io, "_VERSIONS_CHECKED", set())
    (tmp_path / "old-entry").mkdir()
    with caplog.at_level(logging.WARNING):
        check_cache_version(tmp_path, 2, "trained generators")
        check_cache_version(tmp_path, 2, "trained generators")
    assert len(caplog.records) == 1 and "cache version 1, this one reads 2" in caplog.text
    assert (tmp_path / "CACHE_VERSION").read_text() == "2\n"
    monkeypatch.setattr(_io, "_VERSIONS_CHECKED", set())
    caplog.clear()
    check_cache_version(tmp_path, 2, "trained generators")  # a later process: marked, quiet
    assert caplog.records == []


def test_a_cache_root_not_made_yet_is_left_alone_and_marked_at_its_first_write(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(_io, "_VERSIONS_CHECKED", set())
    with caplog.at_level(logging.WARNING):
        check_cache_version(tmp_path / "models", 2, "trained generators")
    assert caplog.records == [] and not (tmp_path / "models").exists()
    write_checksummed_entry(tmp_path / "models" / "key", "payload.bin", "record.json", 2, fill_with(b"w"))
    mark_cache_version(tmp_path / "models", 2)
    monkeypatch.setattr(_io, "_VERSIONS_CHECKED", set())
    with caplog.at_level(logging.WARNING):
        check_cache_version(tmp_path / "models", 2, "trained generators")
    assert caplog.records == [] and (tmp_path / "models" / "CACHE_VERSION").read_text() == "2\n"
