"""Run a sweep: plan and validate, build pools once, fit batches as Ray Tune trials, track.

Phase 1 (driver): load and validate everything, so bad input fails before any output;
then build each synthetic pool once. Phase 2 (Ray Tune): each trial fits a batch of grid
points that share a split and pools, logs them as MLflow child runs from its worker, and
reports their records; a driver callback gathers them and advances the progress bar. The
pools' diagnostics are trials too, queued after the batches: they reuse the warm trial
workers instead of starting Ray workers of their own, and fill the last round's idle slots.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import ray
from ray import tune
from tqdm.auto import tqdm

from synthscale._io import write_csv_atomic
from synthscale.config import SweepConfig, load_config, save_config
from synthscale.data.loaders import Dataset
from synthscale.experiments import (
    Point,
    evaluate_point,
    sampler_of,
)
from synthscale.splits import Split
from synthscale.sweep.checks import check_gpu_request, check_tracking_reaches_workers
from synthscale.sweep.connect import connect_ray
from synthscale.sweep.grid import Batch, GridPoint
from synthscale.sweep.layout import OutDir
from synthscale.sweep.plan import (
    POOL_METRICS,
    SweepPlan,
    build_pools,
    parent_pool_metrics,
    plan_sweep,
)
from synthscale.sweep.pools import PoolSpec, diagnose_pool
from synthscale.sweep.resume import read_finished_batches, write_batch_records
from synthscale.sweep.tracking import (
    SweepTracker,
    TrackingRef,
    check_tracking_server,
    tracker_for,
    use_write_ahead_log,
)

log = logging.getLogger(__name__)

RESULT_COLUMNS = [
    "experiment", "task", "dataset", "method", "classifier", "ratio", "n_aug", "seed",
    "minority_ce", "balanced_ce", "worst_group_ce", "overall_ce", "balanced_accuracy", "auc", "brier",
    "n_train", "n_real", "n_synthetic",
]  # fmt: skip


@dataclass(frozen=True)
class SweepInputs:
    """What every trial reads, shipped once through the Ray object store."""

    config: SweepConfig
    datasets: dict[str, Dataset]
    splits: dict[tuple[str, int], Split]  # (dataset, seed)
    pools: dict[tuple[str, str, str, int, str], tuple[str, dict[str, pd.DataFrame], dict]]  # PoolSpec.slot
    batches: dict[str, Batch]
    diagnoses: dict[str, PoolSpec] = field(default_factory=dict)  # trial id -> pool to diagnose


@dataclass(frozen=True)
class SweepResult:
    results: pd.DataFrame
    out_dir: Path
    parent_run_id: str
    tracking_uri: str
    experiment_id: str = ""

    def runs_table_url(self, ui: str = "http://127.0.0.1:5000") -> str:
        """The MLflow UI page of this sweep's runs (MLflow 3 otherwise opens on its GenAI view)."""
        return f"{ui}/#/experiments/{self.experiment_id}/runs"


def fit_batch(batch: Batch, inputs: SweepInputs) -> list[dict[str, Any]]:
    """The work of one trial, callable without Ray: every fit of the batch, as records."""
    config, dataset = inputs.config, inputs.datasets[batch.dataset]
    split = inputs.splits[(batch.dataset, batch.seed)]
    by_point: dict[Point, list[GridPoint]] = {}
    for grid_point in batch.points:
        by_point.setdefault(grid_point.point, []).append(grid_point)
    records = []
    for point, members in by_point.items():
        sampler = sampler_of(point.method)
        slot = (batch.dataset, point.task, sampler, batch.seed, point.data_access)
        # no pool for a sampler that no point asks a row of (k = 0 alone: the balanced seed set)
        pool_key, pools, _ = inputs.pools.get(slot, ("", {}, {})) if sampler else ("", {}, {})
        rows = evaluate_point(
            dataset,
            split,
            point,
            pools,
            config.split.seed_size,
            config.experiment,
            config.downstream,
            [m.classifier for m in members],
            fit_seed=batch.seed,
        )
        for member, row in zip(members, rows, strict=True):
            identity = {
                "experiment": point.experiment,
                "task": point.task,
                "dataset": member.dataset,
                "method": point.method,
                "classifier": member.classifier,
                "seed": member.seed,
                "n_aug_units": point.n_aug_units,  # N as the YAML gives it, in units of s
                "data_access": point.data_access,
                "pool": pool_key,
                "grid_key": member.key,
            }
            records.append({**identity, **row})
    return records


