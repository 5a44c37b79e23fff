"""Resume an interrupted sweep: what finished is on disk, only the rest runs again.

Every trial's records are written by the driver to `<out>/fits/<batch_id>.json` (atomically)
as soon as the trial reports. After a crash, `synthscale run --resume <out>` reads those files,
runs only the batches without one, and attaches to the sweep's unfinished MLflow parent run.
A batch that logged its child runs but whose file was never written runs again; its worker
finds the finished child runs by grid key and logs none twice, so MLflow stays exact.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from synthscale._io import atomic_write
from synthscale.errors import SynthscaleError

log = logging.getLogger(__name__)

FITS_DIR = "fits"


def write_batch_records(out_dir: Path, batch_id: str, records: list[dict[str, Any]]) -> None:
    with atomic_write(out_dir / FITS_DIR / f"{batch_id}.json") as handle:
        json.dump(records, handle)


def read_finished_batches(out_dir: Path, batch_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Records of every batch of this sweep that finished before; unreadable files run again."""
    finished = {}
    for batch_id in batch_ids:
        path = out_dir / FITS_DIR / f"{batch_id}.json"
        if not path.is_file():
            continue
        try:
            finished[batch_id] = json.loads(path.read_text())
        except (OSError, ValueError):
            log.warning("fits file %s is unreadable; its batch runs again", path)
    return finished


def check_resumable(out_dir: Path, config_file: str, results_file: str) -> None:
    """--resume needs the directory of a started, unfinished sweep."""
    if not (out_dir / config_file).is_file():
        raise SynthscaleError(
            f"--resume {out_dir}: no {config_file} there, so no sweep was started in it; "
            "pass the --out directory of the interrupted run"
        )
    if (out_dir / results_file).exists():
        raise SynthscaleError(f"--resume {out_dir}: the sweep already finished ({results_file} exists)")
