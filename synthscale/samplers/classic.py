"""ros, smote (SMOTENC / SMOTEN with categories) and adasyn: thin wrappers over imblearn.

Each call asks imblearn for `count + n` rows of the target class and keeps the new tail,
so the other targets only shape the neighbourhoods (ADASYN) and are never resampled.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import ADASYN, SMOTE, SMOTEN, SMOTENC, RandomOverSampler

from synthscale.config import GeneratorConfig
from synthscale.data.schema import Schema
from synthscale.errors import SynthscaleError
from synthscale.samplers.base import VisibleRows
from synthscale.samplers.registry import register
from synthscale.targets import Target

# ADASYN rounds its per-row allocation, so one call may return a few rows too many or too few:
# each call asks for at least this many extra rows, and a shortfall is asked for again.
ADASYN_MIN_SLACK = 16
ADASYN_MAX_ROUNDS = 20
MAX_SEED = 2**31 - 1  # numpy and sklearn accept seeds below this


class _ImblearnSampler(VisibleRows, ABC):
    """Shared sample plumbing; subclasses build the imblearn object for one call."""

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        self.k_neighbors = config.k_neighbors

    def _prepare(self, rows: pd.DataFrame, schema: Schema) -> pd.DataFrame:
        """imblearn casts interpolated values back to int64 by truncation; give it floats and
        let restore_dtypes snap them to observed integers instead."""
        return rows.astype(dict.fromkeys(schema.integer_names, np.float64))

    def cache_settings(self) -> dict[str, Any]:
        return {"k_neighbors": self.k_neighbors}

    def _sample(self, n: int, target: Target, count: int, seed: int) -> pd.DataFrame:
        resampler = self._resampler({target: count + n}, seed)
        resampled, _ = resampler.fit_resample(self._rows, self._targets)
        return resampled.iloc[len(self._rows) :]

    @abstractmethod
    def _resampler(self, strategy: dict[str, int], seed: int) -> Any:
        """The imblearn object for one call, asked for `strategy` rows per target."""


@register("ros")
class RandomOverSamplerWrapper(_ImblearnSampler):
    """Random oversampling: exact copies of the target's rows."""

    name = "ros"

    def _resampler(self, strategy: dict[str, int], seed: int) -> RandomOverSampler:
        return RandomOverSampler(sampling_strategy=strategy, random_state=seed)


class _NeighbourSampler(_ImblearnSampler, ABC):
    """Interpolates between a row and its k nearest neighbours: needs k + 1 rows per target."""

    few_rows_fix = "lower generator.k_neighbors or set generator.data_access=train"

    @property
    def min_target_rows(self) -> int:  # type: ignore[override]
        return self.k_neighbors + 1


@register("smote")
class SmoteWrapper(_NeighbourSampler):
    """SMOTE; SMOTENC when some features are categorical, SMOTEN when all are."""

    name = "smote"

    def _resampler(self, strategy: dict[str, int], seed: int) -> Any:
        assert self._schema is not None
        categorical = self._schema.categorical_names
        common = {"sampling_strategy": strategy, "random_state": seed, "k_neighbors": self.k_neighbors}
        if not categorical:
            return SMOTE(**common)
        if len(categorical) == len(self._schema.columns):
            return SMOTEN(**common)
        return SMOTENC(categorical_features=categorical, **common)


@register("adasyn")
class AdasynWrapper(_NeighbourSampler):
    """ADASYN; categorical columns go through one-hot codes and come back by argmax."""

    name = "adasyn"

    def _resampler(self, strategy: dict[str, int], seed: int) -> ADASYN:
        return ADASYN(sampling_strategy=strategy, random_state=seed, n_neighbors=self.k_neighbors)

    def _sample(self, n: int, target: Target, count: int, seed: int) -> pd.DataFrame:
        """ADASYN rounds its per-row allocation, so ask with slack and keep a random n."""
        encoded = pd.get_dummies(self._rows, dtype=np.float64)
        rng = np.random.default_rng(seed)
        parts, missing = [], n
        for attempt in range(ADASYN_MAX_ROUNDS):
            request = missing + max(ADASYN_MIN_SLACK, missing // 10) * 2 ** min(attempt, 6)
            round_seed = int(rng.integers(MAX_SEED))
            try:
                resampled, _ = self._resampler({target: count + request}, round_seed).fit_resample(
                    encoded, self._targets
                )
            except RuntimeError as exc:  # raised when no neighbour of the target is of another class
                raise SynthscaleError(
                    f"adasyn: target '{target}' has no neighbours of another target, so ADASYN "
                    f"has nothing to weight ({exc}); use smote for this data"
                ) from exc
            except ValueError as exc:  # a few rows spread over many rounded every share to 0
                if "No samples will be generated" not in str(exc):
                    raise
                continue  # the next round asks with twice the slack
            parts.append(resampled.iloc[len(encoded) :])
            missing = n - sum(len(p) for p in parts)
            if missing <= 0:
                generated = pd.concat(parts, ignore_index=True)
                keep = np.sort(rng.choice(len(generated), size=n, replace=False))
                return self._decode(generated.iloc[keep])
        raise SynthscaleError(
            f"adasyn: produced {n - missing} of {n} rows for target '{target}' after "
            f"{ADASYN_MAX_ROUNDS} rounds; use smote for this data"
        )

    def _decode(self, encoded: pd.DataFrame) -> pd.DataFrame:
        """One-hot blocks back to the category with the largest interpolated weight."""
        assert self._schema is not None
        decoded = {}
        for column in self._schema.columns:
            if column.kind != "category":
                decoded[column.name] = encoded[column.name].to_numpy()
                continue
            block = [f"{column.name}_{value}" for value in column.categories]
            block_values = encoded.reindex(columns=block, fill_value=0.0).to_numpy()
            decoded[column.name] = np.asarray(column.categories)[block_values.argmax(axis=1)]
        return pd.DataFrame(decoded)
