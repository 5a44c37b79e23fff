"""Scaling-law fits of the augment experiment: which law the loss follows in N, and its exponent.

The theory (Nakada et al.) predicts polynomial decay of the loss in the number N of synthetic
rows; the paper's own analysis regresses the loss on 1/N (alpha = 1). For each curve (dataset,
task, method, classifier, data access, metric) we fit, on the per-seed points with N > 0 and
with the same level per seed in every model (the points of one seed share a split and a nested
pool), five models and compare them by AIC/BIC:
- `saturating`: L(N) = L_inf + C (N / N_ref)^-alpha with alpha free and L_inf bounded to
  [0, the smallest loss reached] (a cross-entropy cannot fall below 0, and the asymptote
  cannot lie above a mean loss already reached, beyond two standard errors);
- `power`: the pure power law, L_inf = 0 (the straight line of a log-log figure);
- `theory`: alpha fixed at the theory's value, L_inf bounded (L_inf + C/N: the paper's fit);
- `loglinear`: a + b log N, no asymptote at all;
- `shifted`: L_inf + C ((N0 + N) / (N0 + N_ref))^-alpha, N0 >= 0 free: the loss falls with the
  total training size, of which N0 is what the base (real and balancing rows) is worth in
  augmentation rows, so the curve stays flat while N << N0 (the theory's risk bounds are in
  the total sample size). N0 = 0 is the saturating law.
The exponent is that of the best of the free-alpha laws (by AIC). Given alpha every
model is linear, so alpha comes from the exact profile; its interval and the test of
H0: alpha = alpha_theory from the extra-sum-of-squares F statistic (calibrated with a
parameter per seed), a second interval from a cluster bootstrap over seeds, and standard
errors from the statsmodels maximum-likelihood fit. A verdict in words says what can be
quoted: the law and alpha with its interval, whether the theory's alpha is rejected, or why
no exponent is identified (e.g. too few decades of N).
N_ref is the largest N of the curve, so C is the excess loss over L_inf there.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.base.model import GenericLikelihoodModel

from synthscale.errors import SynthscaleError, did_you_mean

CURVE_KEYS = ["dataset", "task", "method", "classifier"]  # and data_access, when the results have it
ACCESS_KEY = "data_access"
SD_SUFFIX = "_sd"  # a '<metric>_sd' column: the points are means with a known sd (published curves)
MIN_DISTINCT_N = 4
ALPHA_BOUNDS = (1e-3, 10.0)  # searched range of the exponent
CONFIDENCE = 0.95
BOOTSTRAP_REPLICATES = 200
WEIGHT_SHRINKAGE = 0.25  # weight = 1 / (0.25 var_N + 0.75 mean var): per-N variances from 5 seeds are noisy
N_EPS_MAX_EXTRAPOLATION = 1000  # N_eps further than this many times the largest N is not reported
BOOTSTRAP_MIN_SEEDS = 5  # fewer seeds give too few distinct resamples for a percentile interval
PROFILE_GRID = 120  # log-spaced starting grid for alpha before the bounded refinement
IDENTIFYING_DECADES = 2.0  # below this span of N a saturating law is hard to tell from log-linear
MODELS = ("shifted", "saturating", "power", "theory", "loglinear")
LAWS = ("shifted", "saturating", "power")  # free-alpha laws, most general first
SHIFT_GRID = 32  # log-spaced values of N0 in [N_min / 10, SHIFT_MAX_FACTOR * N_ref], plus 0
SHIFT_MAX_FACTOR = 30.0
SHIFT_TEST_LEVEL = 0.01
SHIFTED_PROFILE_GRID = 40  # alpha grid of the shifted law, whose every point solves a grid of N0
BOOTSTRAP_GRID = 30  # coarser alpha grid inside the bootstrap
BOOTSTRAP_SHIFT_GRID = 16  # and a coarser N0 grid
CEILING_SE = 2.0  # L_inf may not exceed any N's mean loss by more than this many standard errors
# regression coefficients of each model besides the seed levels (the error variance adds one to all)
MODEL_COEFFICIENTS = {"shifted": 4, "saturating": 3, "power": 2, "theory": 2, "loglinear": 2}


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
        return max(len(self.n) - MODEL_COEFFICIENTS[model] - self.seed_columns, 1)

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
    with it (coverage of alpha = 2 fell to 0 in bench/fit_coverage.py). For points that are
    means with a known sd over seeds (published curves) the seed count is unknown: the sd
    itself stands in for the standard error, a looser ceiling."""
    by_n = pd.Series(curve.loss).groupby(curve.n)
    if curve.sd is not None:
        error = pd.Series(np.asarray(curve.sd, float)).groupby(curve.n).mean()
    else:
        error = (by_n.std(ddof=1) / np.sqrt(by_n.count())).fillna(0.0)
    return float((by_n.mean() + CEILING_SE * error).min())


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


