"""Every estimate for one curve: the laws fitted, compared and chosen, as one exponents row."""

from __future__ import annotations

import numpy as np

from synthscale.fit.choice import IDENTIFYING_DECADES, choose_law, one_sided, preferred, shift_needed
from synthscale.fit.classes import FLAT_TOLERANCE, CurveClass
from synthscale.fit.design import Curve, curve_design
from synthscale.fit.inference import (
    BOOTSTRAP_REPLICATES,
    bootstrap_interval,
    compare_models,
    extra_sum_of_squares_p,
    linearised_fits,
    profile_interval,
    standard_errors,
    weighted_r2,
)
from synthscale.fit.laws import LAWS, MODELS
from synthscale.fit.solve import best_alpha, fitted_values, law_fit
from synthscale.fit.trend import trend_row
from synthscale.fit.verdict import fit_notes, fit_status, verdict

N_EPS_MAX_EXTRAPOLATION = 1000  # N_eps further than this many times the largest N is not reported


def fit_curve(
    curve: Curve,
    theory_alpha: float = 1.0,
    epsilon: float = 0.01,
    bootstrap_replicates: int = BOOTSTRAP_REPLICATES,
    bootstrap_seed: int = 0,
    seed_effects: bool = True,
    metric: str = "loss",
    flat_tolerance: float = FLAT_TOLERANCE,
) -> dict:
    """Every estimate for one curve, as a flat dict (one row of the exponents table): first its
    class (does the metric move with N at all), then, for a curve that decays, its law."""
    decades = float(np.log10(curve.n.max() / curve.n.min()))
    trend = trend_row(curve, metric, decades, flat_tolerance)
    design = curve_design(curve, seed_effects)
    n_ref = float(curve.n.max())
    alphas = {law: best_alpha(design, law) for law in LAWS}
    intervals = {law: profile_interval(design, law, alphas[law]) for law in LAWS}
    models = compare_models(design, theory_alpha, alphas)
    law = choose_law(models, alphas, intervals, shift_needed(design, models, alphas), decades)
    alpha_hat = alphas[law]
    coef, _, fitted_design = law_fit(design, alpha_hat, law)
    l_inf, c, shift = float(coef[0]), float(coef[1]), fitted_design.shift
    # L_inf = 0 is the bound of [0, its ceiling], not a model choice: a pure law's interval and
    # test let L_inf move inside its bounds (the saturating profile), else they would be
    # conditional on the bound binding and too narrow (bench/fit_coverage.py)
    family = "saturating" if law == "power" else law
    low, high = intervals[family]
    free_low, free_high = intervals["shifted"]
    decays = c > 0 and np.ptp(curve.loss) > 0 and trend["curve_class"] == CurveClass.DECAYS.value
    row = {
        "law": law,
        "alpha": alpha_hat,
        **standard_errors(fitted_design, law, alpha_hat, coef),
        "alpha_ci_low": low,
        "alpha_ci_high": high,
        "theory_alpha": theory_alpha,
        "theory_p_value": extra_sum_of_squares_p(design, family, alphas[family], theory_alpha),
        # the same test in the most general law, which holds the others: whatever L_inf and N0 are
        "theory_p_value_free": extra_sum_of_squares_p(design, "shifted", alphas["shifted"], theory_alpha),
        "alpha_free_ci_low": free_low,  # the interval with L_inf and N0 free
        "alpha_free_ci_high": free_high,
        "L_inf": l_inf,
        "L_inf_at_bound": bool(np.isclose(l_inf, 0.0) or np.isclose(l_inf, design.l_inf_max)),
        "C": c,
        "N0": shift,
        "n_ref": n_ref,
        "r2": weighted_r2(design, fitted_values(fitted_design, alpha_hat, coef)),
        "preferred_model": preferred(models),
        **{f"{stat}_{model}": models[model][stat] for model in MODELS for stat in ("aic", "bic")},
        "n_eps": n_eps(c, alpha_hat, n_ref, epsilon, shift),
        "next_block_gain": next_block_gain(curve, c, alpha_hat, shift),
        "decades": decades,
        "n_points": len(curve.n),
        "n_seeds": len(np.unique(curve.seed)),
        "seed_effects": design.seed_columns > 0,
    }
    row.update(linearised_fits(curve, l_inf))
    if not decays:  # no decay: an exponent would be noise
        row.update(dict.fromkeys(("alpha", "alpha_se", "alpha_ci_low", "alpha_ci_high", "alpha_free_ci_low",
                                  "alpha_free_ci_high", "theory_p_value", "theory_p_value_free",
                                  "n_eps", "next_block_gain"), np.nan))  # fmt: skip
        bootstrap_replicates = 0
    notes = fit_notes(curve, c, alpha_hat, (low, high))
    row["identified"] = decays and not notes
    row["bounded_below"] = bool(
        decays and decades >= IDENTIFYING_DECADES and one_sided(alpha_hat, (low, high))
    )
    row["status"] = fit_status(decays, row["bounded_below"], row["identified"]).value
    if notes:
        row["n_eps"] = np.nan  # a far extrapolation of an unidentified law means nothing
    boot = bootstrap_interval(curve, law, bootstrap_replicates, bootstrap_seed, seed_effects)
    notes += [boot.pop("note")] if boot.get("note") else []
    row.update(boot)
    row["notes"] = "; ".join(notes)
    sentence = trend.pop("sentence")
    row.update(trend)
    row["verdict"] = sentence + ("; " + verdict(row) if decays else "")
    return row


def n_eps(c: float, alpha: float, n_ref: float, epsilon: float, shift: float = 0.0) -> float:
    """N at which C ((N0 + N)/(N0 + N_ref))^-alpha falls to epsilon; NaN when beyond any
    meaningful range."""
    if c <= 0:
        return np.nan
    with np.errstate(over="ignore", divide="ignore"):
        value = (n_ref + shift) * np.power(np.float64(c / epsilon), 1 / alpha) - shift
    return float(value) if value <= N_EPS_MAX_EXTRAPOLATION * n_ref else np.nan


def next_block_gain(curve: Curve, c: float, alpha: float, shift: float = 0.0) -> float:
    """Loss the next block of rows (the grid's last step) would remove, by the fitted law."""
    distinct = np.unique(curve.n)
    n_max = float(distinct[-1])
    step = float(distinct[-1] - distinct[-2]) if len(distinct) > 1 else n_max
    return float(c * (1 - ((shift + n_max + step) / (shift + n_max)) ** (-alpha)))
