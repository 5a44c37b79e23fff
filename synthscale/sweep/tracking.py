"""MLflow: one parent run per sweep, one child run per fit, tagged with its grid key.

The driver creates the parent; each Ray trial logs its own batch of child runs from its
worker (in parallel, and straight to a remote server on a cluster). We never trust memory
for exactness: a trial first looks up the grid keys its batch already has under the parent,
so a retried trial cannot log a fit twice; a run cut short before it finished is replaced.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from synthscale.errors import SynthscaleError

if TYPE_CHECKING:
    from synthscale.sweep.pools import SyntheticPool

log = logging.getLogger(__name__)

GRID_KEY_TAG = "synthscale.grid_key"
BATCH_TAG = "synthscale.batch"
SWEEP_TAG = "synthscale.sweep"
OUT_DIR_TAG = "synthscale.out_dir"
GENERATOR_TAG = "synthscale.generator_model"  # a generator's run: the trained model's cache key
POOLS_TAG = "synthscale.pools"  # ... and the pools made from it
FAILURE_TAG = "synthscale.failure"  # a fit whose sampler could not make its rows: why
MAX_TAG_CHARS = 5000  # MLflow's limit on a tag value
PARAM_VALUE_LIMIT = 6000  # MLflow's longest param value
PARAMS_PER_BATCH = 100  # MLflow's most params per log_batch call
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
    "n_added",
    "data_access",
    "dose",
    "pool",
)


def use_write_ahead_log(uri: str) -> None:
    """Trial workers write the sweep's own sqlite store at the same time: in WAL mode readers
    do not block the writer and a commit appends to a log, so concurrent child runs wait less
    (bench/RESULTS.md, sweep overhead). The mode is kept in the file.
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
        """Grid keys of finished fit runs (a repeated key would show up twice)."""
        return [
            r.data.tags[GRID_KEY_TAG]
            for r in self.child_runs(batch_id)
            if r.info.status == "FINISHED" and GRID_KEY_TAG in r.data.tags
        ]

    def log_fits(self, batch_id: str, records: list[dict[str, Any]]) -> int:
        """One child run per record whose grid key is not logged yet; returns how many."""
        from mlflow.entities import Metric, Param

        done = set()
        for run in self.child_runs(batch_id):
            if GRID_KEY_TAG not in run.data.tags:
                continue  # a generator's run
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
            if record.get("failure"):  # its sampler made no rows (generator.on_failure: record)
                tags[FAILURE_TAG] = record["failure"][:MAX_TAG_CHARS]
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

    def log_generators(self, pools: list[SyntheticPool]) -> int:
        """One child run per trained model the pools came from, with its loss at every training
        step and the pools it made (a resumed sweep logs none twice); returns how many."""
        from mlflow.entities import Metric, Param

        models: dict[str, tuple[dict[str, Any], SyntheticPool, list[str]]] = {}
        for pool in pools:
            if pool.model is not None:
                models.setdefault(pool.model["key"], (pool.model, pool, []))[2].append(pool.key)
        logged = {
            run.data.tags[GENERATOR_TAG]
            for run in self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`{PARENT_TAG}` = '{self.parent_id}' and tags.`{GENERATOR_TAG}` LIKE '%'",
            )
        }
        created = 0
        for key, (model, pool, pool_keys) in models.items():
            if key in logged:
                continue
            spec = pool.spec
            name = f"generator {spec.sampler} {spec.dataset} seed{spec.seed} access={spec.data_access}"
            tags = {PARENT_TAG: self.parent_id, GENERATOR_TAG: key, POOLS_TAG: ",".join(sorted(pool_keys))}
            run = self.client.create_run(self.experiment_id, tags=tags, run_name=name)
            now = int(time.time() * 1000)
            losses = [Metric("loss", float(v), now, step) for step, v in enumerate(model["losses"], start=1)]
            losses += [
                Metric("holdout_loss", float(v), now, int(s)) for s, v in model.get("holdout_losses", [])
            ]
            params = [
                Param(k, str(model.get(k)))
                for k in ("source", "steps", "seconds", "best_step", "column_order", "guidance", "device")
            ]
            params += [
                Param(k, str(v))
                for k, v in (
                    ("sampler", spec.sampler),
                    ("data_access", spec.data_access),
                    ("seed", spec.seed),
                )
            ]
            self.client.log_batch(run.info.run_id, metrics=losses[:LOG_BATCH_LIMIT], params=params)
            for start in range(LOG_BATCH_LIMIT, len(losses), LOG_BATCH_LIMIT):
                self.client.log_batch(run.info.run_id, metrics=losses[start : start + LOG_BATCH_LIMIT])
            self.client.set_terminated(run.info.run_id)
            created += 1
        return created

    def log_table(self, table: pd.DataFrame, artifact_file: str) -> None:
        """A table artifact of the parent run, shown as a table in the MLflow UI."""
        self.client.log_table(self.parent_id, data=table, artifact_file=artifact_file)

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

        entries = [Param(k, str(v)[:PARAM_VALUE_LIMIT]) for k, v in params.items()]
        for start in range(0, len(entries), PARAMS_PER_BATCH):
            self.client.log_batch(run_id, params=entries[start : start + PARAMS_PER_BATCH])


def flat_params(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as dotted keys (`experiment.ratio.ks`), as the MLflow UI lists params."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flat_params(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = (
                json.dumps(value) if isinstance(value, (list, bool)) or value is None else value
            )
    return flat
