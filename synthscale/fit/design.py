"""What a curve is fitted on: its points, the per-point weights, the seed levels and the ceiling
on L_inf, the same for every model of the comparison."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from synthscale.fit.laws import CATALOGUE

WEIGHT_SHRINKAGE = 0.25  # weight = 1 / (0.25 var_N + 0.75 mean var): per-N variances from 5 seeds are noisy
CEILING_SE = 2.0  # L_inf may not exceed any N's mean loss by more than this many standard errors


@dataclass(frozen=True)
class Curve:
    """Losses of one curve: N (rows, > 0), loss, the seed of each point, and optionally the
    known sd of each point (when the points are means over seeds, as published curves are)."""

    n: np.ndarray
    loss: np.ndarray
    seed: np.ndarray
    sd: np.ndarray | None = None


@dataclass(frozen=True)
class Design:
    """What every model of one curve is fitted on: N (rows) and N_ref, the loss, the weights,
    the seed-level columns, the upper bound on L_inf, and the shift N0 (0 but for `shifted`)."""

    n: np.ndarray
    n_ref: float
    loss: np.ndarray
    weights: np.ndarray
    levels: np.ndarray
    l_inf_max: float
    shift: float = 0.0

    @property
    def x(self) -> np.ndarray:
        """(N0 + N) / (N0 + N_ref): 1 at the largest N."""
        return (self.n + self.shift) / (self.n_ref + self.shift)

    @property
    def seed_columns(self) -> int:
        return self.levels.shape[1]

    def residual_df(self, model: str) -> int:
        return max(len(self.n) - CATALOGUE[model].coefficients - self.seed_columns, 1)

    def shifted(self, shift: float) -> Design:
        return replace(self, shift=float(shift))


def curve_design(curve: Curve, seed_effects: bool = True) -> Design:
    levels = curve_levels(curve, seed_effects)
    if curve.sd is not None:
        weights = shrunk_inverse_variance(pd.Series(np.asarray(curve.sd, float) ** 2, index=curve.n), curve.n)
    else:
        weights = seed_spread_weights(curve, within_seeds=levels.shape[1] > 0)
    return Design(curve.n, float(curve.n.max()), curve.loss, weights, levels, l_inf_ceiling(curve))


def l_inf_ceiling(curve: Curve) -> float:
    """The upper bound on L_inf: the smallest loss the curve reaches, allowing for its noise:
    min over N of (mean over seeds + CEILING_SE standard errors). A bound at the smallest single
    point sits noise below a curve that has levelled off, and pulls L_inf, then alpha, down
    with it, so that alpha's interval misses the true value (bench/fit_coverage.py; measured in
    bench/RESULTS.md). For points that are means with a known sd over seeds (published curves)
    the seed count is unknown: the sd itself stands in for the standard error, a looser ceiling."""
    by_n = pd.Series(curve.loss).groupby(curve.n)
    if curve.sd is not None:
        error = pd.Series(np.asarray(curve.sd, float)).groupby(curve.n).mean()
    else:
        error = (by_n.std(ddof=1) / np.sqrt(by_n.count())).fillna(0.0)
    return float((by_n.mean() + CEILING_SE * error).min())


def seed_levels(seed: np.ndarray) -> np.ndarray:
    """Sum-to-zero coding of the seeds, (n, seeds - 1): a level per seed, averaging zero, so
    the intercept stays the average seed's L_inf. No columns for a single seed."""
    labels, codes = np.unique(seed, return_inverse=True)
    design = np.zeros((len(seed), max(len(labels) - 1, 0)))
    for column in range(design.shape[1]):
        design[codes == column, column] = 1.0
    design[codes == len(labels) - 1, :] = -1.0
    return design


def curve_levels(curve: Curve, seed_effects: bool) -> np.ndarray:
    """The seed-level design when it can be estimated: two or more seeds, each with at least
    two N (a seed seen at one N would spend its point on its own level)."""
    counts = pd.Series(curve.seed).value_counts()
    if not seed_effects or len(counts) < 2 or counts.min() < 2:
        return np.zeros((len(curve.n), 0))
    return seed_levels(curve.seed)


def seed_spread_weights(curve: Curve, within_seeds: bool = False) -> np.ndarray:
    """1 / variance across seeds at each N, shrunk toward the mean variance (few seeds).
    With seed levels in the model, each seed's mean is removed first: the weights should
    reflect the noise the levels do not explain."""
    loss = curve.loss
    if within_seeds:
        loss = loss - pd.Series(loss).groupby(curve.seed).transform("mean").to_numpy()
    variance = pd.DataFrame({"n": curve.n, "loss": loss}).groupby("n")["loss"].var(ddof=1).fillna(0.0)
    return shrunk_inverse_variance(variance, curve.n)


def shrunk_inverse_variance(variance: pd.Series, n: np.ndarray) -> np.ndarray:
    """Weights 1 / (0.25 var_N + 0.75 mean var), normalized to mean 1; equal weights when the
    variances are unknown or zero."""
    variance = variance.groupby(level=0).mean()
    if not np.isfinite(variance.mean()) or variance.mean() <= 0:
        return np.ones(len(n))
    shrunk = WEIGHT_SHRINKAGE * variance + (1 - WEIGHT_SHRINKAGE) * variance.mean()
    weights = 1.0 / shrunk.loc[n].to_numpy()
    return weights / weights.mean()
