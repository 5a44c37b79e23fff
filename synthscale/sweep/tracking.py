"""MLflow: one parent run per sweep, one child run per fit, tagged with its grid key.

The driver creates the parent; each Ray trial logs its own batch of child runs from its
worker (in parallel, and straight to a remote server on a cluster). We never trust memory
for exactness: a trial first looks up the grid keys its batch already has under the parent,
so a retried trial cannot log a fit twice; a run cut short before it finished is replaced.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthscale.diagnostics import PER_COLUMN_PREFIX, POOL_METRICS
from synthscale.errors import SynthscaleError

log = logging.getLogger(__name__)

GRID_KEY_TAG = "synthscale.grid_key"
BATCH_TAG = "synthscale.batch"
SWEEP_TAG = "synthscale.sweep"
OUT_DIR_TAG = "synthscale.out_dir"
PARENT_TAG = "mlflow.parentRunId"
SEARCH_PAGE_SIZE = 1000
LOG_BATCH_LIMIT = 1000  # MLflow accepts at most 1000 metrics per log_batch call
# results.csv columns logged as params (what the fit is); every other number is a metric.
PARAM_COLUMNS = (
    "dataset",
    "task",
    "experiment",
    "method",
    "classifier",
    "seed",
    "ratio",
    "n_aug",
    "n_train",
    "n_real",
    "n_synthetic",
    "data_access",
    "pool",
)


def use_write_ahead_log(uri: str) -> None:
    """Trial workers write the sweep's own sqlite store at the same time: in WAL mode readers
    do not block the writer and a commit appends to a log (measured with two workers: a child
    run took 21 ms in the default journal mode, 16 ms in WAL). The mode is kept in the file.
    Only for the store a sweep creates on its local disk (WAL needs shared memory, not NFS)."""
    import sqlite3

    path = uri.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


TRACKING_PROBE_SECONDS = 5  # an unreachable server fails the sweep within this, not after retries


def check_tracking_server(uri: str | None) -> None:
    """A remote tracking server must answer before any trial starts (its /health endpoint);
    MLflow's own client would retry for minutes first."""
    if uri is None or not uri.startswith(("http://", "https://")):
        return
    import requests

    try:
        response = requests.get(f"{uri.rstrip('/')}/health", timeout=TRACKING_PROBE_SECONDS)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise SynthscaleError(
            f"tracking.uri: MLflow server {uri} did not answer within {TRACKING_PROBE_SECONDS} s "
            f"({type(exc).__name__}); start it (mlflow server --host 0.0.0.0 --port 5000 ...) "
            "or leave tracking.uri empty for a local sqlite store"
        ) from exc


@dataclass(frozen=True)
class TrackingRef:
    """What a worker needs to log under the sweep's parent run (small, picklable)."""

    uri: str
    experiment_name: str
    parent_id: str


_WORKER_TRACKERS: dict[TrackingRef, SweepTracker] = {}


def tracker_for(ref: TrackingRef) -> SweepTracker:
    """One client per worker process and sweep: connecting costs more than a batch of runs."""
    if ref not in _WORKER_TRACKERS:
        tracker = SweepTracker(ref.uri, ref.experiment_name)
        tracker.parent_id = ref.parent_id
        _WORKER_TRACKERS[ref] = tracker
    return _WORKER_TRACKERS[ref]


