"""From a results table to the exponents, residual and ratio-gap tables, and the checks
that refuse a table a fit cannot use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from synthscale.errors import SynthscaleError, did_you_mean
from synthscale.experiments import protocol_fits
from synthscale.fit.classes import FLAT_TOLERANCE
from synthscale.fit.curve import fit_curve
from synthscale.fit.design import Curve, curve_design
from synthscale.fit.inference import BOOTSTRAP_REPLICATES
from synthscale.fit.laws import FittedLaw
from synthscale.fit.solve import fitted_values, solve_given_alpha

CURVE_KEYS = ["dataset", "task", "method", "classifier"]  # and data_access, when the results have it
ACCESS_KEY = "data_access"
SD_SUFFIX = "_sd"  # a '<metric>_sd' column: the points are means with a known sd (published curves)
MIN_DISTINCT_N = 4


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
    flat_tolerance: float = FLAT_TOLERANCE,
) -> pd.DataFrame:
    """One row per augment curve of a results table: the exponents table. Curves that cannot
    be fitted are listed, with the reason and the fix, in `table.attrs["skipped"]`."""
    results, skipped = without_failed_fits(protocol_fits(results))
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
        fit = fit_curve(
            curve,
            theory_alpha,
            epsilon,
            bootstrap_replicates,
            seed_effects=seed_effects,
            metric=metric,
            flat_tolerance=flat_tolerance,
        )
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
    results = protocol_fits(results)
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
        design = design.shifted(FittedLaw.from_row(fit).shift)
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
            "slope_per_decade",
            "slope_ci_low",
            "slope_ci_high",
        ):
            if np.isfinite(row.get(name, np.nan)):
                metrics[f"{prefix}/{name}"] = float(row[name])
    return metrics


def ratio_gaps(results: pd.DataFrame, metric: str = "minority_ce") -> pd.DataFrame:
    """Ratio experiment: RAW minus each method per ratio, and the slope of that gap in ratio.
    RAW uses no generator, so it is the baseline of every data access."""
    results = protocol_fits(results)
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