def diagnose_slot(spec: PoolSpec, inputs: SweepInputs) -> list[dict[str, Any]]:
    """The work of a diagnostics trial: one pool's diagnostics, a row per target."""
    key, pools, reports = inputs.pools[spec.slot]
    split = inputs.splits[(spec.dataset, spec.seed)]
    return diagnose_pool(key, spec, pools, inputs.datasets[spec.dataset], split, reports)


def _trainable(trial_config: dict[str, str], inputs: SweepInputs, tracking: TrackingRef) -> None:
    """A Tune trial: fit a batch, log its child runs from this worker, report the records
    (or, for a diagnostics trial, report one pool's diagnostics)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    batch_id = trial_config["batch_id"]
    if batch_id in inputs.diagnoses:
        tune.report({"diagnostics": json.dumps(diagnose_slot(inputs.diagnoses[batch_id], inputs))})
        return
    records = fit_batch(inputs.batches[batch_id], inputs)
    tracker_for(tracking).log_fits(batch_id, records)
    tune.report(
        {
            "records": json.dumps(records),
            "n_fits": len(records),
            "batch_seconds": time.perf_counter() - started,
            "batch_cpu_seconds": time.process_time() - cpu_started,
        }
    )


def run_sweep(
    config: SweepConfig,
    out_dir: str | Path,
    address: str | None = None,
    show_progress: bool = True,
    resume: bool = False,
    overwrite: bool = False,
) -> SweepResult:
    """The whole sweep; writes results.csv, config.resolved.yaml and the MLflow store.

    Everything that can be checked (data, grid, pools' feasibility, output directory, Ray
    address, tracking server) is checked before the first file is written. With `resume`,
    `out_dir` holds an interrupted sweep of this config: only its unfinished batches run. With
    `overwrite`, what a sweep wrote in `out_dir` is removed once every check has passed.
    """
    out = OutDir(Path(out_dir))
    plan = plan_sweep(config)
    if resume:
        out.check_resumable()
    else:
        out.check_new(config, overwrite)
    check_tracking_server(config.tracking.uri)
    started_ray = connect_ray(address, config.resources.num_cpus)
    try:
        check_tracking_reaches_workers(config.tracking.uri, address)
        check_gpu_request(plan)
        if overwrite:
            out.clear()
        return _run_planned(plan, out, show_progress, resume)
    finally:
        if started_ray:
            ray.shutdown()


def resume_sweep(out_dir: str | Path, address: str | None = None, show_progress: bool = True) -> SweepResult:
    """Finish the sweep interrupted in `out_dir`, with the config that started it."""
    out = OutDir(Path(out_dir))
    out.check_resumable()
    return run_sweep(load_config(out.config), out.root, address, show_progress, resume=True)


def _open_tracker(config: SweepConfig, out: OutDir) -> SweepTracker:
    out.root.mkdir(parents=True, exist_ok=True)
    if config.tracking.uri is None:  # the default store lives in the out dir, artifacts beside it
        tracker = SweepTracker(
            out.default_tracking_uri,
            config.tracking.experiment,
            artifact_location=out.artifacts.resolve().as_uri(),
        )
        use_write_ahead_log(tracker.uri)
        return tracker
    return SweepTracker(config.tracking.uri, config.tracking.experiment)


def _run_planned(plan: SweepPlan, out: OutDir, show_progress: bool, resume: bool) -> SweepResult:
    config = plan.config
    tracker = _open_tracker(config, out)
    parent_id = tracker.resume_parent(out.root) if resume else _start_sweep_run(plan, tracker, out)
    try:
        if out.remove_stale_partials():
            log.info("removed half-written pool entries of an earlier run under %s", out.pool_cache)
        pools = build_pools(plan, out.pool_cache, show_progress)
        finished = read_finished_batches(out, [b.batch_id for b in plan.batches])
        pending = [b for b in plan.batches if b.batch_id not in finished]
        records = [record for batch in finished.values() for record in batch]
        diagnoses = {diagnosis_id(s): s for s in plan.pool_specs} if config.generator.diagnostics else {}
        inputs = SweepInputs(
            config, plan.datasets, plan.splits, pools, {b.batch_id: b for b in pending}, diagnoses
        )
        trials_name = f"trials-resume-{int(time.time())}" if resume else "trials"
        collector = run_trials(plan, inputs, tracker, out, show_progress, trials_name)
        records += collector.records
        diagnostics = pd.DataFrame(collector.diagnostics)
        if not diagnostics.empty:  # a retried diagnostics trial may have reported twice
            diagnostics = diagnostics.drop_duplicates(["pool", "target"], ignore_index=True)
        artifacts = [out.results]
        if not diagnostics.empty:
            write_csv_atomic(diagnostics, out.pools_table)
            artifacts.append(out.pools_table)
        if not collector.grid_checked:  # no fits ran (a resume with every batch recorded)
            check_child_runs(tracker, plan.grid)
        results = results_table(records, plan.grid, diagnostics)
        write_csv_atomic(results, out.results)
    except BaseException:
        tracker.finish_parent("FAILED", [])
        raise
    tracker.finish_parent("FINISHED", artifacts)
    return SweepResult(results, out.root, parent_id, tracker.uri, tracker.experiment_id)


def _start_sweep_run(plan: SweepPlan, tracker: SweepTracker, out: OutDir) -> str:
    """Save the config that runs and open the sweep's parent run with it."""
    config = plan.config
    save_config(config, out.config)
    return tracker.start_parent(
        config.name,
        {
            "dataset": ",".join(plan.datasets),
            "n_fits": len(plan.grid),
            "n_trials": len(plan.batches),
            "n_pools": len(plan.pool_specs),
            "n_dropped_missing": sum(d.n_dropped_missing for d in plan.datasets.values()),
            "data_hash": ",".join(d.data_hash for d in plan.datasets.values()),
            "config_hash": config.config_hash(),
        },
        [out.config],
        out.root,
    )