class SweepTracker:
    """Creates the parent run and logs batches of fits as child runs."""

    def __init__(self, uri: str, experiment_name: str, artifact_location: str | None = None) -> None:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # offline clusters; less overhead
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        try:
            experiment = self.client.get_experiment_by_name(experiment_name)
            self.experiment_id = (
                experiment.experiment_id
                if experiment is not None
                else self.client.create_experiment(experiment_name, artifact_location=artifact_location)
            )
        except (MlflowException, OSError) as exc:
            raise SynthscaleError(
                f"tracking.uri: cannot reach MLflow at {uri!r} ({exc}); start the server or "
                "leave tracking.uri empty for a local sqlite store"
            ) from exc
        self.experiment_name = experiment_name
        self.parent_id: str | None = None

    def start_parent(
        self, sweep_name: str, params: dict[str, Any], artifacts: list[Path], out_dir: Path | None = None
    ) -> str:
        tags = {SWEEP_TAG: sweep_name}
        if out_dir is not None:  # how `synthscale fit` finds this sweep's parent again
            tags[OUT_DIR_TAG] = str(out_dir.resolve())
        run = self.client.create_run(self.experiment_id, run_name=sweep_name, tags=tags)
        self.parent_id = run.info.run_id
        self._log_params(self.parent_id, params)
        for path in artifacts:
            self.client.log_artifact(self.parent_id, str(path))
        return self.parent_id

    def reference(self) -> TrackingRef:
        assert self.parent_id is not None
        return TrackingRef(self.uri, self.experiment_name, self.parent_id)

    def child_runs(self, batch_id: str | None = None) -> list[Any]:
        """Child runs under the parent, for the whole sweep or one batch."""
        query = f"tags.`{PARENT_TAG}` = '{self.parent_id}'"
        if batch_id is not None:
            query += f" and tags.`{BATCH_TAG}` = '{batch_id}'"
        runs, token = [], None
        while True:  # page through: a paper grid has thousands of fits
            page = self.client.search_runs(
                [self.experiment_id], filter_string=query, max_results=SEARCH_PAGE_SIZE, page_token=token
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def logged_keys(self, batch_id: str | None = None) -> list[str]:
        """Grid keys of finished child runs (a repeated key would show up twice)."""
        return [r.data.tags[GRID_KEY_TAG] for r in self.child_runs(batch_id) if r.info.status == "FINISHED"]

    def log_fits(self, batch_id: str, records: list[dict[str, Any]]) -> int:
        """One child run per record whose grid key is not logged yet; returns how many."""
        from mlflow.entities import Metric, Param

        done = set()
        for run in self.child_runs(batch_id):
            if run.info.status == "FINISHED":
                done.add(run.data.tags[GRID_KEY_TAG])
            else:  # its worker died between creating and finishing it
                self.client.delete_run(run.info.run_id)
        created = 0
        for record in records:
            key = record["grid_key"]
            if key in done:
                continue
            tags = {PARENT_TAG: self.parent_id, GRID_KEY_TAG: key, BATCH_TAG: batch_id}
            run = self.client.create_run(self.experiment_id, tags=tags, run_name=key)
            now = int(time.time() * 1000)
            params = [Param(name, str(record[name])) for name in PARAM_COLUMNS if name in record]
            metrics = [
                Metric(name, float(value), now, 0)
                for name, value in record.items()
                if name not in PARAM_COLUMNS and isinstance(value, (int, float))
            ]
            self.client.log_batch(run.info.run_id, metrics=metrics, params=params)
            self.client.set_terminated(run.info.run_id)
            done.add(key)
            created += 1
        return created

    def log_parent_metrics(self, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        entries = [Metric(name, float(value), now, 0) for name, value in metrics.items()]
        for start in range(0, len(entries), LOG_BATCH_LIMIT):
            self.client.log_batch(self.parent_id, metrics=entries[start : start + LOG_BATCH_LIMIT])

    def attach_to_finished_sweep(self, out_dir: Path) -> bool:
        """Point at the latest finished parent run of the sweep written to `out_dir`."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{OUT_DIR_TAG}` = '{out_dir.resolve()}' and attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        self.parent_id = runs[0].info.run_id if runs else None
        return self.parent_id is not None

    def resume_parent(self, out_dir: Path) -> str:
        """Attach to the latest unfinished parent run of the sweep in `out_dir` and mark it
        running again (a killed driver leaves it RUNNING; a caught error, FAILED)."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{OUT_DIR_TAG}` = '{out_dir.resolve()}' and attributes.status != 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not runs:
            raise SynthscaleError(
                f"--resume {out_dir}: no unfinished sweep run for this directory in MLflow at {self.uri}; "
                "pass the same --tracking-uri as the interrupted run"
            )
        self.parent_id = runs[0].info.run_id
        self.client.update_run(self.parent_id, status="RUNNING")
        return self.parent_id

    def log_parent_artifacts(self, paths: list[Path], folder: str) -> None:
        for path in paths:
            self.client.log_artifact(self.parent_id, str(path), artifact_path=folder)

    def finish_parent(self, status: str, artifacts: list[Path]) -> None:
        assert self.parent_id is not None
        for path in artifacts:
            self.client.log_artifact(self.parent_id, str(path))
        self.client.set_terminated(self.parent_id, status=status)

    def _log_params(self, run_id: str, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        self.client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])


def parent_pool_metrics(diagnostics: pd.DataFrame, access_in_name: bool = False) -> dict[str, float]:
    """Each pool's diagnostics per target, as metrics of the sweep's parent run; the data
    access is part of the name when the sweep lists several, as in the grid keys."""
    metrics = {}
    for row in diagnostics.to_dict("records"):
        sampler = f"{row['sampler']}/access_{row['data_access']}" if access_in_name else row["sampler"]
        prefix = f"pool/{row['dataset']}/{row['task']}/{sampler}/seed{row['seed']}/{row['target']}"
        names = [m for m in row if m in POOL_METRICS or str(m).startswith(PER_COLUMN_PREFIX)]
        metrics.update({f"{prefix}/{m}": row[m] for m in names if pd.notna(row[m])})
    return metrics
