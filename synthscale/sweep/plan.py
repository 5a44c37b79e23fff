"""Plan a sweep and run its first phase: validate everything, then build and score pools.

Everything that can be checked against the data (grid, splits, real-row demands, each pool's
feasibility) is checked in `plan_sweep`, before any output exists. Pools are then built once
on the driver, or by Ray tasks for generators that train a model; their diagnostics run as
Ray Tune trials beside the fits (sweep/runner.py), or inline without Ray.
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
from synthscale.errors import SynthscaleError
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


SplitKey = tuple[str, int]  # (dataset, seed)


@dataclass(frozen=True)
class SweepPlan:
    """Everything validated before the first write: data, splits, grid, pools, batches."""

    config: SweepConfig
    datasets: dict[str, Dataset]
    splits: dict[SplitKey, Split]
    grid: list[GridPoint]
    batches: list[Batch]
    pool_specs: list[PoolSpec]

    def split_of(self, spec: PoolSpec) -> Split:
        return self.splits[(spec.dataset, spec.seed)]


def plan_sweep(config: SweepConfig) -> SweepPlan:
    """Validate the config against the data; raises SynthscaleError before anything is written."""
    datasets = load_datasets(config)
    grid, splits, specs = [], {}, []
    for name, dataset in datasets.items():
        if "spurious" in config.experiment.tasks:
            require_spurious(dataset)
        dataset_grid = expand_grid(config, name)
        for seed in config.experiment.seeds:
            splits[(name, seed)] = make_split(dataset, config.split, seed)
        points = list(dict.fromkeys(g.point for g in dataset_grid))
        for point in points:
            for seed in config.experiment.seeds:
                real_rows(point, splits[(name, seed)], config.split.seed_size, config.experiment)
        dataset_specs = pool_specs(points, config, name)
        for spec in dataset_specs:
            check_pool_feasible(spec, dataset, splits[(name, spec.seed)], config.generator)
        grid += dataset_grid
        specs += dataset_specs
    return SweepPlan(
        config=config,
        datasets=datasets,
        splits=splits,
        grid=grid,
        batches=make_batches(grid, config.resources.fits_per_trial),
        pool_specs=specs,
    )


def load_datasets(config: SweepConfig) -> dict[str, Dataset]:
    """Every dataset of the sweep by name; two with one name would share grid keys."""
    datasets: dict[str, Dataset] = {}
    for index, dataset_config in enumerate(config.dataset_configs()):
        dataset = load_dataset(dataset_config)
        if dataset.name in datasets:
            raise SynthscaleError(
                f"datasets.{index}: a second dataset named '{dataset.name}'; give each a distinct "
                f"alias (datasets.{index}.alias: {dataset.name}_2)"
            )
        datasets[dataset.name] = dataset
    return datasets


def pool_specs(points: list[Point], config: SweepConfig, dataset: str) -> list[PoolSpec]:
    """One pool per (task, sampler, data access, seed) of a dataset, sized for the most
    demanding point."""
    segments: dict[tuple[str, str, str], list] = {}
    for point in points:
        sampler = sampler_of(point.method)
        if sampler is not None:
            segments.setdefault((point.task, sampler, point.data_access), []).extend(
                synthetic_segments(point, config.split.seed_size, config.experiment)
            )
    return [
        PoolSpec(dataset, task, sampler, seed, access, tuple(sorted(demand.items())))
        for (task, sampler, access), found in segments.items()
        if any((demand := synthetic_demand(found)).values())  # k = 0 alone needs no synthetic row
        for seed in config.experiment.seeds
    ]


def build_pools(plan: SweepPlan, cache_dir: Path, show_progress: bool) -> dict:
    """Phase 1: every synthetic pool once, read from the cache or built. A classic sampler's
    pool takes milliseconds, less than starting a Ray worker, so the driver builds it; a
    generator that trains a model gets a Ray task (a GPU where there is one). A trained
    generator serves both tasks of a replicate, so the first pool of each (sampler, seed,
    data access) is built before the others, which then load its model instead of training
    it again (a model learns the rows its data access shows, so each access trains its own)."""
    generator = plan.config.generator
    pools, missing = {}, []
    for spec in plan.pool_specs:
        key = pool_key(spec, plan.datasets[spec.dataset], plan.split_of(spec), generator)
        cached = read_cached_pool(cache_dir, key, spec)
        if cached is None:
            missing.append((key, spec))
        else:
            pools[spec.slot] = (key, *cached)
    with tqdm(
        total=len(plan.pool_specs), initial=len(pools), desc="synthetic pools", disable=not show_progress
    ) as bar:
        for key, spec in [(key, spec) for key, spec in missing if not pool_trains_model(spec)]:
            built, reports = build_pool(spec, plan.datasets[spec.dataset], plan.split_of(spec), generator)
            store_pool(cache_dir, key, spec, built, reports)
            pools[spec.slot] = (key, built, reports)
            bar.update()
        first, later = _model_waves([(key, spec) for key, spec in missing if pool_trains_model(spec)])
        datasets = {name: ray.put(dataset) for name, dataset in plan.datasets.items()} if first else {}
        for wave in (first, later):
            running = {_submit_pool(spec, datasets[spec.dataset], plan): (key, spec) for key, spec in wave}
            while running:
                (done,), _ = ray.wait(list(running), num_returns=1)
                key, spec = running.pop(done)
                built, reports = ray.get(done)
                store_pool(cache_dir, key, spec, built, reports)
                pools[spec.slot] = (key, built, reports)
                bar.update()
    return pools


def pool_trains_model(spec: PoolSpec) -> bool:
    """Whether the pool's sampler trains a model (and may want a GPU)."""
    return make_sampler(spec.sampler, GeneratorConfig()).trains_model


def _model_waves(missing: list[tuple[str, PoolSpec]]) -> tuple[list, list]:
    """First wave: one pool per (dataset, sampler, seed, data access); second wave: the
    others, which load the model the first wave trained."""
    first, later, leaders = [], [], set()
    for key, spec in missing:
        group = (spec.dataset, spec.sampler, spec.seed, spec.data_access)
        if group in leaders:
            later.append((key, spec))
        else:
            leaders.add(group)
            first.append((key, spec))
    return first, later


def _submit_pool(spec: PoolSpec, dataset: ray.ObjectRef, plan: SweepPlan) -> ray.ObjectRef:
    """A generator that trains a model takes a GPU when the cluster has one, else a whole
    node's CPUs (torch threads follow OMP_NUM_THREADS)."""
    resources = plan.config.resources
    gpus = resources.generator_gpus
    if gpus is None:
        gpus = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
    cpus = resources.generator_cpus or (1 if gpus else _largest_node_cpus())
    threads = {"env_vars": {"OMP_NUM_THREADS": str(cpus)}}
    task = ray.remote(num_cpus=cpus, num_gpus=gpus, runtime_env=threads)(build_pool)
    return task.remote(spec, dataset, plan.split_of(spec), plan.config.generator)


def _largest_node_cpus() -> int:
    nodes = [node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]]
    return max(1, int(max(nodes, default=1)))


def diagnose_pools(plan: SweepPlan, pools: dict) -> pd.DataFrame:
    """Every pool's diagnostics per target, one after another (no Ray)."""
    if not plan.config.generator.diagnostics:
        return pd.DataFrame()
    rows = []
    for spec in plan.pool_specs:
        key, pool, reports = pools[spec.slot]
        rows += diagnose_pool(key, spec, pool, plan.datasets[spec.dataset], plan.split_of(spec), reports)
    return pd.DataFrame(rows)


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