def solve_given_alpha(design: Design, alpha: float, law: str) -> tuple[np.ndarray, float]:
    """Weighted least squares of the loss on (1, x^-alpha, seed levels) with L_inf bounded to
    [0, l_inf_max] (`saturating`, `theory`, `shifted` at the design's N0) or fixed at 0
    (`power`): (L_inf, C, levels...), RSS.

    One bounded coefficient in a convex quadratic: its constrained optimum is the unconstrained
    one clipped to the bounds, with the other coefficients solved again at the clipped value.
    This runs thousands of times per curve (profile, interval, bootstrap), hence plain lstsq."""
    root_w = np.sqrt(design.weights)
    power = design.x ** (-alpha)
    scale = power.max()  # keeps lstsq from dropping the intercept when x^-alpha spans decades
    free = np.column_stack([power / scale, design.levels]) * root_w[:, None]
    target = design.loss * root_w
    if law == "power":
        l_inf = 0.0
    else:
        full = np.column_stack([root_w, free])
        unconstrained = np.linalg.lstsq(full, target, rcond=None)[0]
        l_inf = float(np.clip(unconstrained[0], 0.0, design.l_inf_max))
        if l_inf == unconstrained[0]:  # inside its bounds: already the constrained optimum
            rss = float(np.sum((target - full @ unconstrained) ** 2))
            return np.concatenate([[l_inf, unconstrained[1] / scale], unconstrained[2:]]), rss
    rest = np.linalg.lstsq(free, target - l_inf * root_w, rcond=None)[0]
    rss = float(np.sum((target - l_inf * root_w - free @ rest) ** 2))
    return np.concatenate([[l_inf, rest[0] / scale], rest[1:]]), rss


def fitted_values(design: Design, alpha: float, coef: np.ndarray) -> np.ndarray:
    return coef[0] + coef[1] * design.x ** (-alpha) + design.levels @ coef[2:]


def law_fit(design: Design, alpha: float, law: str) -> tuple[np.ndarray, float, Design]:
    """(coefficients, RSS, design) of a law at this alpha; for `shifted` the design carries the
    best N0 (a log grid, then a bounded refinement of log N0), i.e. the profile over N0 too."""
    if law != "shifted":
        return (*solve_given_alpha(design, alpha, law), design)
    shifts = np.concatenate(
        [[0.0], np.geomspace(design.n.min() / 10, SHIFT_MAX_FACTOR * design.n_ref, SHIFT_GRID)]
    )
    rss = [solve_given_alpha(design.shifted(n0), alpha, "saturating")[1] for n0 in shifts]
    best = int(np.argmin(rss))
    if 0 < best < len(shifts) - 1:
        refined = optimize.minimize_scalar(
            lambda log_n0: solve_given_alpha(design.shifted(np.exp(log_n0)), alpha, "saturating")[1],
            bounds=(
                np.log(shifts[best - 1]) if best > 1 else np.log(shifts[1]) - 1,
                np.log(shifts[best + 1]),
            ),
            method="bounded",
        )
        if refined.fun < rss[best]:
            shifted = design.shifted(np.exp(refined.x))
            return (*solve_given_alpha(shifted, alpha, "saturating"), shifted)
    shifted = design.shifted(shifts[best])
    return (*solve_given_alpha(shifted, alpha, "saturating"), shifted)


