"""Deterministic splits: a held-out test set, a balanced seed set, and shuffled pools.

Targets are what a sampler is asked for: a class ('y1' = minority class, 'y0' = majority) in
the imbalance task, or an (attribute, label) group ('a1_y1', ...) in the spurious task. The
'agree' groups (a == y) are the minority of the spurious task, as in the paper's Section 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from synthscale.config import SplitConfig, Task
from synthscale.data.loaders import Dataset, Schema
from synthscale.errors import SynthscaleError

MINORITY_CLASS, MAJORITY_CLASS = "y1", "y0"
AGREE_GROUPS = ("a1_y1", "a0_y0")
DISAGREE_GROUPS = ("a1_y0", "a0_y1")
ALL_GROUPS = ("a0_y0", "a0_y1", "a1_y0", "a1_y1")


@dataclass(frozen=True)
class TaskTargets:
    """The minority and majority targets of a task; sizes are split evenly across each list."""

    minority: tuple[str, ...]
    majority: tuple[str, ...]


TASK_TARGETS: dict[str, TaskTargets] = {
    "imbalance": TaskTargets((MINORITY_CLASS,), (MAJORITY_CLASS,)),
    "spurious": TaskTargets(AGREE_GROUPS, DISAGREE_GROUPS),
}


@dataclass(frozen=True)
class Split:
    """Row positions into a Dataset; pools keep the remaining training rows in random order."""

    split_seed: int
    test_index: np.ndarray
    seed_index: np.ndarray
    pools: dict[str, np.ndarray]

    @property
    def train_index(self) -> np.ndarray:
        """Seed set plus every pooled row: all real training rows."""
        return np.concatenate([self.seed_index, self.pools[MINORITY_CLASS], self.pools[MAJORITY_CLASS]])


def class_keys(y: np.ndarray) -> np.ndarray:
    return np.where(y == 1, MINORITY_CLASS, MAJORITY_CLASS)


def group_keys(y: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add("a", a.astype(str)), np.char.add("_y", y.astype(str)))


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


def describe_target(schema: Schema, key: str) -> str:
    """'y1' -> "(income=>50K)", 'a0_y1' -> "(sex=Female, income=>50K)"."""
    label = schema.minority_value if key.endswith("y1") else schema.majority_value
    parts = [f"{schema.label}={label}"]
    if key.startswith("a"):
        assert schema.spurious_values is not None
        parts.insert(0, f"{schema.spurious}={schema.spurious_values[int(key[1])]}")
    return "(" + ", ".join(parts) + ")"


def target_key(schema: Schema, label_value: str | None, spurious_value: str | None) -> str:
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
        return f"y{y}"
    if schema.spurious_values is None:
        raise SynthscaleError("--spurious-value needs --spurious <column>")
    values = {str(v): a for a, v in enumerate(schema.spurious_values)}
    if spurious_value not in values:
        raise SynthscaleError(
            f"--spurious-value {spurious_value!r}: {schema.spurious} takes {', '.join(map(repr, values))}"
        )
    return f"a{values[spurious_value]}_y{y}"


def make_split(dataset: Dataset, config: SplitConfig, split_seed: int) -> Split:
    """Test set stratified by group, then a seed set balanced over groups (or classes)."""
    strata = class_keys(dataset.y) if dataset.a is None else group_keys(dataset.y, dataset.a)
    _check_strata(dataset, strata, config.test_fraction)
    rows = np.arange(len(dataset.y))
    train_rows, test_rows = train_test_split(
        rows, test_size=config.test_fraction, stratify=strata, random_state=split_seed
    )
    _check_test_groups(dataset, strata[test_rows])
    rng = np.random.default_rng(split_seed)
    train_rows = rng.permutation(train_rows)
    seed_parts, rest = [], np.ones(len(train_rows), dtype=bool)
    keys = np.unique(strata)
    per_key = config.seed_size // len(keys)
    for key in keys:
        positions = np.flatnonzero(strata[train_rows] == key)
        if len(positions) < per_key:
            raise SynthscaleError(
                f"group {describe_target(dataset.schema, str(key))} has {len(positions)} "
                f"training rows, the seed set needs {per_key}; lower split.seed_size"
            )
        seed_parts.append(train_rows[positions[:per_key]])
        rest[positions[:per_key]] = False
    pool_rows = train_rows[rest]
    pools = {key: pool_rows[class_keys(dataset.y[pool_rows]) == key] for key in ("y0", "y1")}
    if dataset.a is not None:
        pool_groups = group_keys(dataset.y[pool_rows], dataset.a[pool_rows])
        pools.update({key: pool_rows[pool_groups == key] for key in ALL_GROUPS})
    return Split(split_seed, np.sort(test_rows), np.concatenate(seed_parts), pools)


def _expected_strata(dataset: Dataset) -> tuple[str, ...]:
    return ("y0", "y1") if dataset.a is None else ALL_GROUPS


def _check_strata(dataset: Dataset, strata: np.ndarray, test_fraction: float) -> None:
    """Every stratum needs two rows, and the test set one row per stratum."""
    keys, counts = np.unique(strata, return_counts=True)
    found = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    for key in _expected_strata(dataset):
        if found.get(key, 0) < 2:
            fix = "choose another dataset.spurious or drop it" if dataset.a is not None else "use more data"
            raise SynthscaleError(
                f"group {describe_target(dataset.schema, key)} has {found.get(key, 0)} rows, "
                f"at least 2 are needed to split it; {fix}"
            )
    n_test = int(np.ceil(test_fraction * len(strata)))
    if n_test < len(found):
        raise SynthscaleError(
            f"split.test_fraction={test_fraction} gives {n_test} test rows for {len(found)} groups; "
            "raise split.test_fraction"
        )


def _check_test_groups(dataset: Dataset, test_strata: np.ndarray) -> None:
    present = set(np.unique(test_strata).tolist())
    for key in _expected_strata(dataset):
        if key not in present:
            raise SynthscaleError(
                f"group {describe_target(dataset.schema, key)} has no test rows; raise split.test_fraction"
            )
