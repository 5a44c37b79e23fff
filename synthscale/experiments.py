"""The paper's two protocols, and the native one: which real and synthetic rows make each training set.

Sizes are in units of the seed size s. Every point is a `Composition`: real row positions
plus synthetic `Segment`s, each a [start, stop) slice of one target's synthetic pool. Slices
are prefixes or follow each other, so one pool, sampled once at the largest size any point
needs (`synthetic_demand`), serves every ratio and every N: larger N adds rows to smaller N.

The `oracle` adds the same segments as a sampler would, filled with real rows the fit does
not otherwise use (read from the back of the reserves, whose front gives the majority rows):
the upper bound every generator is read against. Its dose ladder (`Point.dose`) adds other
multiples of those rows, so that each point has the risk of m real rows as a function of m:
the scale on which `worth` prices a method's rows in real rows. Every fit is scored twice:
as fitted (the paper's risks) and recalibrated on the split's calibration rows (the `_cal`
risks).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pandas as pd

from synthscale.calibration import calibrate_probabilities
from synthscale.config import DownstreamConfig, ExperimentConfig, Protocol
from synthscale.data.schema import Dataset
from synthscale.downstream import fit_predict, make_classifier
from synthscale.errors import SynthscaleError
from synthscale.risks import balanced_brier, compute_risks
from synthscale.splits import Split, Task, row_targets
from synthscale.targets import TASK_TARGETS, Target

RAW, ALL_REAL, ORACLE, AUG_SUFFIX = "raw", "all_real", "oracle", "_aug"
CALIBRATED_SUFFIX = "_cal"  # a risk after recalibration: balanced_ce_cal
# data_access of a point without a generator (raw, all_real): a string, so a groupby keeps it
NO_DATA_ACCESS = "none"
DOSE = "dose"  # results column: the oracle's rows as a multiple of a sampler's at the point (1: the point)


@dataclass(frozen=True)
class Point:
    """One training set of one protocol: the grid coordinates minus seed and classifier."""

    task: Task
    experiment: Protocol
    method: str
    k: int = 0  # ratio: real n_maj/n_min = 1 + k
    n_aug_units: int | float = 0  # augment: N in units of s (N*s is whole: config checks it)
    data_access: str = NO_DATA_ACCESS  # rows the generator saw: seed, train; none without one
    dose: float = 1.0  # the oracle's ladder: every segment's rows times this (1: the point itself)


@dataclass(frozen=True)
class Segment:
    """Rows [start, stop) of the synthetic pool of `target`, fitted with `weight`."""

    target: Target
    start: int
    stop: int
    weight: float
    augmentation: bool  # False: balances the classes; True: the N extra rows


@dataclass(frozen=True)
class TrainingSet:
    X: pd.DataFrame
    y: np.ndarray
    weight: np.ndarray
    n_real: int
    n_synthetic: int
    ratio: float  # real majority rows / real minority rows of the base (the oracle's added rows not counted)
    n_aug: int  # synthetic rows added with the augmentation weight
    n_added: int  # rows beside the base's real ones: a sampler's, or the oracle's real rows


@dataclass(frozen=True)
class Method:
    """A method name read once, here: 'smote_aug' is the sampler smote plus N rows of every
    class (`augmented`); raw and all_real use no sampler; 'oracle' and 'oracle_aug' add a
    sampler's rows, but real ones from the reserves."""

    name: str
    base: str  # the name without its '_aug'
    augmented: bool
    sampler: str | None
    oracle: bool

    @staticmethod
    @cache
    def of(name: str) -> Method:
        base = name.removesuffix(AUG_SUFFIX)
        oracle = base == ORACLE
        sampler = None if name in (RAW, ALL_REAL) or oracle else base
        return Method(name, base, name.endswith(AUG_SUFFIX), sampler, oracle)

    @property
    def adds_rows(self) -> bool:
        """Rows beside the real ones: a sampler's or the oracle's."""
        return self.sampler is not None or self.oracle


def is_oracle(method: str) -> bool:
    """For a column of method names: `results["method"].map(is_oracle)`."""
    return Method.of(method).oracle


def split_even(total: int, keys: tuple[Target, ...] | tuple[str, ...]) -> dict:
    """Share `total` rows across keys, the remainder going to the first keys."""
    base, extra = divmod(total, len(keys))
    return {key: base + (i < extra) for i, key in enumerate(keys)}


