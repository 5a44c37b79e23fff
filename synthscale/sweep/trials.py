"""Phase 2 of a sweep: fit every batch, and diagnose every pool, as Ray Tune trials; collect
what they report into records and the results table.

Each trial fits a batch of grid points that share a split and pools, logs them as MLflow child
runs from its worker, and reports their records; a driver callback gathers them and advances
the progress bar. The pools' diagnostics are trials too, queued after the batches: they reuse
the warm trial workers instead of starting Ray workers of their own, and fill the last
round's idle slots. `run_trial` is a trial's work without Ray or MLflow.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ray import tune
from ray.exceptions import RayActorError
from tqdm.auto import tqdm

from synthscale.config import SweepConfig
from synthscale.data.schema import Dataset
from synthscale.diagnostics import diagnose_targets, pool_tstr, privacy_by_target
from synthscale.experiments import DOSE, Method, Point, evaluate_point
from synthscale.splits import Split, row_targets
from synthscale.sweep.grid import Batch, GridPoint
from synthscale.sweep.layout import OutDir
from synthscale.sweep.plan import SplitKey, SweepPlan
from synthscale.sweep.pools import PoolSlot, PoolSpec, SyntheticPool, visible_rows
from synthscale.sweep.tracking import SweepTracker, TrackingRef, tracker_for

log = logging.getLogger(__name__)
TRIAL_PARAM = "trial_key"  # the one Tune parameter of a trial: its id (a batch id, or a pool diagnosis id)


@dataclass(frozen=True)
class SweepInputs:
    """What every trial reads, shipped once through the Ray object store."""

    config: SweepConfig
    datasets: dict[str, Dataset]
    splits: dict[SplitKey, Split]
    pools: dict[PoolSlot, SyntheticPool]
    batches: dict[str, Batch]  # trial id -> batch of fits
    diagnoses: dict[str, PoolSpec] = field(default_factory=dict)  # trial id -> pool to diagnose
    failures: dict[PoolSlot, str] = field(default_factory=dict)  # slot -> why its pool is missing

    @classmethod
    def of(
        cls,
        plan: SweepPlan,
        pools: dict[PoolSlot, SyntheticPool],
        batches: list[Batch] | None = None,
        failures: dict[PoolSlot, str] | None = None,
    ) -> SweepInputs:
        """The plan's trials: `batches` (default: all of them), then a diagnosis per pool when
        the config asks for diagnostics (none for a pool whose sampler failed)."""
        config, failures = plan.config, failures or {}
        diagnoses = (
            {diagnosis_id(s): s for s in plan.pool_specs if s.slot not in failures}
            if config.generator.diagnostics
            else {}
        )
        chosen = plan.batches if batches is None else batches
        batches_by_id = {b.batch_id: b for b in chosen}
        return cls(config, plan.datasets, plan.splits, pools, batches_by_id, diagnoses, failures)

    @property
    def trial_ids(self) -> list[str]:
        return [*self.batches, *self.diagnoses]


def diagnosis_id(spec: PoolSpec) -> str:
    return f"diagnose-{spec.dataset}-{spec.task}-{spec.sampler}-{spec.data_access}-seed{spec.seed}"


def run_trial(trial_id: str, inputs: SweepInputs) -> dict[str, list[dict[str, Any]]]:
    """One trial's work, callable without Ray: {"records": ...} for a batch of fits or
    {"diagnostics": ...} for a pool."""
    if trial_id in inputs.diagnoses:
        spec = inputs.diagnoses[trial_id]
        pool, split = inputs.pools[spec.slot], inputs.splits[(spec.dataset, spec.seed)]
        return {"diagnostics": diagnose_pool(pool, inputs.datasets[spec.dataset], split)}
    return {"records": fit_batch(inputs.batches[trial_id], inputs)}


def fit_batch(batch: Batch, inputs: SweepInputs) -> list[dict[str, Any]]:
    """Every fit of a batch, as records: one training set per point, every classifier on it."""
    config, dataset = inputs.config, inputs.datasets[batch.dataset]
    split = inputs.splits[(batch.dataset, batch.seed)]
    by_point: dict[Point, list[GridPoint]] = {}
    for grid_point in batch.points:
        by_point.setdefault(grid_point.point, []).append(grid_point)
    records = []
    for point, members in by_point.items():
        sampler = Method.of(point.method).sampler
        slot = (batch.dataset, point.task, sampler, batch.seed, point.data_access)
        # no pool for a sampler that no point asks a row of (k = 0 alone: the balanced set)
        pool = inputs.pools.get(slot) if sampler else None
        failure = inputs.failures.get(slot, "") if sampler else ""
        if failure:  # every fit of a failed sampler's slot, even one that needs no row of it
            rows = [{"failure": failure}] * len(members)
        else:
            rows = evaluate_point(
                dataset,
                split,
                point,
                pool.rows if pool else {},
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
                DOSE: point.dose,
                "pool": pool.key if pool else "",
                "grid_key": member.key,
            }
            records.append({**identity, **row})
    return records


def diagnose_pool(pool: SyntheticPool, dataset: Dataset, split: Split) -> list[dict[str, Any]]:
    """One row per target: the pool's rows against every real training row of that target,
    how much nearer they sit to the rows the sampler saw than to held-out (test) rows, what
    the sampler reported while making them, and the pool's train-on-synthetic score."""
    spec, train, schema = pool.spec, split.train_index, dataset.schema
    real, real_targets = dataset.features.iloc[train], row_targets(dataset, spec.task, train)
    metrics = diagnose_targets(pool.rows, real, real_targets, schema, spec.seed)
    seen, seen_targets = visible_rows(dataset, split, spec.task, spec.data_access)
    held_out = split.test_index
    privacy = privacy_by_target(
        pool.rows,
        dataset.features.iloc[seen],
        seen_targets,
        dataset.features.iloc[held_out],
        row_targets(dataset, spec.task, held_out),
        schema,
        spec.seed,
    )
    tstr = pool_tstr(pool.rows, real, real_targets, schema, spec.seed)
    identity = {
        "pool": pool.key,
        "dataset": spec.dataset,
        "task": spec.task,
        "sampler": spec.sampler,
        "data_access": spec.data_access,
        "seed": spec.seed,
    }
    return [
        {
            **identity,
            "target": target.value,
            "n_rows": len(rows),
            **metrics[target],
            **privacy[target],
            **pool.reports.get(target, {}),
            **tstr,
        }
        for target, rows in pool.rows.items()
    ]


