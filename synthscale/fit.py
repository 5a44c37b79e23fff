"""Scaling-law fits of the augment experiment: L(N) = L_inf + C * N^(-alpha), with honest CIs.

The theory (Nakada et al.) predicts polynomial decay of the loss in the number N of
synthetic rows. For each curve (dataset, task, method, classifier, metric) we fit, on the
per-seed points with N > 0:
- the saturating power law by maximum likelihood (statsmodels GenericLikelihoodModel, Gaussian
  errors, weights from the spread across seeds), with standard errors and AIC/BIC. The points
  of one seed share a split and a nested pool, so each seed gets its own level (a fixed
  effect, sum-to-zero coded: L_inf is the average seed's level) and alpha, C are estimated
  from the shape of the curves within seeds;
- a profile interval for alpha and the test of H0: alpha = alpha_theory; given alpha the
  model is linear, so the profile is exact, and both are calibrated by the F distribution of
  the nonlinear-regression extra-sum-of-squares statistic (the chi-square of the likelihood
  ratio is too narrow with a parameter per seed);
- a cluster bootstrap over seeds for a second interval;
- the linearised forms (OLS of log(L - L_inf) on log N, and L on 1/N) and the competing
  exponential and log-linear decays;
- N_eps, the N at which C * N^(-alpha) falls to eps, and the gain of the next block of rows.
N is scaled by the largest N of the curve inside the fit, so C is the excess loss there.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.base.model import GenericLikelihoodModel

from synthscale.errors import SynthscaleError, did_you_mean

CURVE_KEYS = ["dataset", "task", "method", "classifier"]
MIN_DISTINCT_N = 4
ALPHA_BOUNDS = (1e-3, 10.0)  # searched range of the exponent
CONFIDENCE = 0.95
BOOTSTRAP_REPLICATES = 200
WEIGHT_SHRINKAGE = 0.25  # weight = 1 / (0.25 var_N + 0.75 mean var): per-N variances from 5 seeds are noisy
N_EPS_MAX_EXTRAPOLATION = 1000  # N_eps further than this many times the largest N is not reported
BOOTSTRAP_MIN_SEEDS = 5  # fewer seeds give too few distinct resamples for a percentile interval
POWER_LAW_PARAMS = (
    4  # L_inf, C, alpha, sigma (+ a level per extra seed); exponential as many, log-linear one fewer
)
EXP_RATE_BOUNDS = (1e-3, 100.0)
PROFILE_GRID = 120  # log-spaced starting grid for alpha before the bounded refinement


@dataclass(frozen=True)
class Curve:
    """Per-seed losses of one curve: N (rows, > 0), loss, and the seed of each point."""

    n: np.ndarray
    loss: np.ndarray
    seed: np.ndarray


class _PowerLaw(GenericLikelihoodModel):
    """Gaussian likelihood of L = L_inf + seed level + C * x^(-alpha) with per-point weights;
    params (L_inf, C, log alpha, log sigma, one level per seed but the last)."""

    def __init__(self, loss: np.ndarray, x: np.ndarray, weights: np.ndarray, levels: np.ndarray) -> None:
        self.weights, self.levels = weights, levels
        names = ["C", "log_alpha", "log_sigma", *(f"seed_level_{j}" for j in range(levels.shape[1]))]
        super().__init__(loss, x[:, None], extra_params_names=names)

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        l_inf, c, log_alpha, log_sigma = params[:4]
        mean = l_inf + c * self.exog[:, 0] ** (-np.exp(log_alpha)) + self.levels @ params[4:]
        scale = np.exp(log_sigma) / np.sqrt(self.weights)
        return stats.norm.logpdf(self.endog, mean, scale)


def seed_levels(seed: np.ndarray) -> np.ndarray:
    """Sum-to-zero coding of the seeds, (n, seeds - 1): a level per seed, averaging zero, so
    the intercept stays the average seed's L_inf. No columns for a single seed."""
    labels, codes = np.unique(seed, return_inverse=True)
    design = np.zeros((len(seed), max(len(labels) - 1, 0)))
    for column in range(design.shape[1]):
        design[codes == column, column] = 1.0
    design[codes == len(labels) - 1, :] = -1.0
    return design


def information_criteria(loglike: float, n_params: int, n_obs: int) -> tuple[float, float]:
    """(AIC, BIC), counting the error variance as a parameter in every model alike."""
    return -2 * loglike + 2 * n_params, -2 * loglike + np.log(n_obs) * n_params