def best_alpha(
    design: Design, law: str, grid_points: int = PROFILE_GRID, shift_points: int = SHIFT_GRID
) -> float:
    """The alpha minimizing the RSS: a log-spaced grid, then a bounded refinement (for
    `shifted`, a joint grid of alpha and N0, then a joint refinement: `shifted_optimum`)."""
    if law == "shifted":
        return shifted_optimum(design, min(grid_points, SHIFTED_PROFILE_GRID), shift_points)[0]

    def rss(alpha: float) -> float:
        return law_fit(design, alpha, law)[1]

    grid = np.geomspace(*ALPHA_BOUNDS, grid_points)
    best = grid[int(np.argmin([rss(a) for a in grid]))]
    step = (ALPHA_BOUNDS[1] / ALPHA_BOUNDS[0]) ** (1 / (grid_points - 1))
    bracket = (max(best / step, ALPHA_BOUNDS[0]), min(best * step, ALPHA_BOUNDS[1]))
    return float(optimize.minimize_scalar(rss, bounds=bracket, method="bounded").x)


def shift_bounds(design: Design) -> tuple[float, float]:
    """Searched range of N0 in the joint fit: from a thousandth of the smallest N (there the
    law is the saturating one to 0.1 %) to SHIFT_MAX_FACTOR times N_ref."""
    return design.n.min() / 1000, SHIFT_MAX_FACTOR * design.n_ref


def shifted_optimum(design: Design, alpha_points: int, shift_points: int) -> tuple[float, float]:
    """(alpha, N0) minimizing the RSS of the shifted law: the best point of a log grid of both
    (every point solved at once, `shifted_rss_grid`), then Nelder-Mead in (log alpha, log N0).
    A joint search: profiling N0 inside a scalar search of alpha gives a jagged profile that
    stops short of the optimum. Fast enough for the bootstrap's refits."""
    alphas = np.geomspace(*ALPHA_BOUNDS, alpha_points)
    shifts = np.geomspace(*shift_bounds(design), shift_points)
    i, j = np.unravel_index(np.argmin(shifted_rss_grid(design, alphas, shifts)), (alpha_points, shift_points))

    def rss(log_params: np.ndarray) -> float:
        alpha, shift = np.exp(log_params)
        return solve_given_alpha(design.shifted(shift), alpha, "saturating")[1]

    refined = optimize.minimize(
        rss,
        np.log([alphas[i], shifts[j]]),
        method="Nelder-Mead",
        bounds=[np.log(ALPHA_BOUNDS), np.log(shift_bounds(design))],
        options={"xatol": 1e-4, "fatol": 1e-12},
    )
    return float(np.exp(refined.x[0])), float(np.exp(refined.x[1]))


