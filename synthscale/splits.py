"""Deterministic splits: a held-out test set, a balanced set, and shuffled real-row reserves
(the paper's protocols), or one fold of a stratified k-fold partition (the native protocol).

The balanced set (`split.seed_size` rows, the paper's "seed data") holds equally many rows of
each class or group and starts every training set; the reserves keep every other training row
of each target in random order, for the majority rows a point adds from their front (and the
oracle's real rows from their back). The calibration rows (`split.calibration_size`, balanced
the same way) are set apart beside the test set: no classifier trains on them and no
generator sees them, so recalibrating on them measures what a user with a small validation
set would see. Targets (classes and groups) are `synthscale.targets.Target`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from synthscale.config import SplitConfig, Task
from synthscale.data.schema import Dataset, Schema
from synthscale.errors import SynthscaleError
from synthscale.targets import (
    ALL_GROUPS,
    CLASSES,
    MAJORITY_CLASS,
    MINORITY_CLASS,
    Target,
    class_keys,
    group_keys,
)

MIN_NATIVE_CALIBRATION = 2  # calibration rows per group: both classes twice, as the calibrator's folds need
MIN_TEST_ROWS = 10  # test rows per group (class, or attribute x class): fewer and its risk is noise


@dataclass(frozen=True)
class Split:
    """Row positions into a Dataset: test rows, the balanced set, and per target the other
    training rows in random order (classes and, with an attribute, groups: they overlap)."""

    split_seed: int
    test_index: np.ndarray
    balanced_index: np.ndarray
    reserves: dict[Target, np.ndarray]
    calibration_index: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))

    @property
    def train_index(self) -> np.ndarray:
        """The balanced set plus every reserved row: all real training rows."""
        return np.concatenate(
            [self.balanced_index, self.reserves[MINORITY_CLASS], self.reserves[MAJORITY_CLASS]]
        )


def row_targets(dataset: Dataset, task: Task, index: np.ndarray | None = None) -> np.ndarray:
    """Per-row target keys for a task: classes for imbalance, groups for spurious."""
    index = np.arange(len(dataset.y)) if index is None else index
    if task == "imbalance":
        return class_keys(dataset.y[index])
    require_spurious(dataset)
    return group_keys(dataset.y[index], dataset.a[index])


def require_spurious(dataset: Dataset) -> None:
    if dataset.a is None:
        raise SynthscaleError(
            f"task 'spurious' needs a spurious attribute but dataset '{dataset.name}' has none; "
            "set dataset.spurious=<column> or drop 'spurious' from experiment.tasks"
        )


def target_named(schema: Schema, label_value: str | None, spurious_value: str | None) -> Target:
    """The target a user names by values: the class (default minority) and, for a group,
    the attribute value. Values are compared as text, as they come from a command line."""
    y = 1
    if label_value is not None:
        labels = {str(schema.majority_value): 0, str(schema.minority_value): 1}
        if label_value not in labels:
            raise SynthscaleError(
                f"--label-value {label_value!r}: {schema.label} takes {', '.join(map(repr, labels))}"
            )
        y = labels[label_value]
    if spurious_value is None:
        return Target.of(y)
    if schema.spurious_values is None:
        raise SynthscaleError("--spurious-value needs --spurious <column>")
    values = {str(v): a for a, v in enumerate(schema.spurious_values)}
    if spurious_value not in values:
        raise SynthscaleError(
            f"--spurious-value {spurious_value!r}: {schema.spurious} takes {', '.join(map(repr, values))}"
        )
    return Target.of(y, values[spurious_value])


def make_split(dataset: Dataset, config: SplitConfig, split_seed: int) -> Split:
    """Test set stratified by group, then a set balanced over groups (or classes) from the
    front of each group's shuffled training rows and the calibration rows from their back,
    so each group's reserve is the one it is without calibration rows, less its last rows (a
    class reserve, which interleaves two groups, loses rows from within)."""
    strata = class_keys(dataset.y) if dataset.a is None else group_keys(dataset.y, dataset.a)
    _check_strata(dataset, strata, config.test_fraction)
    rows = np.arange(len(dataset.y))
    train_rows, test_rows = train_test_split(
        rows, test_size=config.test_fraction, stratify=strata, random_state=split_seed
    )
    _check_test_groups(dataset, strata, strata[test_rows], config.test_fraction)
    rng = np.random.default_rng(split_seed)
    train_rows = rng.permutation(train_rows)
    balanced_parts, calibration_parts, rest = [], [], np.ones(len(train_rows), dtype=bool)
    keys = [Target(key) for key in np.unique(strata)]
    per_key, calibration_per_key = config.seed_size // len(keys), config.calibration_rows // len(keys)
    for key in keys:
        positions = np.flatnonzero(strata[train_rows] == key)
        if len(positions) < per_key + calibration_per_key:
            calibration_need = (
                f" and the calibration rows {calibration_per_key}" if calibration_per_key else ""
            )
            raise SynthscaleError(
                f"group {key.describe(dataset.schema)} has {len(positions)} training rows, the seed "
                f"set needs {per_key}{calibration_need}; lower split.seed_size"
                + (" or split.calibration_size" if calibration_per_key else "")
            )
        calibration = positions[len(positions) - calibration_per_key :]
        balanced_parts.append(train_rows[positions[:per_key]])
        calibration_parts.append(train_rows[calibration])
        rest[positions[:per_key]] = False
        rest[calibration] = False
    reserve_rows = train_rows[rest]
    reserves = {key: reserve_rows[class_keys(dataset.y[reserve_rows]) == key] for key in CLASSES}
    if dataset.a is not None:
        reserve_groups = group_keys(dataset.y[reserve_rows], dataset.a[reserve_rows])
        reserves.update({key: reserve_rows[reserve_groups == key] for key in ALL_GROUPS})
    return Split(
        split_seed,
        np.sort(test_rows),
        np.concatenate(balanced_parts),
        reserves,
        np.sort(np.concatenate(calibration_parts)),
    )


def make_fold_split(dataset: Dataset, folds: int, replicate: int, calibration_size: int = 0) -> Split:
    """The native protocol's split: fold `replicate % folds` of a stratified k-fold partition
    drawn with seed `replicate // folds` is the test set, every other row trains (and is what
    a generator sees, whatever its data access: the table as it is has no seed set).

    Calibration rows are an inner fold of the training fold: each group gives 1/folds of its
    training rows (at least MIN_NATIVE_CALIBRATION), at most calibration_size / groups. A table
    as it is may hold a few dozen minority rows, too few for a balanced set of s."""
    strata = class_keys(dataset.y) if dataset.a is None else group_keys(dataset.y, dataset.a)
    keys, counts = np.unique(strata, return_counts=True)
    for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
        if count < folds:
            raise SynthscaleError(
                f"group {Target(key).describe(dataset.schema)} has {count} rows, fewer than "
                f"experiment.native.folds={folds}: a fold would test none of them; lower the folds"
            )
    partition = StratifiedKFold(n_splits=folds, shuffle=True, random_state=replicate // folds)
    train_rows, test_rows = list(partition.split(np.zeros(len(strata)), strata))[replicate % folds]
    calibration = _inner_calibration_rows(dataset, strata, train_rows, folds, replicate, calibration_size)
    train_rows = np.setdiff1d(train_rows, calibration)
    empty = np.array([], dtype=np.int64)
    reserves = {key: empty for key in (*CLASSES, *(ALL_GROUPS if dataset.a is not None else ()))}
    return Split(replicate, np.sort(test_rows), np.sort(train_rows), reserves, calibration)


def _inner_calibration_rows(
    dataset: Dataset, strata: np.ndarray, train_rows: np.ndarray, folds: int, replicate: int, size: int
) -> np.ndarray:
    """Each group's share of the training fold set apart for calibration, drawn with the
    replicate's seed; every group keeps a training row."""
    if size == 0:
        return np.array([], dtype=np.int64)
    rng = np.random.default_rng(replicate)
    keys = np.unique(strata)
    cap = size // len(keys)
    chosen = []
    for key in keys:
        rows = rng.permutation(train_rows[strata[train_rows] == key])
        n = min(cap, max(MIN_NATIVE_CALIBRATION, len(rows) // folds))
        if len(rows) - n < 1:
            raise SynthscaleError(
                f"group {Target(key).describe(dataset.schema)} has {len(rows)} rows in the training "
                f"fold of seed {replicate}: too few to set {n} apart for calibration and still train "
                "on one; set split.calibration_size=0 (and downstream.calibration=prior_shift or none)"
            )
        chosen.append(rows[:n])
    return np.sort(np.concatenate(chosen))


def _expected_strata(dataset: Dataset) -> tuple[Target, ...]:
    return CLASSES if dataset.a is None else ALL_GROUPS


def _check_strata(dataset: Dataset, strata: np.ndarray, test_fraction: float) -> None:
    """Every stratum needs two rows, and the test set one row per stratum."""
    keys, counts = np.unique(strata, return_counts=True)
    found = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    for key in _expected_strata(dataset):
        if found.get(key, 0) < 2:
            fix = "choose another dataset.spurious or drop it" if dataset.a is not None else "use more data"
            raise SynthscaleError(
                f"group {key.describe(dataset.schema)} has {found.get(key, 0)} rows, "
                f"at least 2 are needed to split it; {fix}"
            )
    n_test = int(np.ceil(test_fraction * len(strata)))
    if n_test < len(found):
        raise SynthscaleError(
            f"split.test_fraction={test_fraction} gives {n_test} test rows for {len(found)} groups; "
            "raise split.test_fraction"
        )


def _check_test_groups(
    dataset: Dataset, strata: np.ndarray, test_strata: np.ndarray, test_fraction: float
) -> None:
    """Each group's risk is a mean over its test rows: from a handful it is noise (two rows
    can give an AUC of 1.0), so each group needs MIN_TEST_ROWS of them."""
    keys, counts = np.unique(test_strata, return_counts=True)
    present = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    for key in _expected_strata(dataset):
        found = present.get(key, 0)
        if found < MIN_TEST_ROWS:
            rows = int((strata == key).sum())
            needed = min(0.9, np.ceil(100 * MIN_TEST_ROWS / max(rows, 1)) / 100)
            raise SynthscaleError(
                f"split.test_fraction={test_fraction:g} gives group {key.describe(dataset.schema)} "
                f"{found} test row{'' if found == 1 else 's'} of its {rows}; its risk needs at least "
                f"{MIN_TEST_ROWS}: raise split.test_fraction (to {needed:g} or more), or use more data"
            )
