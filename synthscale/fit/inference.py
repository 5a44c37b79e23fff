"""What the data say about alpha and the laws: profile intervals and F tests, the seed
bootstrap, standard errors, and the likelihoods that AIC/BIC compare."""

from __future__ import annotations

import warnings

import numpy as np
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.base.model import GenericLikelihoodModel

from synthscale.fit.design import Curve, Design, curve_design
from synthscale.fit.laws import CATALOGUE, LAWS, MODELS
from synthscale.fit.solve import ALPHA_BOUNDS, best_alpha, law_fit, solve_given_alpha

CONFIDENCE = 0.95
BOOTSTRAP_REPLICATES = 200
BOOTSTRAP_MIN_SEEDS = 5  # fewer seeds give too few distinct resamples for a percentile interval
BOOTSTRAP_GRID = 30  # coarser alpha grid inside the bootstrap
BOOTSTRAP_SHIFT_GRID = 16  # and a coarser N0 grid


def extra_sum_of_squares(
    design: Design, law: str, alpha_hat: float, alpha: float, rss_min: float | None = None
) -> float:
    """F statistic of fixing alpha: (RSS(alpha) - RSS_min) / (RSS_min / residual df)."""
    rss_min = law_fit(design, alpha_hat, law)[1] if rss_min is None else rss_min
    excess = law_fit(design, alpha, law)[1] - rss_min
    return excess / max(rss_min / design.residual_df(law), 1e-300)


def extra_sum_of_squares_p(design: Design, law: str, alpha_hat: float, alpha: float) -> float:
    """p-value of H0: alpha = `alpha` from F(1, residual df)."""
    statistic = max(extra_sum_of_squares(design, law, alpha_hat, alpha), 0.0)
    return float(stats.f.sf(statistic, 1, design.residual_df(law)))


def profile_interval(design: Design, law: str, alpha_hat: float) -> tuple[float, float]:
    """{alpha : F(alpha) <= F_(1, df)(0.95)} (Bates and Watts' profile interval for a
    nonlinear regression); a bound of the search range means the interval is open there."""
    threshold = stats.f.ppf(CONFIDENCE, 1, design.residual_df(law))
    rss_min = law_fit(design, alpha_hat, law)[1]

    def below(alpha: float) -> float:
        return threshold - extra_sum_of_squares(design, law, alpha_hat, alpha, rss_min)

    low, high = ALPHA_BOUNDS
    if below(low) <= 0:
        low = optimize.brentq(below, low, alpha_hat)
    if below(high) <= 0:
        high = optimize.brentq(below, alpha_hat, high)
    return float(low), float(high)


def gaussian_loglike(rss: float, design: Design) -> float:
    """Maximized weighted Gaussian log-likelihood (sigma at its MLE), comparable across models."""
    n = len(design.n)
    # an exact fit (simulated, noise-free) has RSS at rounding level: floor it, so that such
    # fits tie and the simpler model wins instead of the one with the smaller rounding error
    total = np.sum(design.weights * (design.loss - np.average(design.loss, weights=design.weights)) ** 2)
    rss = max(rss, 1e-12 * total, 1e-300)
    return float(-0.5 * n * (np.log(2 * np.pi * rss / n) + 1) + 0.5 * np.log(design.weights).sum())


def compare_models(design: Design, theory_alpha: float, alphas: dict[str, float]) -> dict[str, dict]:
    """RSS, AIC and BIC of the five models, each with the same seed levels and weights."""
    rss = {law: law_fit(design, alphas[law], law)[1] for law in LAWS}
    rss["theory"] = solve_given_alpha(design, theory_alpha, "theory")[1]
    log_design = np.column_stack([np.ones_like(design.x), np.log(design.x), design.levels])
    rss["loglinear"] = float(sm.WLS(design.loss, log_design, weights=design.weights).fit().ssr)
    n = len(design.n)
    table = {}
    for model in MODELS:
        k = CATALOGUE[model].coefficients + design.seed_columns + 1  # + the error variance
        loglike = gaussian_loglike(rss[model], design)
        table[model] = {"rss": rss[model], "aic": -2 * loglike + 2 * k, "bic": -2 * loglike + np.log(n) * k}
    return table