def shifted_rss_grid(design: Design, alphas: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """RSS of the shifted law at every (alpha, N0) of a grid, (alphas, shifts): the same bounded
    least squares as `solve_given_alpha`, batched through numpy's stacked pseudo-inverse."""
    x = (design.n[None, :] + shifts[:, None]) / (design.n_ref + shifts[:, None])
    power = x[None] ** (-alphas[:, None, None])
    power = power / power.max(axis=-1, keepdims=True)
    root_w = np.sqrt(design.weights)
    levels = np.broadcast_to(design.levels, (*power.shape, design.seed_columns))
    free = np.concatenate([power[..., None], levels], axis=-1) * root_w[:, None]
    full = np.concatenate([np.broadcast_to(root_w[:, None], (*power.shape, 1)), free], axis=-1)
    target = design.loss * root_w
    coef = np.einsum("...pn,n->...p", np.linalg.pinv(full), target)
    rss = np.sum((target - np.einsum("...np,...p->...n", full, coef)) ** 2, axis=-1)
    l_inf = np.clip(coef[..., 0], 0.0, design.l_inf_max)
    clipped = l_inf != coef[..., 0]
    if clipped.any():  # L_inf at its bound: the other coefficients solved again, as in solve_given_alpha
        rest_target = target - l_inf[clipped][:, None] * root_w
        rest = np.einsum("...pn,...n->...p", np.linalg.pinv(free[clipped]), rest_target)
        residual = rest_target - np.einsum("...np,...p->...n", free[clipped], rest)
        rss[clipped] = np.sum(residual**2, axis=-1)
    return rss


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
        k = MODEL_COEFFICIENTS[model] + design.seed_columns + 1  # + the error variance
        loglike = gaussian_loglike(rss[model], design)
        table[model] = {"rss": rss[model], "aic": -2 * loglike + 2 * k, "bic": -2 * loglike + np.log(n) * k}
    return table


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


def fit_curve(
    curve: Curve,
    theory_alpha: float = 1.0,
    epsilon: float = 0.01,
    bootstrap_replicates: int = BOOTSTRAP_REPLICATES,
    bootstrap_seed: int = 0,
    seed_effects: bool = True,
) -> dict:
    """Every estimate for one curve, as a flat dict (one row of the exponents table)."""
    design = curve_design(curve, seed_effects)
    n_ref = float(curve.n.max())
    alphas = {law: best_alpha(design, law) for law in LAWS}
    intervals = {law: profile_interval(design, law, alphas[law]) for law in LAWS}
    models = compare_models(design, theory_alpha, alphas)
    decades = float(np.log10(curve.n.max() / curve.n.min()))
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
    decays = c > 0 and np.ptp(curve.loss) > 0
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
    row["identified"] = not notes
    row["bounded_below"] = bool(
        decays and decades >= IDENTIFYING_DECADES and one_sided(alpha_hat, (low, high))
    )
    if notes:
        row["n_eps"] = np.nan  # a far extrapolation of an unidentified law means nothing
    boot = bootstrap_interval(curve, law, bootstrap_replicates, bootstrap_seed, seed_effects)
    notes += [boot.pop("note")] if boot.get("note") else []
    row.update(boot)
    row["notes"] = "; ".join(notes)
    row["verdict"] = verdict(row)
    return row


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


def weighted_r2(design: Design, predicted: np.ndarray) -> float:
    """Share of the weighted variance the fit explains (seed levels included); NaN for a
    constant loss, which has no variance to explain."""
    loss, weights = design.loss, design.weights
    total = np.sum(weights * (loss - np.average(loss, weights=weights)) ** 2)
    return float(1 - np.sum(weights * (loss - predicted) ** 2) / total) if total > 0 else np.nan


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
    if "no decay" in row["notes"]:
        return "does not fall with N: no decay to fit"
    if is_true(row.get("bounded_below", False)):
        return bounded_below_verdict(row)
    if not row["identified"]:
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
        names = {"loglinear": "log-linear decay", "theory": f"the {theory} law", "shifted": "the (N0 + N) law",
                 "saturating": "the saturating law", "power": "the pure power law"}  # fmt: skip
        gap = row[f"aic_{row['law']}"] - row[f"aic_{row['preferred_model']}"]
        text += f"; {names[row['preferred_model']]} fits better (AIC lower by {gap:.1f})"
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


def curve_keys(results: pd.DataFrame) -> list[str]:
    """What tells curves apart: dataset, task, method, classifier, and the generator's data
    access when the sweep ran more than one."""
    return CURVE_KEYS + ([ACCESS_KEY] if ACCESS_KEY in results.columns else [])


def augment_curves(results: pd.DataFrame, metric: str):
    """(keys, Curve) for every augment curve of a results table, N > 0 only."""
    augment = results[(results["experiment"] == "augment") & (results["n_aug"] > 0)]
    keys = curve_keys(results)
    if ACCESS_KEY in keys:
        augment = augment.assign(**{ACCESS_KEY: augment[ACCESS_KEY].fillna("").astype(str)})
    sd_column = metric + SD_SUFFIX
    for values, group in augment.groupby(keys, sort=True):
        sd = group[sd_column].to_numpy(float) if sd_column in group.columns else None
        curve = Curve(
            group["n_aug"].to_numpy(float), group[metric].to_numpy(float), group["seed"].to_numpy(), sd
        )
        yield dict(zip(keys, values, strict=True)), curve


def fit_results(
    results: pd.DataFrame,
    metric: str = "minority_ce",
    theory_alpha: float = 1.0,
    epsilon: float = 0.01,
    seed_effects: bool = True,
    bootstrap_replicates: int = BOOTSTRAP_REPLICATES,
) -> pd.DataFrame:
    """One row per augment curve of a results table: the exponents table. Curves that cannot
    be fitted are listed, with the reason and the fix, in `table.attrs["skipped"]`."""
    results, skipped = without_failed_fits(results)
    check_results(results, metric)
    rows = []
    for keys, curve in augment_curves(results, metric):
        name = "/".join(str(v) for v in keys.values() if v != "")
        distinct = len(np.unique(curve.n))
        if distinct < MIN_DISTINCT_N:
            skipped.append(
                f"{name}: {distinct} distinct N > 0, needs {MIN_DISTINCT_N}; "
                "add values to experiment.augment.n_aug"
            )
            continue
        fit = fit_curve(curve, theory_alpha, epsilon, bootstrap_replicates, seed_effects=seed_effects)
        rows.append({**keys, "metric": metric, **fit})
    if not rows:
        raise SynthscaleError(
            f"no augment curve with at least {MIN_DISTINCT_N} distinct N > 0 in the results"
            + (f" ({'; '.join(skipped)})" if skipped else "")
            + "; run the augment experiment with more experiment.augment.n_aug values"
        )
    table = pd.DataFrame(rows)
    table.attrs["skipped"] = skipped
    return table


def residual_table(results: pd.DataFrame, exponents: pd.DataFrame) -> pd.DataFrame:
    """Every point of every fitted curve: the fitted value of the curve's law at its alpha
    (with its seed levels), the residual, and the residual standardized by its weight and the
    fit's sigma. Curves without an exponent (no decay) have no fitted values and are left out."""
    frames = []
    keys_of = curve_keys(exponents)
    curves = {  # grouped once per metric, not once per fitted curve
        (metric, *keys.values()): curve
        for metric in exponents["metric"].unique()
        for keys, curve in augment_curves(results, metric)
    }
    for fit in exponents.to_dict("records"):
        if not np.isfinite(fit["alpha"]):
            continue
        keys = {k: fit[k] for k in keys_of}
        curve = curves[(fit["metric"], *keys.values())]
        design = curve_design(curve, bool(fit.get("seed_effects", True)))
        design = design.shifted(fit.get("N0", 0.0) if np.isfinite(fit.get("N0", 0.0)) else 0.0)
        coef, rss = solve_given_alpha(
            design, fit["alpha"], "power" if fit["law"] == "power" else "saturating"
        )
        fitted = fitted_values(design, fit["alpha"], coef)
        sigma = np.sqrt(rss / design.residual_df(fit["law"]))
        frames.append(
            pd.DataFrame(
                {
                    **keys,
                    "metric": fit["metric"],
                    "seed": curve.seed,
                    "n_aug": curve.n,
                    "loss": curve.loss,
                    "fitted": fitted,
                    "residual": curve.loss - fitted,
                    "standardized_residual": (curve.loss - fitted) * np.sqrt(design.weights) / sigma,
                }
            )
        )
    columns = [*keys_of, "metric", "seed", "n_aug", "loss", "fitted", "residual", "standardized_residual"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def failed_rows(results: pd.DataFrame) -> pd.Series:
    """True for a fit whose sampler could not make its rows (generator.on_failure: record)."""
    if "failure" not in results.columns:
        return pd.Series(False, index=results.index)
    return results["failure"].fillna("").astype(str).str.len() > 0


def failed_fits(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, dataset) with failed fits: how many, their seeds and the reason."""
    rows = [
        {"method": method, "dataset": dataset, "fits": len(fits),
         "seeds": " ".join(map(str, sorted(set(fits["seed"])))), "failure": fits["failure"].iloc[0]}
        for (method, dataset), fits in results[failed_rows(results)].groupby(["method", "dataset"], sort=True)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["method", "dataset", "fits", "seeds", "failure"])


def without_failed_fits(results: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The fits that ran, and a note per (method, dataset) whose sampler could not make its
    rows: those seeds have no loss to fit."""
    notes = [
        f"{row.method} on {row.dataset}: {row.fits} failed fits left out (seeds {row.seeds}; {row.failure})"
        for row in failed_fits(results).itertuples()
    ]
    return results[~failed_rows(results)], notes


def check_results(results: pd.DataFrame, metric: str, need_augment: bool = True) -> None:
    """Refuse what a fit cannot use, naming the column or the rows and the fix."""
    needed = [*CURVE_KEYS, "experiment", "n_aug", "seed"]
    missing = [c for c in needed if c not in results.columns]
    if missing:
        raise SynthscaleError(
            f"results table lacks column(s) {', '.join(missing)}; pass a synthscale results.csv"
        )
    if metric not in results.columns:
        numeric = results.select_dtypes("number").columns
        raise SynthscaleError(f"--metric {metric}: no such column{did_you_mean(metric, numeric)}")
    if not pd.api.types.is_numeric_dtype(results[metric]):
        numeric = ", ".join(results.select_dtypes("number").columns)
        raise SynthscaleError(f"--metric {metric}: not a numeric column; choose one of {numeric}")
    augment = results[results["experiment"] == "augment"]
    if augment.empty and need_augment:
        raise SynthscaleError(
            "the results hold no augment experiment (only "
            f"{', '.join(sorted(map(str, results['experiment'].unique()))) or 'no rows'}); a scaling law needs "
            "loss against N: run a sweep with experiment.protocols including augment"
        )
    identity = [c for c in (*CURVE_KEYS, "data_access", "n_aug", "seed") if c in augment.columns]
    repeated = augment[augment.duplicated(identity)]
    if len(repeated):
        first = repeated.iloc[0]
        where = (
            f"grid_key {first['grid_key']!r}"
            if "grid_key" in repeated
            else f"{first['method']}, N = {first['n_aug']}"
        )
        raise SynthscaleError(
            f"results table: {len(repeated)} augment rows repeat a fit already in it (same curve, N and "
            f"seed; e.g. {where}); a synthscale results.csv holds one row per fit: keep the first of "
            "each (pandas: table.drop_duplicates('grid_key'))"
        )
    n_aug = pd.to_numeric(augment["n_aug"], errors="coerce")
    if n_aug.isna().any():
        bad = augment.loc[n_aug.isna(), "n_aug"].iloc[0]
        raise SynthscaleError(
            f"column n_aug: {n_aug.isna().sum()} augment rows are not numbers (e.g. {plain(bad)!r}); "
            "N must be a count of rows"
        )
    values = augment[metric]
    bad = values[~np.isfinite(values) | (values <= 0)]
    if len(bad):
        raise SynthscaleError(
            f"--metric {metric}: {len(bad)} augment rows are non-positive or not finite "
            f"(e.g. {plain(bad.iloc[0])!r}); a loss must be > 0"
        )


def plain(value: object) -> object:
    """A numpy scalar as the Python number it holds: messages print nan, not np.float64(nan)."""
    return value.item() if isinstance(value, np.generic) else value


def fit_metrics(exponents: pd.DataFrame) -> dict[str, float]:
    """The headline numbers of each curve as flat metric names, for the sweep's MLflow run."""
    metrics = {}
    for row in exponents.to_dict("records"):
        parts = [row["metric"], row["dataset"], row["task"], row["method"], row["classifier"]]
        parts += [row[ACCESS_KEY]] if row.get(ACCESS_KEY) else []
        prefix = "fit/" + "/".join(map(str, parts))
        for name in (
            "alpha",
            "alpha_ci_low",
            "alpha_ci_high",
            "theory_p_value",
            "L_inf",
            "C",
            "r2",
            "decades",
        ):
            if np.isfinite(row.get(name, np.nan)):
                metrics[f"{prefix}/{name}"] = float(row[name])
    return metrics


def ratio_gaps(results: pd.DataFrame, metric: str = "minority_ce") -> pd.DataFrame:
    """Ratio experiment: RAW minus each method per ratio, and the slope of that gap in ratio.
    RAW uses no generator, so it is the baseline of every data access."""
    check_results(results, metric, need_augment=False)
    results, _ = without_failed_fits(results)
    ratio = results[results["experiment"] == "ratio"]
    keys = ["dataset", "task", "classifier"]
    access = [ACCESS_KEY] if ACCESS_KEY in ratio.columns else []
    if access:
        ratio = ratio.assign(**{ACCESS_KEY: ratio[ACCESS_KEY].fillna("").astype(str)})
    mean = ratio.groupby([*keys, *access, "method", "ratio"])[metric].mean().reset_index()
    raw = mean[mean["method"] == "raw"].rename(columns={metric: "raw"}).drop(columns=["method", *access])
    merged = mean[mean["method"] != "raw"].merge(raw, on=[*keys, "ratio"])
    merged["gap"] = merged["raw"] - merged[metric]
    rows = []
    for group_keys, group in merged.groupby([*keys, *access, "method"]):
        slope = sm.OLS(group["gap"], sm.add_constant(group["ratio"])).fit() if len(group) > 2 else None
        rows.append(
            {
                **dict(zip([*keys, *access, "method"], group_keys, strict=True)),
                "metric": metric,
                "gap_at_max_ratio": float(group.loc[group["ratio"].idxmax(), "gap"]),
                "gap_slope_per_ratio": float(slope.params.iloc[1]) if slope is not None else np.nan,
                "gap_slope_se": float(slope.bse.iloc[1]) if slope is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)