def _trainable(trial_config: dict[str, str], inputs: SweepInputs, tracking: TrackingRef) -> None:
    """A Tune trial: its work, the batch's child runs logged from this worker, the result
    reported to the driver."""
    started, cpu_started = time.perf_counter(), time.process_time()
    trial_id = trial_config[TRIAL_PARAM]
    outcome = run_trial(trial_id, inputs)
    if "diagnostics" in outcome:
        tune.report({"diagnostics": json.dumps(outcome["diagnostics"])})
        return
    records = outcome["records"]
    tracker_for(tracking).log_fits(trial_id, records)
    tune.report(
        {
            "records": json.dumps(records),
            "n_fits": len(records),
            "batch_seconds": time.perf_counter() - started,
            "batch_cpu_seconds": time.process_time() - cpu_started,
        }
    )


def run_trials(
    plan: SweepPlan,
    inputs: SweepInputs,
    tracker: SweepTracker,
    out: OutDir,
    show_progress: bool,
    name: str = "trials",
) -> TrialCollector:
    """The batches, then the pool diagnostics, as Ray Tune trials; returns the collector
    holding every fit's record and every diagnostics row."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no Tune tables on the console
    # Tune's per-trial result.json/progress.csv would copy every batch's records a second time;
    # fits/, results.csv and MLflow hold them, so the copy is only driver CPU spent
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    # Ctrl-C stops the sweep at once (cli.py says how to --resume it), not after Tune saves its own
    # experiment state and prints a Tuner.restore hint that is not this product's
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")
    _quiet_slow_callback_warning()
    _quiet_missing_trial_logs()
    trial_ids = inputs.trial_ids
    n_fits = sum(len(b.points) for b in inputs.batches.values())
    bar = tqdm(total=n_fits, desc="fits", unit="fit", disable=not show_progress)
    collector = TrialCollector(bar, len(trial_ids), out, tracker, plan.grid, list(inputs.batches))
    if not trial_ids:
        bar.close()
        return collector
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, inputs=inputs, tracking=tracker.reference()),
        {"cpu": plan.config.resources.cpus_per_trial},
    )
    max_failures = plan.config.resources.max_failures

    def fit(ids: list[str], run_name: str) -> list[TrialOutcome]:
        return fit_trials(trainable, ids, run_name, [collector], out.ray_results, max_failures)

    try:
        errors = run_rounds(fit, trial_ids, name, max_failures)
    finally:
        bar.close()
    if errors:
        raise RuntimeError(f"{len(errors)} trial(s) failed; first error:\n{errors[0]}")
    if collector.grid_error is not None:
        raise collector.grid_error
    return collector


TrialOutcome = tuple[str, Exception | None]
"""A trial's id (a batch's, or a diagnosis') and the error it ended with (None when it reported)."""