def sweep_tracker_for_results(results_path: Path) -> SweepTracker | None:
    """The MLflow parent run of the sweep that wrote `results_path`, if it can be found:
    the config saved beside it names the store; None for a results file on its own."""
    out = OutDir(results_path.parent)
    if not out.was_started():
        return None
    config = load_config(out.config)
    if config.tracking.uri is None and not out.tracking_db.is_file():
        return None
    tracker = SweepTracker(config.tracking.uri or out.default_tracking_uri, config.tracking.experiment)
    return tracker if tracker.attach_to_finished_sweep(out.root) else None


def check_child_runs(tracker: SweepTracker, grid: list[GridPoint]) -> None:
    """MLflow holds exactly one finished child run per grid point, or the sweep fails."""
    if sorted(tracker.logged_keys()) != sorted(g.key for g in grid):
        raise RuntimeError("MLflow child runs do not match the grid one to one")


def diagnosis_id(spec: PoolSpec) -> str:
    return f"diagnose-{spec.dataset}-{spec.task}-{spec.sampler}-{spec.data_access}-seed{spec.seed}"


def run_trials(
    plan: SweepPlan,
    inputs: SweepInputs,
    tracker: SweepTracker,
    out: OutDir,
    show_progress: bool,
    name: str = "trials",
) -> _TrialCollector:
    """Phase 2: the batches, then the pool diagnostics, as Ray Tune trials; returns the
    collector holding every fit's record and every diagnostics row."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no Tune tables on the console
    # Tune's per-trial result.json/progress.csv would copy every batch's records a second time;
    # fits/, results.csv and MLflow hold them (measured: 0.5 s of driver CPU per quickstart)
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    _quiet_slow_callback_warning()
    _quiet_missing_trial_logs()
    trial_ids = [*inputs.batches, *inputs.diagnoses]
    n_fits = sum(len(b.points) for b in inputs.batches.values())
    bar = tqdm(total=n_fits, desc="fits", unit="fit", disable=not show_progress)
    collector = _TrialCollector(bar, len(trial_ids), out, tracker, plan.grid, list(inputs.batches))
    if not trial_ids:
        bar.close()
        return collector
    try:
        trainable = tune.with_resources(
            tune.with_parameters(_trainable, inputs=inputs, tracking=tracker.reference()),
            {"cpu": plan.config.resources.cpus_per_trial},
        )
        tuner = tune.Tuner(
            trainable,
            param_space={"batch_id": tune.grid_search(trial_ids)},
            tune_config=tune.TuneConfig(reuse_actors=True),
            run_config=tune.RunConfig(
                name=name,
                storage_path=str(out.ray_results.resolve()),
                callbacks=[collector],
                failure_config=tune.FailureConfig(max_failures=plan.config.resources.max_failures),
                verbose=0,
            ),
        )
        grid = tuner.fit()
    finally:
        bar.close()
    if grid.errors:
        raise RuntimeError(f"{len(grid.errors)} trial(s) failed; first error:\n{grid.errors[0]}")
    if collector.grid_error is not None:
        raise collector.grid_error
    return collector


class _MissingTrialLogs(logging.Filter):
    """Tune's result grid looks for the per-trial result files turned off above and warns,
    once per trial, that they are missing: noise, not a problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to fetch metrics")