class _PowerLaw(GenericLikelihoodModel):
    """Gaussian likelihood of L = L_inf + seed level + C x^-alpha with per-point weights;
    params (L_inf unless fixed, C, log alpha, log sigma, one level per seed but the last).
    Used for standard errors at the profile optimum; L_inf is fixed when it sits on its bound."""

    def __init__(self, design: Design, l_inf: float | None = None) -> None:
        self.design, self.fixed_l_inf = design, l_inf
        names = [*(["L_inf"] if l_inf is None else []), "C", "log_alpha", "log_sigma"]
        names += [f"seed_level_{j}" for j in range(design.seed_columns)]
        super().__init__(design.loss, np.ones((len(design.n), 0)), extra_params_names=names)

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        if self.fixed_l_inf is not None:
            params = np.concatenate([[self.fixed_l_inf], params])
        l_inf, c, log_alpha, log_sigma = params[:4]
        d = self.design
        mean = l_inf + c * d.x ** (-np.exp(log_alpha)) + d.levels @ params[4:]
        return stats.norm.logpdf(self.endog, mean, np.exp(log_sigma) / np.sqrt(d.weights))


def standard_errors(design: Design, law: str, alpha: float, coef: np.ndarray) -> dict[str, float]:
    """SEs of alpha, L_inf and C from the statsmodels MLE started at the profile optimum (given
    the design's N0); L_inf is held where it sits on its bound (0, or its ceiling), and
    then has no SE."""
    l_inf = float(coef[0])
    on_bound = law == "power" or np.isclose(l_inf, 0.0) or np.isclose(l_inf, design.l_inf_max)
    model = _PowerLaw(design, l_inf if on_bound else None)
    rss = solve_given_alpha(design, alpha, "power" if law == "power" else "saturating")[1]
    sigma = np.sqrt(max(rss, 1e-24) / len(design.n))
    start = [*([] if on_bound else [l_inf]), coef[1], np.log(alpha), np.log(sigma), *coef[2:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numerical-Hessian warnings surface as NaN SEs
        bse = model.fit(start_params=np.array(start), method="bfgs", maxiter=200, disp=0).bse
    if on_bound:
        bse = np.concatenate([[np.nan], bse])
    alpha_se = float(alpha * bse[2]) if np.isfinite(bse[2]) else np.nan
    return {"alpha_se": alpha_se, "L_inf_se": float(bse[0]), "C_se": float(bse[1])}


def weighted_r2(design: Design, predicted: np.ndarray) -> float:
    """Share of the weighted variance the fit explains (seed levels included); NaN for a
    constant loss, which has no variance to explain."""
    loss, weights = design.loss, design.weights
    total = np.sum(weights * (loss - np.average(loss, weights=weights)) ** 2)
    return float(1 - np.sum(weights * (loss - predicted) ** 2) / total) if total > 0 else np.nan


def linearised_fits(curve: Curve, l_inf: float) -> dict[str, float]:
    """OLS of log(L - L_inf) on log N (slope -alpha) and of L on 1/N (the alpha = 1 form)."""
    excess = curve.loss - l_inf
    keep = excess > 0
    row = {"alpha_loglog": np.nan, "loglog_points_dropped": int((~keep).sum())}
    if keep.sum() >= 3:
        log_fit = sm.OLS(np.log(excess[keep]), sm.add_constant(np.log(curve.n[keep]))).fit()
        row["alpha_loglog"] = float(-log_fit.params[1])
    inverse = sm.OLS(curve.loss, sm.add_constant(1.0 / curve.n)).fit()
    row["inverse_n_slope"] = float(inverse.params[1])
    row["inverse_n_r2"] = float(inverse.rsquared)
    return row


def bootstrap_interval(
    curve: Curve, law: str, replicates: int, bootstrap_seed: int, seed_effects: bool = True
) -> dict[str, float | str]:
    """Percentile interval for alpha from resampling whole seeds (cluster bootstrap) and
    refitting the same law; a seed drawn twice counts as two seeds, each with its own level."""
    seeds = np.unique(curve.seed)
    if len(seeds) < BOOTSTRAP_MIN_SEEDS or replicates == 0:
        note = ""
        if len(seeds) < BOOTSTRAP_MIN_SEEDS:
            what = "points are means over seeds" if curve.sd is not None else f"{len(seeds)} seed(s)"
            note = f"{what}: no bootstrap interval (needs {BOOTSTRAP_MIN_SEEDS} seeds), profile interval only"
        return {"alpha_boot_low": np.nan, "alpha_boot_high": np.nan, "note": note}
    rng = np.random.default_rng(bootstrap_seed)
    alphas = []
    for _ in range(replicates):
        drawn = rng.choice(seeds, size=len(seeds), replace=True)
        members = [np.flatnonzero(curve.seed == s) for s in drawn]
        rows = np.concatenate(members)
        relabelled = np.concatenate([np.full(len(m), draw) for draw, m in enumerate(members)])
        resampled = Curve(curve.n[rows], curve.loss[rows], relabelled)
        design = curve_design(resampled, seed_effects)
        alphas.append(best_alpha(design, law, BOOTSTRAP_GRID, BOOTSTRAP_SHIFT_GRID))
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return {"alpha_boot_low": float(low), "alpha_boot_high": float(high)}
