"""Whether more rows move a curve at all, asked before any exponent: the change of the metric
per decade of N, and the curve's class.

The slope b of metric = a_seed + b log10 N (a level per seed: the points of one seed share a
split and a nested pool) by ordinary least squares (statsmodels). The class says what the
data show:
- decays / rises: the 95 % interval of b excludes 0 (the metric falls / grows with N);
- flat: it does not, and the 90 % interval of b lies inside +-tolerance (two one-sided tests
  at 5 %): "more rows change the metric by at most X per decade";
- not identified: neither, with the number of seeds that would settle it at today's spread.
A flat curve is an answer, not a failed fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats

from synthscale.fit.choice import IDENTIFYING_DECADES
from synthscale.fit.classes import DIRECTION_LEVEL, EQUIVALENCE_LEVEL, FLAT_TOLERANCE, CurveClass
from synthscale.fit.design import Curve, seed_levels
from synthscale.risks import HIGHER_IS_BETTER

CONSTANT = 1e-12  # a change per decade this small is rounding: the metric does not move


@dataclass(frozen=True)
class Trend:
    """The change of the metric per decade of N, with its standard error and residual df."""

    slope: float
    se: float
    df: int
    n_seeds: int

    def interval(self, level: float) -> tuple[float, float]:
        half = stats.t.ppf(1 - level / 2, self.df) * self.se
        return self.slope - half, self.slope + half


def decade_trend(curve: Curve) -> Trend:
    """b in metric = a_seed + b log10 N, with a level per seed when there are several."""
    levels = seed_levels(curve.seed)
    design = np.column_stack([np.ones(len(curve.n)), np.log10(curve.n), levels])
    fit = sm.OLS(curve.loss, design).fit()
    return Trend(float(fit.params[1]), float(fit.bse[1]), int(fit.df_resid), len(np.unique(curve.seed)))


def classify(trend: Trend, tolerance: float = FLAT_TOLERANCE) -> CurveClass:
    low, high = trend.interval(DIRECTION_LEVEL)
    if high < 0:
        return CurveClass.DECAYS
    if low > 0:
        return CurveClass.RISES
    low, high = trend.interval(2 * EQUIVALENCE_LEVEL)
    return CurveClass.FLAT if -tolerance < low and high < tolerance else CurveClass.NOT_IDENTIFIED


def seeds_to_settle(trend: Trend, tolerance: float = FLAT_TOLERANCE) -> int:
    """Seeds at which today's spread (a standard error shrinking as 1/sqrt(seeds)) would give
    the slope a direction or show it flat, whichever comes first."""
    factors = []
    if trend.slope != 0:
        factors.append((stats.t.ppf(1 - DIRECTION_LEVEL / 2, trend.df) * trend.se / abs(trend.slope)) ** 2)
    if abs(trend.slope) < tolerance:
        margin = tolerance - abs(trend.slope)
        factors.append((stats.t.ppf(1 - EQUIVALENCE_LEVEL, trend.df) * trend.se / margin) ** 2)
    return math.ceil(trend.n_seeds * min(factors)) if factors else -1


def trend_row(curve: Curve, metric: str, decades: float, tolerance: float = FLAT_TOLERANCE) -> dict:
    """The exponents table's trend columns for one curve, and its sentence."""
    trend = decade_trend(curve)
    curve_class = classify(trend, tolerance)
    low, high = trend.interval(DIRECTION_LEVEL)
    flat_low, flat_high = trend.interval(2 * EQUIVALENCE_LEVEL)
    settle = seeds_to_settle(trend, tolerance) if curve_class is CurveClass.NOT_IDENTIFIED else -1
    row = {
        "curve_class": curve_class.value,
        "slope_per_decade": trend.slope,
        "slope_ci_low": low,
        "slope_ci_high": high,
        "flat_bound": max(abs(flat_low), abs(flat_high)),
        "flat_tolerance": tolerance,
        "seeds_to_settle": settle,
    }
    row["sentence"] = sentence(row, metric, trend.n_seeds, decades)
    return row


def sentence(row: dict, metric: str, n_seeds: int, decades: float) -> str:
    """One plain sentence (ASCII) on what more rows do to the metric."""
    slope = f"{row['slope_per_decade']:+.3g} per decade of N [{row['slope_ci_low']:+.3g}, {row['slope_ci_high']:+.3g}]"
    curve_class = CurveClass(row["curve_class"])
    if curve_class is CurveClass.FLAT and row["flat_bound"] < CONSTANT:
        return f"flat: {metric} is the same at every N"
    if curve_class is CurveClass.FLAT:
        return (
            f"flat: more rows change {metric} by at most {row['flat_bound']:.3g} per decade of N "
            f"(tolerance {row['flat_tolerance']:g})"
        )
    if curve_class is CurveClass.NOT_IDENTIFIED:
        return (
            f"not identified: {slope}, neither flat within {row['flat_tolerance']:g} nor clear of 0; "
            f"about {row['seeds_to_settle']} seeds (now {n_seeds}) would settle it"
            + (
                f", or widen the N grid (it spans {decades:.2f} decades)"
                if decades < IDENTIFYING_DECADES
                else ""
            )
        )
    falls = curve_class is CurveClass.DECAYS
    helps = falls != (metric in HIGHER_IS_BETTER)
    verb = "falls" if falls else "rises"
    return f"{verb} with N, more rows {'help' if helps else 'hurt'}: {slope}"
