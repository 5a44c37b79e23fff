"""Atomic writes: readers never see half a file, and the file gets the user's umask."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from synthscale._io import atomic_write, write_csv_atomic


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