def fit_trials(
    trainable: Any, trial_ids: list[str], name: str, callbacks: list, storage: Path, max_failures: int
) -> list[TrialOutcome]:
    """One Tune experiment over these trial ids; Tune retries a trial whose worker dies mid-run."""
    ids_by_path = _TrialIdsByPath()
    tuner = tune.Tuner(
        trainable,
        param_space={TRIAL_PARAM: tune.grid_search(trial_ids)},
        tune_config=tune.TuneConfig(reuse_actors=True),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(storage.resolve()),
            callbacks=[*callbacks, ids_by_path],
            failure_config=tune.FailureConfig(max_failures=max_failures),
            verbose=0,
        ),
    )
    return [(ids_by_path.of(result.path), result.error) for result in tuner.fit()]


class _TrialIdsByPath(tune.Callback):
    """Each trial's id by its directory: the result of a trial that never reported carries no
    config, so its id comes from the trial Tune ran."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        self.ids = {trial.path: trial.config[TRIAL_PARAM] for trial in trials}

    def of(self, path: str) -> str:
        return self.ids[path]


def run_rounds(
    fit: Callable[[list[str], str], list[TrialOutcome]], trial_ids: list[str], name: str, max_failures: int
) -> list[Exception]:
    """Fit the trials, then up to `max_failures` more rounds of those whose worker was lost;
    returns the errors left (none when every batch reported)."""
    errors: list[Exception] = []
    for attempt in range(max_failures + 1):
        outcomes = fit(trial_ids, name if attempt == 0 else f"{name}-retry{attempt}")
        trial_ids, lost, failed = _split_failures(outcomes)
        errors += failed
        if not trial_ids:
            return errors
        if attempt < max_failures:
            log.warning(
                "%d trial(s) lost their worker; running them again (round %d of resources.max_failures=%d)",
                len(trial_ids), attempt + 1, max_failures,
            )  # fmt: skip
    return errors + lost


def _split_failures(outcomes: list[TrialOutcome]) -> tuple[list[str], list[Exception], list[Exception]]:
    """The trial ids whose worker died and their errors, then every other error.

    Tune retries a trial whose worker dies while it runs, but not one whose reused worker dies
    while Tune hands it the next batch (the trial is still pending then): such trials
    are run again in a fresh experiment, which is safe because a batch logs each fit once."""
    lost_ids, lost, failed = [], [], []
    for trial_id, error in outcomes:
        if error is None:
            continue
        if isinstance(error, RayActorError):
            lost_ids.append(trial_id)
            lost.append(error)
        else:
            failed.append(error)
    return lost_ids, lost, failed


class _MissingTrialLogs(logging.Filter):
    """Tune's result grid looks for the per-trial result files turned off above and warns,
    once per trial, that they are missing: noise, not a problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to fetch metrics")


def _quiet_slow_callback_warning() -> None:
    """The collector writes each batch's records and logs pool metrics as results arrive, which
    may take longer than the 0.5 s at which Tune warns that a callback "may be a performance
    bottleneck": noise to the user. Tune reads TUNE_WARN_THRESHOLD_S once, at import; a user who
    set it keeps it."""
    from ray.tune.utils.util import warn_if_slow

    if "TUNE_WARN_THRESHOLD_S" not in os.environ:
        warn_if_slow.DEFAULT_THRESHOLD = 30.0


def _quiet_missing_trial_logs() -> None:
    tune_logger = logging.getLogger("ray.tune.analysis.experiment_analysis")
    if not any(isinstance(f, _MissingTrialLogs) for f in tune_logger.filters):
        tune_logger.addFilter(_MissingTrialLogs())


class TrialCollector(tune.Callback):
    """Driver-side, as results arrive: gather each batch's records (kept on disk for
    --resume) and each pool's diagnostics, and advance the bar; once the last batch has
    reported, check MLflow against the grid, while the diagnostics trials still work."""

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
        self.records: list[dict[str, Any]] = []
        self.diagnostics: list[dict[str, Any]] = []
        self.trials_done = 0
        self.grid_checked = False
        self.grid_error: RuntimeError | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Tune pickles its callbacks into the experiment state: the live bar (and the stream
        it writes to) stays behind; only this driver's own collector ever reports."""
        return {**self.__dict__, "bar": None}

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.trials_done += 1
        self.bar.set_postfix_str(f"trials {self.trials_done}/{self.n_trials}")
        if "diagnostics" in result:
            self.diagnostics.extend(json.loads(result["diagnostics"]))
            return
        batch_id = trial.config[TRIAL_PARAM]  # a batch's: only batches report records
        records = json.loads(result["records"])
        self.out.write_fit_records(batch_id, records)
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


def check_child_runs(tracker: SweepTracker, grid: list[GridPoint]) -> None:
    """MLflow holds exactly one finished child run per grid point, or the sweep fails."""
    if sorted(tracker.logged_keys()) != sorted(g.key for g in grid):
        raise RuntimeError("MLflow child runs do not match the grid one to one")
