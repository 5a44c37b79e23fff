"""Which law describes a curve: AIC among the laws whose alpha the data identify."""

from __future__ import annotations

import numpy as np
from scipy import stats

from synthscale.fit.design import Design
from synthscale.fit.laws import LAWS, MODELS
from synthscale.fit.solve import ALPHA_BOUNDS, law_fit

SHIFT_TEST_LEVEL = 0.01
IDENTIFYING_DECADES = 2.0  # below this span of N a saturating law is hard to tell from log-linear


def shift_needed(design: Design, models: dict[str, dict], alphas: dict[str, float]) -> bool:
    """Whether the data need N0 > 0: the (N0 + N) law improves on the saturating law (N0 = 0)
    by the extra-sum-of-squares F test at 1 %, with N0 above a tenth of the smallest N. (At 5 %
    one curve in 20 without a shift gets one, and its interval then misses the true alpha.)"""
    shift = law_fit(design, alphas["shifted"], "shifted")[2].shift
    rss_shifted, rss_saturating = models["shifted"]["rss"], models["saturating"]["rss"]
    statistic = (rss_saturating - rss_shifted) / max(rss_shifted / design.residual_df("shifted"), 1e-300)
    p_value = stats.f.sf(max(statistic, 0.0), 1, design.residual_df("shifted"))
    return bool(shift > design.n.min() / 10 and p_value < SHIFT_TEST_LEVEL)


def choose_law(
    models: dict[str, dict],
    alphas: dict[str, float],
    intervals: dict[str, tuple],
    shifted_apart: bool,
    decades: float,
) -> str:
    """The best law by AIC. `shifted` counts only when the data need its N0 (`shift_needed`):
    near N0 = 0 it is the saturating law with a parameter on its boundary, where its profile
    interval is not valid. When the best law's alpha is not identified: on a grid of at least
    IDENTIFYING_DECADES, a law bounded below (`one_sided`) is kept, since the data do tell it
    apart and only its upper end is open; on a narrower grid, the best law whose alpha is
    identified describes the curve instead (the verdict says the other fits better)."""
    candidates = LAWS if shifted_apart else tuple(law for law in LAWS if law != "shifted")
    best = preferred(models, candidates)
    if two_sided(alphas[best], intervals[best]):
        return best
    if decades >= IDENTIFYING_DECADES and one_sided(alphas[best], intervals[best]):
        return best
    identified = tuple(law for law in candidates if two_sided(alphas[law], intervals[law]))
    return preferred(models, identified or candidates)


def two_sided(alpha: float, interval: tuple[float, float]) -> bool:
    """alpha identified: its interval inside the searched range, the estimate off its edges."""
    low, high = interval
    return ALPHA_BOUNDS[0] < low and high < ALPHA_BOUNDS[1] and not at_edge(alpha)


def one_sided(alpha: float, interval: tuple[float, float]) -> bool:
    """alpha bounded below only: the interval starts inside the range and reaches its top (the
    curve levels off faster than a power of N0 + N resolves: alpha and N0 grow together, toward
    an exponential decay in N)."""
    low, high = interval
    return (
        ALPHA_BOUNDS[0] < low
        and high >= ALPHA_BOUNDS[1]
        and not np.isclose(alpha, ALPHA_BOUNDS[0], rtol=0.02)
    )


def at_edge(alpha: float) -> bool:
    return bool(np.isclose(alpha, ALPHA_BOUNDS, rtol=0.02).any())


def preferred(models: dict[str, dict], among: tuple[str, ...] = MODELS) -> str:
    """Lowest AIC; on a tie the model listed later (fewer free parameters) wins."""
    return min(reversed(among), key=lambda m: models[m]["aic"])
