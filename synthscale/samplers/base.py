"""The interface every oversampler implements, classic or LLM.

A sampler is fitted once on the rows it may see (with a target key per row: a class or an
(attribute, label) group) and then asked for `n` rows of one target. Pools are built from it
once per sweep, so `sample` may be slow but must be deterministic in `generator_seed`.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from synthscale.data.loaders import Schema
from synthscale.errors import SynthscaleError


class Sampler(Protocol):
    name: str

    def fit(self, rows: pd.DataFrame, targets: np.ndarray, schema: Schema) -> Sampler:
        """Learn from `rows` (features only); `targets` holds each row's class or group key."""
        ...

    def sample(self, n: int, target: str, generator_seed: int) -> pd.DataFrame:
        """Exactly `n` new rows of `target`, with the fitted rows' columns and dtypes."""
        ...

    def cache_settings(self) -> dict[str, Any]:
        """Settings that change the output: part of every pool's cache key."""
        ...


def restore_dtypes(rows: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Integers back to int64 (rounded), categories back to their full domain."""
    restored = {}
    for column in schema.columns:
        values = rows[column.name]
        if column.kind == "int":
            restored[column.name] = np.rint(values.astype(np.float64)).astype(np.int64)
        elif column.kind == "float":
            restored[column.name] = values.astype(np.float64)
        else:
            restored[column.name] = pd.Categorical(values.astype(str), categories=column.categories)
    return pd.DataFrame(restored).reset_index(drop=True)


def check_target(name: str, target: str, targets: np.ndarray, minimum: int) -> int:
    """Count the fitted rows of `target`; refuse a target the sampler never saw."""
    count = int(np.sum(targets == target))
    if count < minimum:
        seen = ", ".join(sorted(set(targets.tolist())))
        raise SynthscaleError(
            f"{name}: target '{target}' has {count} rows among the rows it may see "
            f"(targets seen: {seen}); it needs at least {minimum}"
            + ("; lower generator.k_neighbors or use generator.data_access=train" if count else "")
        )
    return count
