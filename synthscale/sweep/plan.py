"""Plan a sweep and run its first phase: validate everything, then build and score pools.

Everything that can be checked against the data (grid, splits, real-row demands, each pool's
feasibility) is checked in `plan_sweep`, before any output exists. Pools are then built once
on the driver; their diagnostics run beside the fits as Ray tasks, or inline without Ray.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import ray
from tqdm.auto import tqdm

from synthscale.config import GeneratorConfig, SweepConfig
from synthscale.data.loaders import Dataset, load_dataset
from synthscale.diagnostics import PER_COLUMN_PREFIX
from synthscale.experiments import Point, real_rows, sampler_of, synthetic_demand, synthetic_segments
from synthscale.samplers import make_sampler
from synthscale.splits import Split, make_split, require_spurious
from synthscale.sweep.grid import Batch, GridPoint, expand_grid, make_batches
from synthscale.sweep.pools import (
    PoolSpec,
    build_pool,
    check_pool_feasible,
    diagnose_pool,
    pool_key,
    read_cached_pool,
    store_pool,
)

POOL_METRICS = (
    "detection_auc",
    "marginal_distance",
    "max_marginal_distance",
    "correlation_distance",
    "exact_copy_rate",
    "closest_row_distance",
    "tstr_balanced_accuracy",
    "validity",
    "rows_dropped",
)


@dataclass(frozen=True)
class SweepPlan:
    """Everything validated before the first write: data, splits, grid, pools, batches."""

    config: SweepConfig
    dataset: Dataset
    splits: dict[int, Split]
    grid: list[GridPoint]
    batches: list[Batch]
    pool_specs: list[PoolSpec]


def plan_sweep(config: SweepConfig) -> SweepPlan:
    """Validate the config against the data; raises SynthscaleError before anything is written."""
    dataset = load_dataset(config.dataset)
    if "spurious" in config.experiment.tasks:
        require_spurious(dataset)
    grid = expand_grid(config, dataset.name)
    splits = {seed: make_split(dataset, config.split, seed) for seed in config.experiment.seeds}
    points = list(dict.fromkeys(g.point for g in grid))
    for point in points:
        for split in splits.values():
            real_rows(point, split, config.split.seed_size, config.experiment)
    specs = pool_specs(points, config)
    for spec in specs:
        check_pool_feasible(spec, dataset, splits[spec.seed], config.generator)
    return SweepPlan(
        config=config,
        dataset=dataset,
        splits=splits,
        grid=grid,
        batches=make_batches(grid, config.resources.fits_per_trial),
        pool_specs=specs,
    )


def pool_specs(points: list[Point], config: SweepConfig) -> list[PoolSpec]:
    """One pool per (task, sampler, seed), sized for the most demanding point."""
    segments: dict[tuple[str, str], list] = {}
    for point in points:
        sampler = sampler_of(point.method)
        if sampler is not None:
            segments.setdefault((point.task, sampler), []).extend(
                synthetic_segments(point, config.split.seed_size, config.experiment)
            )
    return [
        PoolSpec(task, sampler, seed, tuple(sorted(synthetic_demand(found).items())))
        for (task, sampler), found in segments.items()
        for seed in config.experiment.seeds
    ]


def build_pools(plan: SweepPlan, cache_dir: Path, show_progress: bool) -> dict:
    """Phase 1: every synthetic pool once, read from the cache or built by Ray tasks (GPU
    tasks for generators that train a model). A trained generator serves both tasks of a
    replicate, so the first pool of each (sampler, seed) is built before the others, which
    then load its model instead of training it again."""
    generator = plan.config.generator
    pools, missing = {}, []
    for spec in plan.pool_specs:
        key = pool_key(spec, plan.dataset, plan.splits[spec.seed], generator)
        cached = read_cached_pool(cache_dir, key, spec)
        if cached is None:
            missing.append((key, spec))
        else:
            pools[(spec.task, spec.sampler, spec.seed)] = (key, *cached)
    first, later = _model_waves(missing)
    dataset = ray.put(plan.dataset)
    with tqdm(
        total=len(plan.pool_specs), initial=len(pools), desc="synthetic pools", disable=not show_progress
    ) as bar:
        for wave in (first, later):
            running = {_submit_pool(spec, dataset, plan): (key, spec) for key, spec in wave}
            while running:
                (done,), _ = ray.wait(list(running), num_returns=1)
                key, spec = running.pop(done)
                built, reports = ray.get(done)
                store_pool(cache_dir, key, spec, built, reports)
                pools[(spec.task, spec.sampler, spec.seed)] = (key, built, reports)
                bar.update()
    return pools


def pool_trains_model(spec: PoolSpec) -> bool:
    """Whether the pool's sampler trains a model (and may want a GPU)."""
    return make_sampler(spec.sampler, GeneratorConfig()).trains_model


