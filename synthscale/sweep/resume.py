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
from typing import Any

from synthscale._io import atomic_write
from synthscale.sweep.layout import OutDir

log = logging.getLogger(__name__)


def write_batch_records(out: OutDir, batch_id: str, records: list[dict[str, Any]]) -> None:
    with atomic_write(out.fit_record(batch_id)) as handle:
        json.dump(records, handle)


def read_finished_batches(out: OutDir, batch_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Records of every batch of this sweep that finished before; unreadable files run again."""
    finished = {}
    for batch_id in batch_ids:
        path = out.fit_record(batch_id)
        if not path.is_file():
            continue
        try:
            finished[batch_id] = json.loads(path.read_text())
        except (OSError, ValueError):
            log.warning("fits file %s is unreadable; its batch runs again", path)
    return finished
