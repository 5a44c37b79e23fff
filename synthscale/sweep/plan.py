"""Plan a sweep, without Ray and before anything is written: its data, splits, grid, trial
batches and the synthetic pools they read.

Everything that can be checked against the data (grid, splits, real-row demands, each pool's
feasibility) is checked in `plan_sweep`, so bad input fails before any output exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from synthscale.config import CALIBRATION_WITH_ROWS, SweepConfig
from synthscale.data.loaders import load_dataset
from synthscale.data.schema import Dataset
from synthscale.errors import SynthscaleError
from synthscale.experiments import (
    Method,
    Point,
    fold_counts,
    oracle_shortage,
    real_rows,
    synthetic_demand,
    synthetic_segments,
)
from synthscale.splits import Split, make_fold_split, make_split, require_spurious
from synthscale.sweep.grid import Batch, GridPoint, expand_grid, make_batches, on_dose_ladder
from synthscale.sweep.pools import PoolSpec, check_pool_feasible

log = logging.getLogger(__name__)

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
    config = with_resolved_values(config, list(datasets.values()))
    grid, splits, specs = [], {}, []
    for name, dataset in datasets.items():
        if "spurious" in config.experiment.tasks:
            require_spurious(dataset)
        dataset_grid = expand_grid(config, name)
        for seed in config.experiment.seeds:
            splits[(name, seed)] = split_for(dataset, config, seed)
        dataset_grid = without_unfilled_oracle_points(
            dataset_grid, [splits[(name, s)] for s in config.experiment.seeds], config
        )
        points = list(dict.fromkeys(g.point for g in dataset_grid))
        for point in points:
            for seed in config.experiment.seeds:
                real_rows(point, splits[(name, seed)], config.split.seed_size, config.experiment)
        dataset_specs = pool_specs(
            points, config, dataset, {s: splits[(name, s)] for s in config.experiment.seeds}
        )
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


def without_unfilled_oracle_points(
    grid: list[GridPoint], splits: list[Split], config: SweepConfig
) -> list[GridPoint]:
    """The grid less the oracle's points that some replicate's reserves cannot fill (the paper's
    largest N on a table with a rare group): every other method still runs there; a warning
    names what was left out."""
    short: dict[Point, str] = {}
    for point in dict.fromkeys(g.point for g in grid if Method.of(g.point.method).oracle):
        for split in splits:
            shortage = oracle_shortage(point, split, config.split.seed_size, config.experiment)
            if shortage:
                short[point] = shortage
                break
    ladder = [p for p in short if on_dose_ladder(p, config)]
    points = [p for p in short if p not in ladder]
    if points:
        left_out = ", ".join(f"{p.task} {p.experiment} {_size(p)}" for p in points)
        log.warning(
            "%s: the oracle is left out at %d point%s its real-row reserves cannot fill (%s); e.g. %s",
            grid[0].dataset, len(points), "" if len(points) == 1 else "s", left_out, short[points[0]],
        )  # fmt: skip
    if ladder:
        log.info(
            "%s: the oracle's dose ladder stops at the reserves: %d of its doses left out (e.g. %s %s "
            "dose %g); worth beyond the largest dose left is said as 'at least'",
            grid[0].dataset, len(ladder), ladder[0].task, _size(ladder[0]), ladder[0].dose,
        )  # fmt: skip
    return [g for g in grid if g.point not in short]


def _size(point: Point) -> str:
    return f"k={point.k}" if point.experiment == "ratio" else f"N={point.n_aug_units}s"


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


def with_resolved_values(config: SweepConfig, datasets: list[Dataset]) -> SweepConfig:
    """The config with each dataset's label, minority and spurious-positive value as the data
    resolved them (the rarer value, the larger value, a built-in's defaults): saved with the
    sweep and logged on its parent run, so which value became y = 1 (and a = 1) is on record."""
    resolved = []
    for dataset_config, dataset in zip(config.dataset_configs(), datasets, strict=True):
        schema = dataset.schema
        found = {"label": schema.label, "minority": _plain(schema.minority_value)}
        if schema.spurious_values is not None:
            found |= {"spurious": schema.spurious, "spurious_positive": _plain(schema.spurious_values[1])}
        unset = {key: value for key, value in found.items() if getattr(dataset_config, key) is None}
        resolved.append(dataset_config.model_copy(update=unset))
    if config.datasets:
        return config.model_copy(update={"datasets": resolved})
    return config.model_copy(update={"dataset": resolved[0]})


def _plain(value: object) -> object:
    """A numpy scalar as the Python value YAML writes."""
    return value.item() if hasattr(value, "item") else value


def split_for(dataset: Dataset, config: SweepConfig, seed: int) -> Split:
    """The replicate's split: the paper's (test set, seed set, reserves) or a native fold."""
    if "native" in config.experiment.protocols:
        return make_fold_split(dataset, config.experiment.native.folds, seed, calibration_size(config))
    return make_split(
        dataset, config.split.model_copy(update={"calibration_size": calibration_size(config)}), seed
    )


def calibration_size(config: SweepConfig) -> int:
    """Calibration rows to set apart: none when no calibration is fitted on them."""
    return config.split.calibration_rows if config.downstream.calibration in CALIBRATION_WITH_ROWS else 0


def pool_specs(
    points: list[Point], config: SweepConfig, dataset: Dataset, splits: dict[int, Split]
) -> list[PoolSpec]:
    """One pool per (task, sampler, data access, seed) of a dataset, sized for the most
    demanding point (native: per seed, for its training fold's counts)."""
    groups: dict[tuple[str, str, str], dict[int, list]] = {}
    counts_of: dict[tuple[str, int], dict] = {}  # native: (task, seed) -> the training fold's counts
    for point in points:
        sampler = Method.of(point.method).sampler
        if sampler is None:
            continue
        by_seed = groups.setdefault((point.task, sampler, point.data_access), {})
        for seed, split in splits.items():
            counts = None
            if point.experiment == "native":
                if (point.task, seed) not in counts_of:
                    counts_of[(point.task, seed)] = fold_counts(dataset, split, point.task)
                counts = counts_of[(point.task, seed)]
            by_seed.setdefault(seed, []).extend(
                synthetic_segments(point, config.split.seed_size, config.experiment, counts)
            )
    return [
        PoolSpec(dataset.name, task, sampler, seed, access, tuple(sorted(demand.items())))
        for (task, sampler, access), by_seed in groups.items()
        for seed, found in by_seed.items()
        if any((demand := synthetic_demand(found)).values())  # k = 0 alone needs no synthetic row
    ]
