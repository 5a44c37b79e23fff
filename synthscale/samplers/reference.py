"""Reference samplers: the yardsticks a generator must beat to show it learned something.

Minority-class cross-entropy rewards any generator that spreads rows around the minority
region and shifts the classifier's prior, learned or not. These references do exactly that
and no more:
- `independent`: each column drawn on its own from the target's rows (marginals kept,
  every dependence broken);
- `independent_unconditional`: `independent` with conditional: false, i.e. columns drawn from
  all visible rows whatever their label (a generator that ignores the label; for a group
  target only the spurious attribute is fixed, as a prompt would fix it);
- `gaussian_copula`: the target's empirical marginals joined by a Gaussian copula fitted on
  normal scores of the ranks; every value is one the column was observed to take.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthscale.config import GeneratorConfig
from synthscale.samplers.base import VisibleRows
from synthscale.samplers.registry import register
from synthscale.targets import Target

# Copula fits need two rows for a rank correlation; a target with fewer is refused by name.
COPULA_MIN_ROWS = 2


class _ReferenceSampler(VisibleRows):
    """Draws from the visible rows; no settings change the output but the seed."""

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()

    def cache_settings(self) -> dict[str, Any]:
        return {}

    def _target_rows(self, target: Target) -> pd.DataFrame:
        return self._rows.loc[self._targets == target]


@register("independent")
class IndependentSampler(_ReferenceSampler):
    """Each column resampled on its own from the target's rows."""

    name = "independent"

    def _sample(self, n: int, target: Target, count: int, generator_seed: int) -> pd.DataFrame:
        return draw_columns_independently(self._target_rows(target), n, generator_seed)


@register("independent_unconditional")
class UnconditionalIndependentSampler(_ReferenceSampler):
    """Columns from all visible rows, label ignored; a group's attribute is still fixed."""

    name = "independent_unconditional"

    def _sample(self, n: int, target: Target, count: int, generator_seed: int) -> pd.DataFrame:
        drawn = draw_columns_independently(self._rows, n, generator_seed)
        schema = self._schema
        if target.is_group and schema.spurious is not None:
            drawn[schema.spurious] = self._target_rows(target)[schema.spurious].iloc[0]
        return drawn


@register("gaussian_copula")
class GaussianCopulaSampler(_ReferenceSampler):
    """Empirical marginals joined by a Gaussian copula on normal scores of the ranks."""

    name = "gaussian_copula"
    min_target_rows = COPULA_MIN_ROWS

    def _sample(self, n: int, target: Target, count: int, generator_seed: int) -> pd.DataFrame:
        source = self._target_rows(target)
        rng = np.random.default_rng(generator_seed)
        codes = _as_codes(source)
        correlation = normal_score_correlation(codes)
        normal = stats.multivariate_normal(cov=correlation, allow_singular=True).rvs(n, random_state=rng)
        uniform = stats.norm.cdf(np.reshape(normal, (n, len(codes.columns))))
        drawn = {
            name: np.quantile(codes[name].to_numpy(), uniform[:, i], method="inverted_cdf")
            for i, name in enumerate(codes.columns)
        }
        return _from_codes(pd.DataFrame(drawn), source)


def draw_columns_independently(source: pd.DataFrame, n: int, generator_seed: int) -> pd.DataFrame:
    """n rows whose every column is an independent draw (with replacement) from `source`."""
    rng = np.random.default_rng(generator_seed)
    return pd.DataFrame(
        {name: source[name].to_numpy()[rng.integers(0, len(source), n)] for name in source.columns}
    )


def normal_score_correlation(codes: pd.DataFrame) -> np.ndarray:
    """Correlation of the normal scores Phi^-1(rank / (n + 1)); constant columns get none."""
    ranks = codes.rank(method="average").to_numpy()
    scores = stats.norm.ppf(ranks / (len(codes) + 1))
    constant = np.ptp(scores, axis=0) == 0
    correlation = np.eye(scores.shape[1])
    varying = np.flatnonzero(~constant)
    if len(varying) > 1:
        correlation[np.ix_(varying, varying)] = np.corrcoef(scores[:, varying], rowvar=False)
    return correlation


def _as_codes(rows: pd.DataFrame) -> pd.DataFrame:
    """Categories as their integer codes, so every column has an empirical CDF."""
    return pd.DataFrame(
        {
            name: rows[name].cat.codes.to_numpy()
            if isinstance(rows[name].dtype, pd.CategoricalDtype)
            else rows[name]
            for name in rows.columns
        }
    )


def _from_codes(drawn: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    for name in like.columns:
        if isinstance(like[name].dtype, pd.CategoricalDtype):
            drawn[name] = like[name].cat.categories.to_numpy()[drawn[name].astype(int)]
    return drawn