def _quiet_slow_callback_warning() -> None:
    """The collector writes each batch's records and logs pool metrics as results arrive (up
    to ~1 s): Tune's "may be a performance bottleneck" warning at 0.5 s is noise to the user.
    Tune reads TUNE_WARN_THRESHOLD_S once, at import; a user who set it keeps it."""
    from ray.tune.utils.util import warn_if_slow

    if "TUNE_WARN_THRESHOLD_S" not in os.environ:
        warn_if_slow.DEFAULT_THRESHOLD = 30.0


def _quiet_missing_trial_logs() -> None:
    tune_logger = logging.getLogger("ray.tune.analysis.experiment_analysis")
    if not any(isinstance(f, _MissingTrialLogs) for f in tune_logger.filters):
        tune_logger.addFilter(_MissingTrialLogs())


class _TrialCollector(tune.Callback):
    """Driver-side, as results arrive: gather each batch's records (kept on disk for
    --resume) and advance the bar; log each pool's diagnostics to the parent run; and once
    the last batch has reported, check MLflow against the grid. The last two run while the
    remaining diagnostics trials still work, instead of after them."""

    def __init__(
        self,
        bar: tqdm,
        n_trials: int,
        out: OutDir,
        tracker: SweepTracker,
        grid: list[GridPoint],
        batch_ids: list[str],
    ) -> None:
        self.bar, self.n_trials, self.out = bar, n_trials, out
        self.tracker, self.grid, self.unreported = tracker, grid, set(batch_ids)
        self.access_in_name = any(g.access_in_key for g in grid)  # as in the grid keys
        self.records: list[dict[str, Any]] = []
        self.diagnostics: list[dict[str, Any]] = []
        self.trials_done = 0
        self.grid_checked = False
        self.grid_error: RuntimeError | None = None

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.trials_done += 1
        self.bar.set_postfix_str(f"trials {self.trials_done}/{self.n_trials}")
        if "diagnostics" in result:
            rows = json.loads(result["diagnostics"])
            self.diagnostics.extend(rows)
            self.tracker.log_parent_metrics(parent_pool_metrics(pd.DataFrame(rows), self.access_in_name))
            return
        batch_id = trial.config["batch_id"]
        records = json.loads(result["records"])
        write_batch_records(self.out, batch_id, records)
        log.info("trial %s: %d fits in %.1f s", trial, len(records), result["batch_seconds"])
        self.records.extend(records)
        self.bar.update(len(records))
        self.unreported.discard(batch_id)
        if not self.unreported and not self.grid_checked:
            self.grid_checked = True
            try:
                check_child_runs(self.tracker, self.grid)
            except RuntimeError as exc:  # raised by run_trials once Tune has stopped
                self.grid_error = exc


def results_table(
    records: list[dict[str, Any]], grid: list[GridPoint], diagnostics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per grid point, in grid order (a retried trial's repeat is dropped), with each
    pool's diagnostics averaged over its targets joined on `pool` as `pool_*` columns."""
    by_key = {}
    for record in records:
        by_key.setdefault(record["grid_key"], record)
    missing = [g.key for g in grid if g.key not in by_key]
    if missing:
        raise RuntimeError(f"{len(missing)} fits never reported, e.g. {missing[0]}")
    table = pd.DataFrame([by_key[g.key] for g in grid])
    if diagnostics is not None and not diagnostics.empty:
        metrics = [c for c in POOL_METRICS if c in diagnostics.columns]
        summary = diagnostics.groupby("pool")[metrics].mean().add_prefix("pool_")
        table = table.merge(summary, left_on="pool", right_index=True, how="left")
    extra = [c for c in table.columns if c not in RESULT_COLUMNS]
    return table[RESULT_COLUMNS + extra]
