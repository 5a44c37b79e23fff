"""Expand the sweep YAML into keyed grid points and batch them into Ray Tune trials.

Grid: dataset x task x experiment x method x data access x (k, N or the fold) x seed x classifier. raw
and all_real see no generator, so they run once whatever the accesses. A trial gets a batch of
points that share (dataset, task, seed), so it reads one split and one set of pools.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthscale.config import SweepConfig
from synthscale.errors import SynthscaleError, did_you_mean
from synthscale.experiments import (
    ALL_REAL,
    AUG_SUFFIX,
    NO_DATA_ACCESS,
    ORACLE,
    RAW,
    Method,
    Point,
    is_oracle,
)
from synthscale.samplers import check_installed, sampler_names
from synthscale.samplers.registry import VARIANT_SEPARATOR, check_sampler, family_of, is_family


@dataclass(frozen=True)
class GridPoint:
    dataset: str
    point: Point
    seed: int
    classifier: str
    access_in_key: bool = False  # the sweep lists several generator.data_access values

    @property
    def key(self) -> str:
        """Stable id of the fit: MLflow tag, results.csv column, resume lookup. A sweep with
        one data access leaves the access out: its keys are those of a grid without that axis."""
        p = self.point
        size = {"ratio": f"k={p.k}", "augment": f"N={p.n_aug_units}s"}.get(p.experiment, "balanced")
        method = f"{p.method}/access={p.data_access}" if self.access_in_key else p.method
        size += f"/dose={p.dose:g}" if p.dose != 1 else ""
        return f"{self.dataset}/{p.task}/{p.experiment}/{method}/{size}/seed={self.seed}/{self.classifier}"


@dataclass(frozen=True)
class Batch:
    batch_id: str
    dataset: str
    task: str
    seed: int
    points: tuple[GridPoint, ...]


def valid_methods() -> list[str]:
    """Every method name; a family's members are shown as family.<variant>."""
    samplers = [f"{s}{VARIANT_SEPARATOR}<variant>" if is_family(s) else s for s in sampler_names()]
    return [RAW, ORACLE, *samplers, *(s + AUG_SUFFIX for s in (ORACLE, *samplers))]


def check_methods(methods: list[str]) -> None:
    """Unknown method names fail before anything runs, with the nearest valid name; so do a
    sampler whose package is missing and an unknown member of a family."""
    valid = valid_methods()
    if not methods:
        raise SynthscaleError(f"methods: list at least one of {', '.join(valid)}")
    for method in methods:
        sampler = Method.of(method).sampler
        if sampler is not None and is_family(family_of(sampler)):
            check_sampler(sampler)
            continue
        if method not in valid:
            raise SynthscaleError(
                f"methods: unknown method '{method}'{did_you_mean(method, valid)}; "
                f"available: {', '.join(valid)}"
            )
        if sampler is not None:
            check_installed(sampler)


def protocol_points(config: SweepConfig) -> list[Point]:
    """Every training set the config asks for, before seeds and classifiers multiply it."""
    check_methods(config.methods)
    experiment = config.experiment
    accesses = config.generator.data_accesses()
    points: list[Point] = []
    for task in experiment.tasks:
        if "ratio" in experiment.protocols:
            for method in config.methods:
                for access in accesses if Method.of(method).sampler else [NO_DATA_ACCESS]:
                    points += [
                        Point(task, "ratio", method, k=k, data_access=access) for k in experiment.ratio.ks
                    ]
                if is_oracle(method):
                    points += [
                        Point(task, "ratio", method, k=k, dose=dose)
                        for k in experiment.ratio.ks
                        if k > 0
                        for dose in experiment.oracle_doses
                    ]
        if "augment" in experiment.protocols:
            points += _augment_points(task, config, accesses)
        if "native" in experiment.protocols:
            points += _native_points(task, config, accesses)
    return points