def synthetic_segments(
    point: Point, seed_size: int, config: ExperimentConfig, fold_counts: dict[Target, int] | None = None
) -> list[Segment]:
    """Figures 1-2: k*s/2 minority rows (+ aug_size*s at aug_weight for '+aug').
    Figures 3-4: the base is balanced first, so that N measures augmentation alone.
    Native: every target raised to the largest target's count in the training fold
    (`fold_counts`, real rows per target there)."""
    if not Method.of(point.method).adds_rows:
        return []
    targets = TASK_TARGETS[point.task]
    if point.experiment == "native":
        assert fold_counts is not None, "the native protocol balances the training fold's counts"
        largest = max(fold_counts.values())
        return [
            Segment(t, 0, largest - n, 1.0, augmentation=False) for t, n in fold_counts.items() if n < largest
        ]
    if point.experiment == "ratio":
        balance_rows = point.k * seed_size // 2
        aug_rows = config.ratio.aug_size * seed_size if Method.of(point.method).augmented else 0
        aug_weight = config.ratio.aug_weight
    else:
        balance_rows = config.augment.majority_size * seed_size
        aug_rows = round(point.n_aug_units * seed_size)
        aug_weight = config.augment.aug_weight
    segments, used = [], dict.fromkeys((*targets.minority, *targets.majority), 0)
    for target, n in split_even(balance_rows, targets.minority).items():
        segments.append(Segment(target, 0, n, 1.0, augmentation=False))
        used[target] = n
    halves = split_even(aug_rows, ("minority", "majority"))
    for side, side_targets in (("minority", targets.minority), ("majority", targets.majority)):
        for target, n in split_even(halves[side], side_targets).items():
            segments.append(Segment(target, used[target], used[target] + n, aug_weight, augmentation=True))
    return [s for s in (scaled(s, point.dose) for s in segments) if s.stop > s.start]


def scaled(segment: Segment, dose: float) -> Segment:
    """The segment's rows times `dose`: consecutive segments of a target stay consecutive, so a
    dose of the oracle adds its rows the way the point adds them, in other numbers."""
    if dose == 1:
        return segment
    return replace(segment, start=round(segment.start * dose), stop=round(segment.stop * dose))


def protocol_fits(results: pd.DataFrame) -> pd.DataFrame:
    """The fits at the protocols' own points: the oracle's dose ladder left out (it prices
    rows in `worth`; on a curve it would be a second oracle at the same k or N)."""
    if DOSE not in results.columns:
        return results
    return results[results[DOSE].fillna(1.0).astype(float) == 1.0]


def fold_counts(dataset: Dataset, split: Split, task: Task) -> dict[Target, int]:
    """Real training rows per target of the task (native: the training fold)."""
    keys = row_targets(dataset, task, split.train_index)
    return {target: int(np.sum(keys == target)) for target in TASK_TARGETS[task].all}


def synthetic_demand(segments: list[Segment]) -> dict[Target, int]:
    """Pool size per target: the furthest row any segment reads."""
    demand: dict[Target, int] = {}
    for segment in segments:
        demand[segment.target] = max(demand.get(segment.target, 0), segment.stop)
    return demand


def real_rows(point: Point, split: Split, seed_size: int, config: ExperimentConfig) -> np.ndarray:
    """The balanced set plus majority rows from the front of the shuffled reserves (nested in k)."""
    if point.method == ALL_REAL or point.experiment == "native":
        return split.train_index
    parts = [split.balanced_index]
    for target, n in majority_rows_used(point, seed_size, config).items():
        reserve = split.reserves[target]
        if n > len(reserve):
            raise SynthscaleError(
                f"{point.experiment} {point.task}: needs {n} real rows of pool '{target}' but it "
                f"holds {len(reserve)}; lower the largest "
                + (
                    "experiment.ratio.ks"
                    if point.experiment == "ratio"
                    else "experiment.augment.majority_size"
                )
                + ", split.seed_size or split.calibration_size"
            )
        parts.append(reserve[:n])
    return np.concatenate(parts)


def majority_rows_used(point: Point, seed_size: int, config: ExperimentConfig) -> dict[Target, int]:
    """Real rows a point takes from the front of each majority target's reserve."""
    targets = TASK_TARGETS[point.task]
    units = (
        point.k * seed_size // 2 if point.experiment == "ratio" else config.augment.majority_size * seed_size
    )
    return split_even(units, targets.majority)


def oracle_rows(point: Point, split: Split, seed_size: int, config: ExperimentConfig) -> list[np.ndarray]:
    """The oracle's real rows for each of the point's segments: the segment's [start, stop)
    counted from the back of its target's reserve, so they never meet the majority rows the
    point takes from the front, and a larger k or N adds rows to a smaller one."""
    shortage = oracle_shortage(point, split, seed_size, config)
    if shortage:
        raise SynthscaleError(shortage)
    return [
        split.reserves[segment.target][::-1][segment.start : segment.stop]
        for segment in synthetic_segments(point, seed_size, config)
    ]


def oracle_shortage(point: Point, split: Split, seed_size: int, config: ExperimentConfig) -> str | None:
    """Why the reserves cannot give the oracle's rows at this point, or None when they can (the
    grid refuses the oracle in the native protocol, which keeps no reserves)."""
    front = majority_rows_used(point, seed_size, config)
    for segment in synthetic_segments(point, seed_size, config):
        available = len(split.reserves[segment.target]) - front.get(segment.target, 0)
        if segment.stop > available:
            return (
                f"{point.experiment} {point.task}: the oracle needs {segment.stop} real rows of "
                f"'{segment.target}' beside the fit's own, but the reserves hold {available} more"
            )
    return None


