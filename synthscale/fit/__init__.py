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

The package, one idea per module, in the order a fit runs: `laws` (the five models and a
fitted law), `design` (points, weights, seed levels), `solve` (least squares given alpha),
`inference` (intervals, tests, bootstrap, likelihoods), `choice` (which law), `verdict` (what
may be quoted), `curve` (one curve's row), `tables` (results in, tables out).
"""

from synthscale.fit.choice import IDENTIFYING_DECADES
from synthscale.fit.curve import fit_curve, n_eps, next_block_gain
from synthscale.fit.design import Curve, Design, curve_design, curve_levels, l_inf_ceiling, seed_levels
from synthscale.fit.inference import BOOTSTRAP_REPLICATES, CONFIDENCE
from synthscale.fit.laws import CATALOGUE, LAWS, MODELS, FittedLaw, Law
from synthscale.fit.solve import ALPHA_BOUNDS, law_fit, shifted_optimum, shifted_rss_grid, solve_given_alpha
from synthscale.fit.tables import (
    ACCESS_KEY,
    CURVE_KEYS,
    augment_curves,
    check_results,
    failed_fits,
    failed_rows,
    fit_metrics,
    fit_results,
    ratio_gaps,
    residual_table,
    without_failed_fits,
)
from synthscale.fit.verdict import FitStatus, is_true

__all__ = [
    "ACCESS_KEY",
    "ALPHA_BOUNDS",
    "BOOTSTRAP_REPLICATES",
    "CATALOGUE",
    "CONFIDENCE",
    "CURVE_KEYS",
    "IDENTIFYING_DECADES",
    "LAWS",
    "MODELS",
    "Curve",
    "Design",
    "FitStatus",
    "FittedLaw",
    "Law",
    "augment_curves",
    "check_results",
    "curve_design",
    "curve_levels",
    "failed_fits",
    "failed_rows",
    "fit_curve",
    "fit_metrics",
    "fit_results",
    "is_true",
    "l_inf_ceiling",
    "law_fit",
    "n_eps",
    "next_block_gain",
    "ratio_gaps",
    "residual_table",
    "seed_levels",
    "shifted_optimum",
    "shifted_rss_grid",
    "solve_given_alpha",
    "without_failed_fits",
]