def fit_curve(
    curve: Curve,
    theory_alpha: float = 1.0,
    epsilon: float = 0.01,
    bootstrap_replicates: int = BOOTSTRAP_REPLICATES,
    bootstrap_seed: int = 0,
    seed_effects: bool = True,
) -> dict:
    """Every estimate for one curve, as a flat dict (one row of the exponents table)."""
    n_max = float(curve.n.max())
    x = curve.n / n_max
    levels = curve_levels(curve, seed_effects)
    weights = seed_spread_weights(curve, within_seeds=levels.shape[1] > 0)
    alpha_hat, profile = profile_alpha(x, curve.loss, weights, levels)
    linear = _linear_given_alpha(x, curve.loss, weights, alpha_hat, levels)
    l_inf, c = linear.params[:2]
    model = _PowerLaw(curve.loss, x, weights, levels)
    sigma = np.sqrt(profile(alpha_hat)[1] / len(x))
    start = np.array([l_inf, c, np.log(alpha_hat), np.log(max(sigma, 1e-12)), *linear.params[2:]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numerical-Hessian warnings surface as NaN SEs below
        result = model.fit(start_params=start, method="bfgs", maxiter=200, disp=0)
    params, bse = result.params, result.bse
    residual_df = len(x) - (3 + levels.shape[1])  # L_inf, C, alpha and the seed levels
    low, high = profile_interval(profile, alpha_hat, residual_df)
    notes = fit_warnings(curve, c, alpha_hat, (low, high))
    with np.errstate(over="ignore", divide="ignore"):
        n_eps = n_max * (c / epsilon) ** (1 / alpha_hat) if c > 0 else np.nan
    if notes or not n_eps <= N_EPS_MAX_EXTRAPOLATION * n_max:
        n_eps = np.nan  # undefined, or too far beyond the fitted range to mean anything
    step = float(np.diff(np.unique(curve.n))[-1]) if len(np.unique(curve.n)) > 1 else n_max
    predicted = linear.fittedvalues
    n_params = POWER_LAW_PARAMS + levels.shape[1]
    aic, bic = information_criteria(float(result.llf), n_params, len(x))
    row = {
        "alpha": alpha_hat,
        "alpha_se": float(np.exp(params[2]) * bse[2]) if np.isfinite(bse[2]) else np.nan,
        "alpha_ci_low": low,
        "alpha_ci_high": high,
        "theory_alpha": theory_alpha,
        "theory_p_value": extra_sum_of_squares_p(profile, alpha_hat, theory_alpha, residual_df),
        "L_inf": float(l_inf),  # estimates from the exact profile optimum; SEs from the MLE fit
        "L_inf_se": float(bse[0]),
        "C": float(c),
        "C_se": float(bse[1]),
        "r2": weighted_r2(curve.loss, predicted, weights),
        "aic_power": aic,
        "bic_power": bic,
        "n_eps": float(n_eps),
        "next_block_gain": float(c * (1 - ((n_max + step) / n_max) ** (-alpha_hat))),
        "n_points": len(x),
        "n_seeds": len(np.unique(curve.seed)),
        "seed_effects": levels.shape[1] > 0,
    }
    row.update(competing_models(x, curve.loss, weights, levels))
    row.update(linearised_fits(curve, float(l_inf)))
    if c <= 0 or np.ptp(curve.loss) == 0:  # no decay: an exponent would be noise
        row.update(
            dict.fromkeys(("alpha", "alpha_se", "alpha_ci_low", "alpha_ci_high", "theory_p_value"), np.nan)
        )
        bootstrap_replicates = 0
    boot = bootstrap_interval(curve, bootstrap_replicates, bootstrap_seed, seed_effects)
    notes += [boot.pop("note")] if boot.get("note") else []
    row.update(boot)
    row["notes"] = "; ".join(notes)
    return row


def weighted_r2(loss: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> float:
    """Share of the weighted variance the fit explains (seed levels included); NaN for a
    constant loss, which has no variance to explain."""
    total = np.sum(weights * (loss - np.average(loss, weights=weights)) ** 2)
    return float(1 - np.sum(weights * (loss - predicted) ** 2) / total) if total > 0 else np.nan


def fit_warnings(curve: Curve, c: float, alpha: float, interval: tuple[float, float]) -> list[str]:
    """What a reader must know before quoting alpha: no decay, or an unidentified exponent."""
    notes = []
    if np.ptp(curve.loss) == 0:
        notes.append("the loss is constant: no decay to fit")
    if c <= 0:
        notes.append("loss does not fall with N (C <= 0): no decay to fit")
    if np.isclose(alpha, ALPHA_BOUNDS, rtol=0.02).any():
        notes.append(f"alpha at the edge of the searched range {ALPHA_BOUNDS}: not identified")
    elif interval[0] <= ALPHA_BOUNDS[0] or interval[1] >= ALPHA_BOUNDS[1]:
        notes.append("95% interval reaches the searched range: alpha weakly identified")
    return notes


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
    frame = pd.DataFrame({"n": curve.n, "loss": loss})
    variance = frame.groupby("n")["loss"].var(ddof=1).fillna(0.0)
    if not np.isfinite(variance.mean()) or variance.mean() <= 0:
        return np.ones(len(curve.n))
    shrunk = WEIGHT_SHRINKAGE * variance + (1 - WEIGHT_SHRINKAGE) * variance.mean()
    weights = 1.0 / shrunk.loc[curve.n].to_numpy()
    return weights / weights.mean()


def _linear_given_alpha(
    x: np.ndarray, loss: np.ndarray, weights: np.ndarray, alpha: float, levels: np.ndarray
):
    """WLS of the loss on (1, x^-alpha, seed levels): params L_inf, C, then the levels."""
    return sm.WLS(loss, np.column_stack([np.ones_like(x), x ** (-alpha), levels]), weights=weights).fit()


def profile_alpha(x: np.ndarray, loss: np.ndarray, weights: np.ndarray, levels: np.ndarray | None = None):
    """Given alpha the model is linear: maximize the profile log-likelihood over alpha alone.

    The inner weighted least squares runs thousands of times per curve (grid, refinement,
    interval, bootstrap), so it is the plain lstsq solve; the reported fit is statsmodels'.
    """
    root_w = np.sqrt(weights)
    target = loss * root_w
    fixed = np.column_stack(
        [root_w, root_w[:, None] * (levels if levels is not None else np.zeros((len(x), 0)))]
    )

    def profile(alpha: float) -> tuple[float, float]:
        power = x ** (-alpha)
        design = np.column_stack([fixed, root_w * power / power.max()])  # scaled: lstsq keeps all
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        rss = float(np.sum((target - design @ coef) ** 2))
        return -0.5 * len(x) * np.log(max(rss, 1e-300) / len(x)), rss

    grid = np.geomspace(*ALPHA_BOUNDS, PROFILE_GRID)
    best = grid[int(np.argmax([profile(a)[0] for a in grid]))]
    bracket = (max(best / 1.1, ALPHA_BOUNDS[0]), min(best * 1.1, ALPHA_BOUNDS[1]))
    refined = optimize.minimize_scalar(lambda a: -profile(a)[0], bounds=bracket, method="bounded")
    return float(refined.x), profile


def extra_sum_of_squares(profile, alpha_hat: float, alpha: float, residual_df: int) -> float:
    """F statistic of fixing alpha: (RSS(alpha) - RSS_min) / (RSS_min / residual df)."""
    rss_min = profile(alpha_hat)[1]
    return (profile(alpha)[1] - rss_min) / max(rss_min / max(residual_df, 1), 1e-300)


def extra_sum_of_squares_p(profile, alpha_hat: float, alpha: float, residual_df: int) -> float:
    """p-value of H0: alpha = `alpha` from F(1, residual df)."""
    statistic = max(extra_sum_of_squares(profile, alpha_hat, alpha, residual_df), 0.0)
    return float(stats.f.sf(statistic, 1, max(residual_df, 1)))


def profile_interval(profile, alpha_hat: float, residual_df: int) -> tuple[float, float]:
    """{alpha : F(alpha) <= F_(1, df)(0.95)} (Bates and Watts' profile interval for a
    nonlinear regression); a bound of the search range means the interval is open there."""
    threshold = stats.f.ppf(CONFIDENCE, 1, max(residual_df, 1))

    def below(alpha: float) -> float:
        return threshold - extra_sum_of_squares(profile, alpha_hat, alpha, residual_df)

    low = (
        ALPHA_BOUNDS[0] if below(ALPHA_BOUNDS[0]) > 0 else optimize.brentq(below, ALPHA_BOUNDS[0], alpha_hat)
    )
    high = (
        ALPHA_BOUNDS[1] if below(ALPHA_BOUNDS[1]) > 0 else optimize.brentq(below, alpha_hat, ALPHA_BOUNDS[1])
    )
    return float(low), float(high)


def competing_models(
    x: np.ndarray, loss: np.ndarray, weights: np.ndarray, levels: np.ndarray
) -> dict[str, float]:
    """AIC/BIC of exponential decay L_inf + C exp(-beta x) and log-linear a + b log x, each
    with the same seed levels as the power law."""
    log_linear = sm.WLS(loss, np.column_stack([np.ones_like(x), np.log(x), levels]), weights=weights).fit()

    def exponential(beta: float):
        design = np.column_stack([np.ones_like(x), np.exp(-beta * x), levels])
        return sm.WLS(loss, design, weights=weights).fit()

    beta = optimize.minimize_scalar(lambda b: exponential(b).ssr, bounds=EXP_RATE_BOUNDS, method="bounded").x
    n_params = POWER_LAW_PARAMS + levels.shape[1]
    aic_exp, bic_exp = information_criteria(float(exponential(beta).llf), n_params, len(x))
    aic_log, bic_log = information_criteria(float(log_linear.llf), n_params - 1, len(x))
    return {
        "aic_exponential": aic_exp,
        "bic_exponential": bic_exp,
        "aic_loglinear": aic_log,
        "bic_loglinear": bic_log,
    }


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
    curve: Curve, replicates: int, bootstrap_seed: int, seed_effects: bool = True
) -> dict[str, float | str]:
    """Percentile interval for alpha from resampling whole seeds (cluster bootstrap); a seed
    drawn twice counts as two seeds, each with its own level."""
    seeds = np.unique(curve.seed)
    if len(seeds) < BOOTSTRAP_MIN_SEEDS or replicates == 0:
        note = (
            f"{len(seeds)} seed(s): no bootstrap interval (needs {BOOTSTRAP_MIN_SEEDS}), profile interval only"
            if len(seeds) < BOOTSTRAP_MIN_SEEDS
            else ""
        )
        return {"alpha_boot_low": np.nan, "alpha_boot_high": np.nan, "note": note}
    rng = np.random.default_rng(bootstrap_seed)
    alphas = []
    for _ in range(replicates):
        drawn = rng.choice(seeds, size=len(seeds), replace=True)
        members = [np.flatnonzero(curve.seed == s) for s in drawn]
        rows = np.concatenate(members)
        relabelled = np.concatenate([np.full(len(m), draw) for draw, m in enumerate(members)])
        resampled = Curve(curve.n[rows], curve.loss[rows], relabelled)
        levels = curve_levels(resampled, seed_effects)
        weights = seed_spread_weights(resampled, within_seeds=levels.shape[1] > 0)
        alphas.append(profile_alpha(resampled.n / curve.n.max(), resampled.loss, weights, levels)[0])
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return {"alpha_boot_low": float(low), "alpha_boot_high": float(high)}


def augment_curves(results: pd.DataFrame, metric: str):
    """(keys, Curve) for every augment curve of a results table, N > 0 only."""
    augment = results[(results["experiment"] == "augment") & (results["n_aug"] > 0)]
    for keys, group in augment.groupby(CURVE_KEYS, sort=True):
        curve = Curve(group["n_aug"].to_numpy(float), group[metric].to_numpy(float), group["seed"].to_numpy())
        yield dict(zip(CURVE_KEYS, keys, strict=True)), curve


def fit_results(
    results: pd.DataFrame,
    metric: str = "minority_ce",
    theory_alpha: float = 1.0,
    epsilon: float = 0.01,
    seed_effects: bool = True,
) -> pd.DataFrame:
    """One row per augment curve of a results table: the exponents table."""
    check_results(results, metric)
    rows, skipped = [], []
    for keys, curve in augment_curves(results, metric):
        distinct = len(np.unique(curve.n))
        if distinct < MIN_DISTINCT_N:
            skipped.append(f"{'/'.join(map(str, keys.values()))}: {distinct} distinct N > 0")
            continue
        rows.append(
            {**keys, "metric": metric, **fit_curve(curve, theory_alpha, epsilon, seed_effects=seed_effects)}
        )
    if not rows:
        raise SynthscaleError(
            f"no augment curve with at least {MIN_DISTINCT_N} distinct N > 0 in the results; "
            "run the augment experiment with more experiment.augment.n_aug values"
        )
    table = pd.DataFrame(rows)
    table.attrs["skipped"] = skipped  # curves with too few N, reported by the CLI
    return table


def residual_table(results: pd.DataFrame, exponents: pd.DataFrame) -> pd.DataFrame:
    """Every point of every fitted curve: the fitted value at the curve's alpha (with its seed
    levels), the residual, and the residual standardized by its weight and the fit's sigma.
    Curves without an exponent (no decay) have no fitted values and are left out."""
    frames = []
    for fit in exponents.to_dict("records"):
        if not np.isfinite(fit["alpha"]):
            continue
        keys = {k: fit[k] for k in CURVE_KEYS}
        selected = results[(results[list(keys)] == pd.Series(keys)).all(axis=1)]
        (_, curve), *_ = augment_curves(selected, fit["metric"])
        levels = curve_levels(curve, bool(fit.get("seed_effects", True)))
        weights = seed_spread_weights(curve, within_seeds=levels.shape[1] > 0)
        linear = _linear_given_alpha(curve.n / curve.n.max(), curve.loss, weights, fit["alpha"], levels)
        sigma = np.sqrt(np.sum(weights * linear.resid**2) / max(len(curve.n) - linear.df_model - 2, 1))
        frames.append(
            pd.DataFrame(
                {
                    **keys,
                    "metric": fit["metric"],
                    "seed": curve.seed,
                    "n_aug": curve.n,
                    "loss": curve.loss,
                    "fitted": linear.fittedvalues,
                    "residual": linear.resid,
                    "standardized_residual": linear.resid * np.sqrt(weights) / sigma,
                }
            )
        )
    columns = [*CURVE_KEYS, "metric", "seed", "n_aug", "loss", "fitted", "residual", "standardized_residual"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def check_results(results: pd.DataFrame, metric: str) -> None:
    """Refuse what a fit cannot use, naming the column or the rows."""
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
    values = results.loc[results["experiment"] == "augment", metric]
    bad = values[~np.isfinite(values) | (values <= 0)]
    if len(bad):
        raise SynthscaleError(
            f"--metric {metric}: {len(bad)} augment rows are non-positive or not finite "
            f"(e.g. {bad.iloc[0]!r}); a loss must be > 0"
        )


def fit_metrics(exponents: pd.DataFrame) -> dict[str, float]:
    """The headline numbers of each curve as flat metric names, for the sweep's MLflow run."""
    metrics = {}
    for row in exponents.to_dict("records"):
        prefix = f"fit/{row['metric']}/{row['dataset']}/{row['task']}/{row['method']}/{row['classifier']}"
        for name in ("alpha", "alpha_ci_low", "alpha_ci_high", "theory_p_value", "L_inf", "C", "r2"):
            if np.isfinite(row[name]):
                metrics[f"{prefix}/{name}"] = float(row[name])
    return metrics


def ratio_gaps(results: pd.DataFrame, metric: str = "minority_ce") -> pd.DataFrame:
    """Ratio experiment: RAW minus each method per ratio, and the slope of that gap in ratio."""
    check_results(results, metric)
    ratio = results[results["experiment"] == "ratio"]
    keys = ["dataset", "task", "classifier"]
    mean = ratio.groupby([*keys, "method", "ratio"])[metric].mean().reset_index()
    raw = mean[mean["method"] == "raw"].rename(columns={metric: "raw"}).drop(columns="method")
    merged = mean[mean["method"] != "raw"].merge(raw, on=[*keys, "ratio"])
    merged["gap"] = merged["raw"] - merged[metric]
    rows = []
    for group_keys, group in merged.groupby([*keys, "method"]):
        slope = sm.OLS(group["gap"], sm.add_constant(group["ratio"])).fit() if len(group) > 2 else None
        rows.append(
            {
                **dict(zip([*keys, "method"], group_keys, strict=True)),
                "metric": metric,
                "gap_at_max_ratio": float(group.loc[group["ratio"].idxmax(), "gap"]),
                "gap_slope_per_ratio": float(slope.params.iloc[1]) if slope is not None else np.nan,
                "gap_slope_se": float(slope.bse.iloc[1]) if slope is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)
