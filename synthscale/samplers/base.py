"""The interface every oversampler implements, classic or LLM.

A sampler is fitted once on the rows it may see (with a target key per row: a class or an
(attribute, label) group) and then asked for `n` rows of one target. Pools are built from it
once per sweep, so `sample` may be slow but must be deterministic in `generator_seed`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from synthscale.data.schema import Schema
from synthscale.errors import SynthscaleError
from synthscale.targets import Target

StepCallback = Callable[[int, int, float], None]  # (steps done, steps in all, this step's loss)
# four trainings of a small model on one GPU each ran at about one's speed (bench/RESULTS.md)
SMALL_MODEL_BUILDS_PER_GPU = 4


class Sampler(Protocol):
    name: str
    min_target_rows: int  # a target with fewer visible rows cannot be sampled
    few_rows_fix: str  # the setting to change when that happens
    trains_model: bool  # a model worth sharing across tasks, and worth a GPU
    builds_per_gpu: int  # its pool builds that share one GPU under resources.generator_gpus auto
    on_training_step: StepCallback | None  # hears each training step

    def fit(self, rows: pd.DataFrame, targets: np.ndarray, schema: Schema) -> Sampler:
        """Learn from `rows` (features only); `targets` holds each row's class or group key."""
        ...

    def sample(self, n: int, target: Target | str, generator_seed: int) -> pd.DataFrame:
        """Exactly `n` new rows of `target` (a Target or its key), with the fitted rows'
        columns and dtypes."""
        ...

    def cache_settings(self) -> dict[str, Any]:
        """Settings that change the output: part of every pool's cache key."""
        ...

    def target_report(self, target: Target | str) -> dict[str, float]:
        """What sampling `target` cost or dropped (validity, rows generated); recorded per pool."""
        ...

    def model_record(self) -> dict[str, Any] | None:
        """A sampler that trains a model: the model's key, source and loss per step; else None."""
        ...


DEFAULT_FEW_ROWS_FIX = "set generator.data_access=train (the sampler then sees every training row)"


class VisibleRows(ABC):
    """Shared plumbing: keep the rows a sampler may see, their target keys and the schema, and
    the public `sample` that every sampler shares; a sampler writes only `_sample`."""

    name = "sampler"
    min_target_rows = 1
    few_rows_fix = DEFAULT_FEW_ROWS_FIX  # what the user can change when a target has too few rows
    trains_model = False
    builds_per_gpu = 1
    # a sampler that trains a model calls it with (steps done, steps in all, loss) as it trains
    on_training_step: StepCallback | None = None

    def __init__(self) -> None:
        self._rows: pd.DataFrame | None = None
        self._targets: np.ndarray | None = None
        self._schema: Schema | None = None

    def fit(self, rows: pd.DataFrame, targets: np.ndarray, schema: Schema) -> VisibleRows:
        self._rows = self._prepare(rows[schema.feature_names], schema).reset_index(drop=True)
        self._targets = np.asarray(targets).astype(str)
        self._schema = schema
        return self

    def sample(self, n: int, target: Target | str, generator_seed: int) -> pd.DataFrame:
        """Exactly `n` rows of `target` in the schema's dtypes: the target is checked against the
        fitted rows first, and no rows are asked of the sampler for n = 0."""
        count = self._count_target(target)
        if n == 0:
            return restore_dtypes(self._rows.iloc[:0], self._schema)
        rows = self._sample(n, as_target(target), count, generator_seed)
        if len(rows) != n:
            raise RuntimeError(f"{self.name} made {len(rows)} rows of {target} where {n} were asked for")
        return self._typed(rows)

    @abstractmethod
    def _sample(self, n: int, target: Target, count: int, generator_seed: int) -> pd.DataFrame:
        """n > 0 new rows of `target`, of which the fitted rows hold `count`."""

    def _typed(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Hook: the made rows in the schema's dtypes (integers snapped to observed values)."""
        return restore_dtypes(rows, self._schema)

    def _prepare(self, rows: pd.DataFrame, schema: Schema) -> pd.DataFrame:
        """Hook: how a sampler wants to hold the rows (as they are, by default)."""
        return rows

    def target_report(self, target: Target | str) -> dict[str, float]:
        """Classic samplers drop nothing and have nothing to report."""
        return {}

    def model_record(self) -> dict[str, Any] | None:
        """Classic samplers train no model."""
        return None

    def _count_target(self, target: Target | str) -> int:
        """Rows of `target` among the visible rows; refuses a target it cannot sample."""
        if self._rows is None or self._schema is None:
            raise RuntimeError(f"{self.name}: call fit() before sample()")
        return check_target(
            self.name, target, self._targets, self.min_target_rows, self._schema, self.few_rows_fix
        )


def restore_dtypes(rows: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Integers back to int64, snapped to the nearest observed value (an interpolated 0/1 flag
    stays 0 or 1, X6 stays -1 or 1); categories back to their full domain."""
    restored = {}
    for column in schema.columns:
        values = rows[column.name]
        if column.kind == "int":
            restored[column.name] = snap_to_values(values.to_numpy(np.float64), column.int_values)
        elif column.kind == "float":
            restored[column.name] = values.astype(np.float64)
        else:
            restored[column.name] = pd.Categorical(values.astype(str), categories=column.categories)
    return pd.DataFrame(restored).reset_index(drop=True)


def snap_to_values(values: np.ndarray, observed: tuple[int, ...]) -> np.ndarray:
    """Each value replaced by the nearest of the sorted `observed` integers."""
    return nearest_of(values, observed).astype(np.int64)


def nearest_of(values: np.ndarray, observed: tuple) -> np.ndarray:
    """Each value replaced by the nearest of the sorted `observed` numbers (ties go down)."""
    domain = np.asarray(observed, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(domain) == 1:
        return np.full(len(values), domain[0])
    right = np.clip(np.searchsorted(domain, values), 1, len(domain) - 1)
    left = right - 1
    nearest = np.where(values - domain[left] <= domain[right] - values, left, right)
    return domain[nearest]


def check_target(
    name: str,
    target: Target | str,
    targets: np.ndarray,
    minimum: int,
    schema: Schema,
    fix: str = DEFAULT_FEW_ROWS_FIX,
) -> int:
    """Count the fitted rows of `target`; refuse a target the sampler cannot sample, with `fix`."""
    target = as_target(target)
    count = int(np.sum(targets == target))
    if count < minimum:
        seen = ", ".join(Target(t).describe(schema) for t in sorted(set(targets.tolist())))
        raise SynthscaleError(
            f"{name}: {target.describe(schema)} has {count} rows among the rows the sampler "
            f"may see (it saw {seen}); it needs at least {minimum}; {fix}"
        )
    return count


def as_target(target: Target | str) -> Target:
    """A Target from itself or its key; a key that names none is refused with the valid ones."""
    try:
        return Target(target)
    except ValueError:
        valid = ", ".join(repr(t.value) for t in Target)
        raise SynthscaleError(f"target {target!r} names no class or group; use one of {valid}") from None