def _model_waves(missing: list[tuple[str, PoolSpec]]) -> tuple[list, list]:
    """First wave: one pool per (sampler, seed) of the samplers that train a model; second
    wave: everything else."""
    first, later, leaders = [], [], set()
    for key, spec in missing:
        group = (spec.sampler, spec.seed)
        if pool_trains_model(spec) and group in leaders:
            later.append((key, spec))
        else:
            leaders.add(group)
            first.append((key, spec))
    return first, later


def _submit_pool(spec: PoolSpec, dataset: ray.ObjectRef, plan: SweepPlan) -> ray.ObjectRef:
    """Classic samplers take one CPU; a generator that trains a model takes a GPU when the
    cluster has one, else a whole node's CPUs (torch threads follow OMP_NUM_THREADS)."""
    resources = plan.config.resources
    cpus, gpus = 1, 0.0
    if pool_trains_model(spec):
        gpus = resources.generator_gpus
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
        cpus = resources.generator_cpus or (1 if gpus else _largest_node_cpus())
    threads = {"env_vars": {"OMP_NUM_THREADS": str(cpus)}}
    task = ray.remote(num_cpus=cpus, num_gpus=gpus, runtime_env=threads)(build_pool)
    return task.remote(spec, dataset, plan.splits[spec.seed], plan.config.generator)


def _largest_node_cpus() -> int:
    nodes = [node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]]
    return max(1, int(max(nodes, default=1)))


def diagnose_pools(plan: SweepPlan, pools: dict) -> pd.DataFrame:
    """Every pool's diagnostics per target, one after another (no Ray)."""
    if not plan.config.generator.diagnostics:
        return pd.DataFrame()
    rows = []
    for spec in plan.pool_specs:
        key, pool, reports = pools[(spec.task, spec.sampler, spec.seed)]
        rows += diagnose_pool(key, spec, pool, plan.dataset, plan.splits[spec.seed], reports)
    return pd.DataFrame(rows)


def submit_pool_diagnostics(plan: SweepPlan, pools: dict) -> list:
    """The same as `diagnose_pools`, one Ray task per pool, so it runs beside the fits."""
    if not plan.config.generator.diagnostics:
        return []
    remote = ray.remote(num_cpus=1)(diagnose_pool)
    dataset = ray.put(plan.dataset)
    futures = []
    for spec in plan.pool_specs:
        key, pool, reports = pools[(spec.task, spec.sampler, spec.seed)]
        futures.append(remote.remote(key, spec, pool, dataset, plan.splits[spec.seed], reports))
    return futures


def parent_pool_metrics(diagnostics: pd.DataFrame) -> dict[str, float]:
    """Each pool's diagnostics per target, as metrics of the sweep's parent run."""
    metrics = {}
    for row in diagnostics.to_dict("records"):
        prefix = f"pool/{row['task']}/{row['sampler']}/seed{row['seed']}/{row['target']}"
        names = [m for m in row if m in POOL_METRICS or str(m).startswith(PER_COLUMN_PREFIX)]
        metrics.update({f"{prefix}/{m}": row[m] for m in names if pd.notna(row[m])})
    return metrics