def _native_points(task: str, config: SweepConfig, accesses: list[str]) -> list[Point]:
    """raw and each sampler once: the native protocol balances the fold and adds nothing more,
    so a '+aug' method is its sampler's point."""
    if any(map(is_oracle, config.methods)):
        raise SynthscaleError(
            "methods: the oracle adds real rows the fit does not use, but the native protocol trains "
            "on its training fold and keeps no reserves of unused rows; drop oracle from methods"
        )
    points = [Point(task, "native", RAW)] if RAW in config.methods else []
    samplers = dict.fromkeys(m.sampler for m in map(Method.of, config.methods) if m.sampler is not None)
    return points + [Point(task, "native", s, data_access=a) for s in samplers for a in accesses]


def _augment_points(task: str, config: SweepConfig, accesses: list[str]) -> list[Point]:
    """'+aug' is what this protocol varies, so smote and smote_aug give the same curve (and
    oracle and oracle_aug)."""
    augment = config.experiment.augment
    points = [Point(task, "augment", RAW)] if RAW in config.methods else []
    if any(map(is_oracle, config.methods)):
        points += [Point(task, "augment", ORACLE, n_aug_units=n) for n in augment.n_aug]
        points += augment_dose_ladder(task, config)
    samplers = dict.fromkeys(m.sampler for m in map(Method.of, config.methods) if m.sampler is not None)
    for sampler, access in ((sampler, access) for sampler in samplers for access in accesses):
        points += [Point(task, "augment", sampler, n_aug_units=n, data_access=access) for n in augment.n_aug]
    if augment.reference:
        points.append(Point(task, "augment", ALL_REAL))
    return points


def augment_dose_ladder(task: str, config: SweepConfig) -> list[Point]:
    """The oracle's doses in the augment protocol, whose points share one base: below 1, the
    balancing rows of N = 0 scaled (the real rows between raw and the balanced base); above 1,
    N at that multiple of the largest N (whole rows). Between them the oracle's own N are the ladder."""
    seed_size, augment = config.split.seed_size, config.experiment.augment
    below = [Point(task, "augment", ORACLE, dose=d) for d in config.experiment.oracle_doses if d < 1]
    largest = max(augment.n_aug)
    above = {round(d * largest * seed_size) / seed_size for d in config.experiment.oracle_doses if d > 1}
    above = sorted(n for n in above if n > largest)
    return below + [
        Point(task, "augment", ORACLE, n_aug_units=int(n) if float(n).is_integer() else n) for n in above
    ]


def on_dose_ladder(point: Point, config: SweepConfig) -> bool:
    """A point only the dose ladder asks for (the reserves may stop it short without a warning)."""
    beyond = point.experiment == "augment" and point.n_aug_units > max(config.experiment.augment.n_aug)
    return point.dose != 1 or beyond


def expand_grid(config: SweepConfig, dataset_name: str) -> list[GridPoint]:
    """All fits in a stable order; keys are unique."""
    access_in_key = len(config.generator.data_accesses()) > 1
    grid = [
        GridPoint(dataset_name, point, seed, classifier, access_in_key)
        for point in protocol_points(config)
        for seed in config.experiment.seeds
        for classifier in config.downstream.classifiers
    ]
    keys = [g.key for g in grid]
    if len(set(keys)) != len(keys):
        raise SynthscaleError("the grid repeats a point: remove duplicates from the lists in the sweep file")
    return grid


def make_batches(grid: list[GridPoint], fits_per_trial: int) -> list[Batch]:
    """Chunk points sharing (dataset, task, seed) into equal trials of at most
    `fits_per_trial` fits (equal sizes keep the last round of trials from running on one
    worker alone)."""
    groups: dict[tuple[str, str, int], list[GridPoint]] = {}
    for grid_point in grid:
        groups.setdefault((grid_point.dataset, grid_point.point.task, grid_point.seed), []).append(grid_point)
    batches = []
    for (dataset, task, seed), members in groups.items():
        n_chunks = -(-len(members) // fits_per_trial)
        base, extra = divmod(len(members), n_chunks)
        start = 0
        for number in range(n_chunks):
            stop = start + base + (number < extra)
            batch_id = f"{dataset}-{task}-seed{seed}-{number:03d}"
            batches.append(Batch(batch_id, dataset, task, seed, tuple(members[start:stop])))
            start = stop
    return batches
