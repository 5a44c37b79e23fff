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

Before any law, each curve gets a class (`classes`, `trend`): does the metric fall, stay flat
within a tolerance, or rise with N (the change per decade of N with its interval), or can the
seeds not tell; only a curve that falls has its law and exponent quoted.

The package, one idea per module, in the order a fit runs: `classes` and `trend`, `laws` (the five models and a
fitted law), `design` (points, weights, seed levels), `solve` (least squares given alpha),
`inference` (intervals, tests, bootstrap, likelihoods), `choice` (which law), `verdict` (what
may be quoted), `curve` (one curve's row), `tables` (results in, tables out).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> the module that defines it: loaded when first asked for, so that the command
# line's --help (which names the laws) does not load scipy and statsmodels
_EXPORTS = {
    "IDENTIFYING_DECADES": "choice",
    "FLAT_TOLERANCE": "classes",
    "CurveClass": "classes",
    "decade_trend": "trend",
    "classify": "trend",
    "trend_row": "trend",
    "fit_curve": "curve",
    "n_eps": "curve",
    "next_block_gain": "curve",
    "Curve": "design",
    "Design": "design",
    "curve_design": "design",
    "curve_levels": "design",
    "l_inf_ceiling": "design",
    "seed_levels": "design",
    "BOOTSTRAP_REPLICATES": "inference",
    "CONFIDENCE": "inference",
    "CATALOGUE": "laws",
    "FittedLaw": "laws",
    "LAWS": "laws",
    "Law": "laws",
    "MODELS": "laws",
    "model_formulas": "laws",
    "ALPHA_BOUNDS": "solve",
    "law_fit": "solve",
    "shifted_optimum": "solve",
    "shifted_rss_grid": "solve",
    "solve_given_alpha": "solve",
    "ACCESS_KEY": "tables",
    "CURVE_KEYS": "tables",
    "augment_curves": "tables",
    "check_results": "tables",
    "failed_fits": "tables",
    "failed_rows": "tables",
    "fit_metrics": "tables",
    "fit_results": "tables",
    "ratio_gaps": "tables",
    "residual_table": "tables",
    "without_failed_fits": "tables",
    "FitStatus": "verdict",
    "is_true": "verdict",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'synthscale.fit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"synthscale.fit.{_EXPORTS[name]}"), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
