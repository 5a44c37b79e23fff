"""A curve's class: what more rows do to a metric, decided before any exponent is fitted
(`trend` computes it). Kept free of scipy and statsmodels, so the command line's --help can
state the default tolerance."""

from __future__ import annotations

from enum import Enum

FLAT_TOLERANCE = 0.015  # per decade of N, in the metric's units: 3 % of a balanced CE near 0.5
DIRECTION_LEVEL = 0.05  # a two-sided test that the change per decade is 0
EQUIVALENCE_LEVEL = 0.05  # each of the two one-sided tests that |change per decade| < tolerance


class CurveClass(str, Enum):
    """What a curve does as N grows (the exponents table's `curve_class` column)."""

    DECAYS = "decays"  # falls: the change per decade clear of 0, downward
    FLAT = "flat"  # the change per decade within +-tolerance
    RISES = "rises"  # grows: clear of 0, upward
    NOT_IDENTIFIED = "not_identified"  # neither: more seeds or a wider grid would settle it
