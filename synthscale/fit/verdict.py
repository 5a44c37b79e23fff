"""What a reader may quote of a fit: its status, the notes on why alpha must not be quoted,
and the verdict in words."""

from __future__ import annotations

from enum import Enum

import numpy as np

from synthscale.fit.choice import IDENTIFYING_DECADES, at_edge
from synthscale.fit.design import Curve
from synthscale.fit.inference import CONFIDENCE
from synthscale.fit.laws import CATALOGUE, LAWS
from synthscale.fit.solve import ALPHA_BOUNDS


class FitStatus(str, Enum):
    """What a fitted curve's exponent is worth (the exponents table's `status` column)."""

    IDENTIFIED = "identified"  # alpha and its two-sided interval may be quoted
    BOUNDED_BELOW = "bounded_below"  # only a lower bound on alpha may be quoted
    NOT_IDENTIFIED = "not_identified"  # the data do not pin alpha down
    NO_DECAY = "no_decay"  # the loss does not fall with N: there is no exponent


def fit_status(decays: bool, bounded_below: bool, identified: bool) -> FitStatus:
    if not decays:
        return FitStatus.NO_DECAY
    if bounded_below:
        return FitStatus.BOUNDED_BELOW
    return FitStatus.IDENTIFIED if identified else FitStatus.NOT_IDENTIFIED


def fit_notes(curve: Curve, c: float, alpha: float, interval: tuple[float, float]) -> list[str]:
    """Why alpha must not be quoted, if it must not: no decay, or an unidentified exponent."""
    if np.ptp(curve.loss) == 0:
        return ["the loss is constant: no decay to fit"]
    if c <= 0:
        return ["loss does not fall with N (C <= 0): no decay to fit"]
    decades = float(np.log10(curve.n.max() / curve.n.min()))
    widen = identification_hint(decades)
    searched = f"[{ALPHA_BOUNDS[0]:g}, {ALPHA_BOUNDS[1]:g}]"
    if at_edge(alpha):
        return [f"alpha at the edge of the searched range {searched}: not identified ({widen})"]
    if interval[0] > ALPHA_BOUNDS[0] and interval[1] >= ALPHA_BOUNDS[1] and decades >= IDENTIFYING_DECADES:
        return [
            f"95% interval has no upper end in the searched range {searched}: alpha >= {interval[0]:.2g} "
            "(the curve levels off faster than a power of N0 + N resolves; alpha and N0 grow together)"
        ]
    if interval[0] <= ALPHA_BOUNDS[0] or interval[1] >= ALPHA_BOUNDS[1]:
        return [f"95% interval reaches the searched range {searched}: not identified ({widen})"]
    return []


def identification_hint(decades: float) -> str:
    """What to change when alpha is not identified."""
    fix = "widen the N grid" if decades < IDENTIFYING_DECADES else "add seeds or N values"
    return f"N spans {decades:.2f} decades; {fix}"


def verdict(row: dict) -> str:
    """What a reader may quote, in words (ASCII, so it survives LaTeX and any terminal)."""
    status = FitStatus(row["status"])
    if status is FitStatus.NO_DECAY:
        return "does not fall with N: no decay to fit"
    if status is FitStatus.BOUNDED_BELOW:
        return bounded_below_verdict(row)
    if status is FitStatus.NOT_IDENTIFIED:
        interval = f"alpha in [{row['alpha_ci_low']:.2g}, {row['alpha_ci_high']:.2g}]"
        return f"not identified: {interval}; {identification_hint(row['decades'])}"
    interval = f"{row['alpha']:.2g} [{row['alpha_ci_low']:.2g}, {row['alpha_ci_high']:.2g}]"
    if row["law"] == "shifted":
        text = (
            f"decays like (N0 + N)^-{interval} with N0 = {row['N0']:.3g} rows (to L_inf = {row['L_inf']:.3g})"
        )
    else:
        law = "pure power law, L_inf = 0" if row["law"] == "power" else f"to L_inf = {row['L_inf']:.3g}"
        text = f"decays like N^-{interval} ({law})"
    theory = f"alpha = {row['theory_alpha']:g}"
    text += "; " + theory_clause(theory, row["theory_p_value"])
    if row["law"] != "shifted":  # the law assumes N0 = 0 (and L_inf = 0): say what free ones allow
        free_high = row["alpha_free_ci_high"]
        upper = f"{free_high:.2g}]" if free_high < ALPHA_BOUNDS[1] else "no upper bound]"
        text += f"; with L_inf and N0 free: alpha in [{row['alpha_free_ci_low']:.2g}, {upper}, "
        text += theory_clause(theory, row["theory_p_value_free"])
    if row["preferred_model"] != row["law"]:
        called = CATALOGUE[row["preferred_model"]].called.format(theory=theory)
        gap = row[f"aic_{row['law']}"] - row[f"aic_{row['preferred_model']}"]
        text += f"; {called} fits better (AIC lower by {gap:.1f})"
        if row["preferred_model"] in LAWS:
            text += f" but its alpha is not identified ({identification_hint(row['decades'])})"
    return text


def is_true(flag: object) -> bool:
    """A boolean column's value, also when read back from CSV (absent or NaN: False)."""
    return isinstance(flag, (bool, np.bool_)) and bool(flag) or flag in ("True", "true")


def bounded_below_verdict(row: dict) -> str:
    """A law whose alpha has a lower bound only: quote the bound, not the estimate."""
    shape = "(N0 + N)" if row["law"] == "shifted" else "N"
    text = f"decays at least like {shape}^-{row['alpha_ci_low']:.2g} (alpha >= {row['alpha_ci_low']:.2g}, "
    estimate = f"{row['alpha']:.2g}" if row["alpha"] < ALPHA_BOUNDS[1] * 0.98 else "at the search bound"
    text += f"estimate {estimate}, no upper bound"
    text += f"; N0 = {row['N0']:.3g} rows" if row["law"] == "shifted" else ""
    text += f"; to L_inf = {row['L_inf']:.3g}): levels off faster than a power law resolves"
    return text + "; " + theory_clause(f"alpha = {row['theory_alpha']:g}", row["theory_p_value"])


def theory_clause(theory: str, p: float) -> str:
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.2g}"
    return f"{theory} rejected, {p_text}" if p < 1 - CONFIDENCE else f"consistent with {theory}, {p_text}"