def build_training_set(
    dataset: Dataset,
    split: Split,
    point: Point,
    pools: dict[Target, pd.DataFrame],
    seed_size: int,
    config: ExperimentConfig,
) -> TrainingSet:
    """Assemble (X, y, weight) for one point from real rows and synthetic pool slices (the
    oracle's slices are real rows from the reserves, counted as real)."""
    real = real_rows(point, split, seed_size, config)
    counts = fold_counts(dataset, split, point.task) if point.experiment == "native" else None
    segments = synthetic_segments(point, seed_size, config, counts)
    frames = [dataset.features.iloc[real]]
    labels = [dataset.y[real].astype(np.int64)]
    weights = [np.ones(len(real))]
    oracle = Method.of(point.method).oracle
    added = (
        [dataset.features.iloc[rows] for rows in oracle_rows(point, split, seed_size, config)]
        if oracle
        else [pool_slice(pools, segment, point) for segment in segments]
    )
    for segment, rows in zip(segments, added, strict=True):
        frames.append(rows)
        labels.append(np.full(len(rows), segment.target.label, dtype=np.int64))
        weights.append(np.full(len(rows), segment.weight))
    X = pd.concat(frames, ignore_index=True)
    n_added = len(X) - len(real)
    return TrainingSet(
        X=X,
        y=np.concatenate(labels),
        weight=np.concatenate(weights),
        n_real=len(real) + (n_added if oracle else 0),
        n_synthetic=0 if oracle else n_added,
        ratio=real_ratio(dataset, point.task, real),
        n_aug=sum(s.stop - s.start for s in segments if s.augmentation),
        n_added=n_added,
    )


def pool_slice(pools: dict[Target, pd.DataFrame], segment: Segment, point: Point) -> pd.DataFrame:
    pool = pools[segment.target]
    if len(pool) < segment.stop:
        raise RuntimeError(
            f"synthetic pool for {segment.target} holds {len(pool)} rows, {point} needs {segment.stop}"
        )
    return pool.iloc[segment.start : segment.stop]


# the risks that read a balanced prior, as the calibrator's class-balanced weights make it;
# overall CE, F1 and the plain Brier score weigh the test set's own prevalence, and AUC is
# unchanged by the monotone map: they get no twin
CALIBRATED_RISKS = ("minority_ce", "balanced_ce", "worst_group_ce", "balanced_accuracy")


def calibrated_risks(
    y: np.ndarray, p_calibrated: np.ndarray, task: Task, a: np.ndarray | None
) -> dict[str, float]:
    """The recalibrated probabilities' risks, keyed `<risk>_cal`: each group's CE, the task's
    minority, balanced and worst-group CE, balanced accuracy, and the class- (group-) balanced
    Brier score as `brier_cal`."""
    risks = compute_risks(y, p_calibrated, task, a)
    kept = {
        name: value for name, value in risks.items() if name in CALIBRATED_RISKS or name.startswith("ce_")
    }
    kept["brier"] = balanced_brier(y, p_calibrated, task, a)
    return {f"{name}{CALIBRATED_SUFFIX}": value for name, value in kept.items()}


def real_ratio(dataset: Dataset, task: Task, real: np.ndarray) -> float:
    """n_maj / n_min among the real rows: classes, or disagree vs agree groups."""
    keys = row_targets(dataset, task, real)
    targets = TASK_TARGETS[task]
    return float(np.isin(keys, targets.majority).sum() / np.isin(keys, targets.minority).sum())


def evaluate_point(
    dataset: Dataset,
    split: Split,
    point: Point,
    pools: dict[Target, pd.DataFrame],
    seed_size: int,
    experiment: ExperimentConfig,
    downstream: DownstreamConfig,
    classifiers: list[str],
    fit_seed: int,
) -> list[dict[str, float | int]]:
    """Build one training set, fit each classifier on it, and return their test risks, as
    fitted and after recalibration (`downstream.calibration`) on the calibration rows."""
    training = build_training_set(dataset, split, point, pools, seed_size, experiment)
    X_test = dataset.features.iloc[split.test_index]
    y_test = dataset.y[split.test_index].astype(np.int64)
    a_test = None if dataset.a is None else dataset.a[split.test_index]
    X_calibration = dataset.features.iloc[split.calibration_index]
    y_calibration = dataset.y[split.calibration_index].astype(np.int64)
    rows = []
    for classifier in classifiers:
        pipeline = make_classifier(classifier, downstream, dataset.schema, fit_seed)
        p_test = fit_predict(pipeline, training.X, training.y, training.weight, X_test)
        risks = compute_risks(y_test, p_test, point.task, a_test)
        p_calibrated = calibrate_probabilities(
            downstream.calibration,
            pipeline,
            p_test,
            training.y,
            training.weight,
            X_calibration,
            y_calibration,
        )
        if p_calibrated is not None:
            risks.update(calibrated_risks(y_test, p_calibrated, point.task, a_test))
        sizes = {
            "ratio": training.ratio,
            "n_aug": training.n_aug,
            "n_train": len(training.y),
            "n_real": training.n_real,
            "n_synthetic": training.n_synthetic,
            "n_added": training.n_added,
        }
        rows.append({**sizes, **risks})
    return rows
