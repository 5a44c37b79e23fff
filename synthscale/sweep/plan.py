"""Plan a sweep, without Ray and before anything is written: its data, splits, grid, trial
batches and the synthetic pools they read.

Everything that can be checked against the data (grid, splits, real-row demands, each pool's
feasibility) is checked in `plan_sweep`, so bad input fails before any output exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthscale.config import SweepConfig
from synthscale.data.loaders import Dataset, load_dataset
from synthscale.errors import SynthscaleError
from synthscale.experiments import Point, real_rows, sampler_of, synthetic_demand, synthetic_segments
from synthscale.splits import Split, make_split, require_spurious
from synthscale.sweep.grid import Batch, GridPoint, expand_grid, make_batches
from synthscale.sweep.pools import PoolSpec, check_pool_feasible

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
