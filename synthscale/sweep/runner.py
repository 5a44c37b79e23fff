"""Run a sweep: plan and check, build the pools, run the trials, write the results.

The phases live in their own modules (plan.py, build.py, trials.py) and the out dir's names in
layout.py; this module composes them, and owns the sweep's MLflow parent run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import ray

from synthscale._io import write_csv_atomic
from synthscale.config import SweepConfig, load_config, save_config
from synthscale.sweep.build import build_pools
from synthscale.sweep.checks import (
    check_generator_request,
    check_tracking_reaches_workers,
    check_trial_request,
)
from synthscale.sweep.connect import connect_ray
from synthscale.sweep.layout import OutDir
from synthscale.sweep.plan import SweepPlan, plan_sweep
from synthscale.sweep.pools import PoolCache
from synthscale.sweep.results import RESULT_COLUMNS, diagnostics_table, results_table
from synthscale.sweep.tracking import SweepTracker, check_tracking_server, flat_params, use_write_ahead_log
from synthscale.sweep.trials import SweepInputs, check_child_runs, run_trials

log = logging.getLogger(__name__)

POOLS_TABLE_ARTIFACT = "pools_table.json"  # the pools' diagnostics, as a table in the MLflow UI

__all__ = ["RESULT_COLUMNS", "SweepResult", "resume_sweep", "run_sweep", "sweep_tracker_for_results"]


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
        out.check_new(plan.config, overwrite)  # the fingerprint of the config with its resolved values
    config = plan.config
    check_tracking_server(config.tracking.uri)
    started_ray = connect_ray(address, config.resources.num_cpus)
    try:
        check_tracking_reaches_workers(config.tracking.uri, address)
        check_trial_request(config.resources)
        check_generator_request(plan)
        with out.locked():
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
    out.root.mkdir(parents=True, exist_ok=True)
    with out.logging():
        return _run_logged(plan, out, show_progress, resume)


def _run_logged(plan: SweepPlan, out: OutDir, show_progress: bool, resume: bool) -> SweepResult:
    config = plan.config
    tracker = _open_tracker(config, out)
    parent_id = tracker.resume_parent(out.root) if resume else _start_sweep_run(plan, tracker, out)
    try:
        cache = PoolCache(out.pool_cache)
        if cache.remove_stale_partials():
            log.info("removed half-written pool entries of an earlier run under %s", out.pool_cache)
        failures = {} if config.generator.on_failure == "record" else None
        pools = build_pools(plan, out.pool_cache, show_progress, failures)
        tracker.log_generators(list(pools.values()))
        finished = out.finished_batches([b.batch_id for b in plan.batches])
        pending = [b for b in plan.batches if b.batch_id not in finished]
        records = [record for batch in finished.values() for record in batch]
        inputs = SweepInputs.of(plan, pools, pending, failures)
        trials_name = f"trials-resume-{int(time.time())}" if resume else "trials"
        collector = run_trials(plan, inputs, tracker, out, show_progress, trials_name)
        records += collector.records
        diagnostics = diagnostics_table(collector.diagnostics)
        artifacts = [out.results]
        if not diagnostics.empty:
            write_csv_atomic(diagnostics, out.pools_table)
            artifacts.append(out.pools_table)
            tracker.log_table(diagnostics, POOLS_TABLE_ARTIFACT)
        if not collector.grid_checked:  # no fits ran (a resume with every batch recorded)
            check_child_runs(tracker, plan.grid)
        results = results_table(records, plan.grid, diagnostics)
        write_csv_atomic(results, out.results)
        if failures:  # the command line lists them; the log keeps the count
            log.info(
                "%d of %d synthetic pools failed; their fits are in %s with column failure set and no "
                "metrics", len(failures), len(plan.pool_specs), out.results,
            )  # fmt: skip
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
            **flat_params(config.model_dump(mode="json")),
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
