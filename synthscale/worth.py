"""What a method's rows are worth in real rows: each point's rows priced on the oracle's dose curve.

At every protocol point the oracle adds real unseen rows the way the method adds its rows, at
the method's own count and at the other doses of its ladder (`experiment.oracle_doses`); raw
adds none. The seed means of a metric against m, the rows added, are the point's dose curve:
what m real rows buy. A method's worth m_eff is the m at which that curve reaches the method's
mean; m_eff / rows added is its exchange rate (1: a synthetic row is worth a real one, 0: it
adds nothing). Read on the recalibrated balanced CE and on AUC, where a shift of the prior
alone buys nothing.

The dose curve is made monotone by isotonic regression (more real rows do not hurt in
expectation; the seed means of a short ladder wiggle) and read by linear interpolation between
its rungs: no law is assumed, so nothing is extrapolated. A method past either end is
censored: worse than raw ("hurts") or better than the largest dose ("at least m_max").
Intervals come from a seed bootstrap that draws the same seeds for the method and the dose
curve (they share a split and its reserves); a censored draw counts as -inf or +inf, so an
interval can be open at either end.

A dose curve's base: in the ratio protocol every k has its own (k*s/2 real majority rows), in
the augment protocol every N shares one (the seed set and 4s majority rows), so there raw, the
oracle's scaled balancing rows, every N of the oracle and its larger N form one curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression

from synthscale.errors import SynthscaleError
from synthscale.experiments import ALL_REAL, AUG_SUFFIX, DOSE, ORACLE, RAW, is_oracle
from synthscale.fit import failed_rows
from synthscale.fit.tables import curve_keys
from synthscale.gains import (
    CURVE_KEYS,
    GAIN_METRICS,
    NO_GAP,
    POINT_COLUMNS,
    POINT_DECIMALS,
    largest_points,
    reference_of,
)
from synthscale.risks import HIGHER_IS_BETTER

WORTH_REPLICATES = 1000
WORTH_CONFIDENCE = 0.95
ADDED = "n_added"  # results column: rows a fit adds beside its base's real ones
CEILING_MIN_POINTS = 3  # a saturating law on fewer points is a line through them
CEILING_GRID = 200  # values of K, the rows at half the ceiling, searched on a log grid
WORTH_COLUMNS = [
    "dataset", "task", "experiment", "classifier", "ratio", "n_aug_units", "method", "data_access", "metric",
    "seeds", "rows_added", "m_eff", "m_eff_low", "m_eff_high", "exchange_rate", "exchange_rate_low",
    "exchange_rate_high", "worth_status", "worth", "worth_ceiling",
]  # fmt: skip


class Worth(str, Enum):
    """A worth's status (the worth table's `worth_status` column)."""

    MEASURED = "measured"  # on the dose curve: between raw and the largest dose
    HURTS = "hurts"  # worse than raw: the rows cost real rows
    AT_LEAST = "at_least"  # better than the largest dose: worth at least that many real rows
    NO_REAL_GAIN = "no_real_gain"  # real rows buy nothing here: there is no price


@dataclass(frozen=True)
class DoseCurve:
    """What m real rows buy at one base: per seed, the metric at each dose (m[0] = 0: raw),
    oriented so that larger is better."""

    m: np.ndarray  # rows added, increasing
    goodness: np.ndarray  # (seeds, doses)
    seeds: np.ndarray


def orientation(metric: str) -> float:
    """+1 where a larger value is better, -1 for a loss: goodness = orientation * metric."""
    return 1.0 if metric in HIGHER_IS_BETTER else -1.0


def monotone(goodness: np.ndarray) -> np.ndarray:
    """The dose curve's means made non-decreasing in m (scipy's pool adjacent violators)."""
    return isotonic_regression(goodness, increasing=True).x


def price(m: np.ndarray, curve: np.ndarray, goodness: np.ndarray) -> np.ndarray:
    """m_eff for each value of `goodness` on the monotone `curve` over rows `m`: linear between
    rungs; -inf below raw (hurts), +inf above the largest dose, NaN where real rows buy nothing."""
    goodness = np.atleast_1d(goodness).astype(float)
    if curve[-1] - curve[0] <= NO_GAP:
        return np.full(goodness.shape, np.nan)
    index = np.searchsorted(curve, goodness, side="left")
    result = np.empty(goodness.shape)
    result[goodness < curve[0]] = -np.inf
    result[index >= len(curve)] = np.inf
    inside = (index > 0) & (index < len(curve))
    upper = index[inside]
    lower = upper - 1
    span = curve[upper] - curve[lower]
    fraction = np.where(span > 0, (goodness[inside] - curve[lower]) / np.where(span > 0, span, 1.0), 0.0)
    result[inside] = m[lower] + fraction * (m[upper] - m[lower])
    result[(index == 0) & (goodness >= curve[0])] = m[0]
    return result


def bootstrap_weights(n_seeds: int, replicates: int, bootstrap_seed: int) -> np.ndarray:
    """(replicates + 1, seeds) weights summing to 1 per row: the first row the plain mean,
    then one multinomial draw of the seeds per replicate."""
    rng = np.random.default_rng(bootstrap_seed)
    draws = rng.multinomial(n_seeds, np.full(n_seeds, 1 / n_seeds), size=replicates) / n_seeds
    return np.vstack([np.full(n_seeds, 1 / n_seeds), draws])


def worth_of(
    curve: DoseCurve, methods: np.ndarray, replicates: int = WORTH_REPLICATES, bootstrap_seed: int = 0
) -> np.ndarray:
    """m_eff of each method (columns of `methods`, (seeds, methods) goodness on the curve's
    seeds) for the plain mean and every bootstrap replicate: (replicates + 1, methods)."""
    weights = bootstrap_weights(len(curve.seeds), replicates, bootstrap_seed)
    curve_means, method_means = weights @ curve.goodness, weights @ methods
    return np.vstack([price(curve.m, monotone(c), v) for c, v in zip(curve_means, method_means, strict=True)])


def status_of(m_eff: float) -> Worth:
    if np.isnan(m_eff):
        return Worth.NO_REAL_GAIN
    if m_eff == -np.inf:
        return Worth.HURTS
    return Worth.AT_LEAST if m_eff == np.inf else Worth.MEASURED


def worth_text(m_eff: float, low: float, high: float, m_max: float) -> str:
    """m_eff and its interval in words: censored ends said as such, never as numbers."""

    def rows(value: float) -> str:
        if value == -np.inf:
            return "hurts"
        return f">= {m_max:,.0f}" if value == np.inf else f"{value:,.0f}"

    status = status_of(m_eff)
    if status == Worth.NO_REAL_GAIN:
        return "no price: real rows buy nothing here"
    head = {
        Worth.HURTS: "hurts (worse than raw)",
        Worth.AT_LEAST: f"at least {m_max:,.0f} (beyond the largest dose)",
    }.get(status, f"{m_eff:,.0f}")
    return f"{head} [{rows(low)}, {rows(high)}] real rows"


def unpriced_reason(results: pd.DataFrame) -> str | None:
    """Why a results table's rows cannot be priced in real rows, or None when they can."""
    if "experiment" not in results or not results["method"].map(is_oracle).any():
        return "the sweep ran no oracle: add oracle to methods to price rows in real rows"
    if ADDED not in results.columns:
        return (
            f"results table lacks column {ADDED} (rows each fit adds); it predates worth in real rows: "
            "rerun the sweep with this version of synthscale"
        )
    return None


def worth_if_priced(results: pd.DataFrame) -> pd.DataFrame:
    """The worth table, or an empty one where `unpriced_reason` says why there is none."""
    return pd.DataFrame() if unpriced_reason(results) else worth_table(results)


def worth_table(
    results: pd.DataFrame,
    metrics: tuple[str, ...] = GAIN_METRICS,
    replicates: int = WORTH_REPLICATES,
    confidence: float = WORTH_CONFIDENCE,
    bootstrap_seed: int = 0,
) -> pd.DataFrame:
    """One row per (dataset, task, protocol, classifier, point, method, data access, metric)
    of the ratio and augment protocols that ran raw and the oracle: the rows the method adds,
    their worth m_eff in real rows and the exchange rate, each with its interval; empty
    without an oracle."""
    if "experiment" not in results or not results["method"].map(is_oracle).any():
        return pd.DataFrame()
    reason = unpriced_reason(results)
    if reason:
        raise SynthscaleError(reason)
    results = results[~failed_rows(results)]
    metrics = tuple(m for m in metrics if m in results.columns and results[m].notna().any())
    frames = [
        _protocol_worth(results[results["experiment"] == experiment], column, metric, replicates, confidence,
                        bootstrap_seed)
        for experiment, column in POINT_COLUMNS.items()
        for metric in metrics
    ]  # fmt: skip
    frames = [frame for frame in frames if len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _protocol_worth(
    rows: pd.DataFrame, column: str, metric: str, replicates: int, confidence: float, bootstrap_seed: int
) -> pd.DataFrame:
    if rows.empty or not rows["method"].map(is_oracle).any() or not (rows["method"] == RAW).any():
        return pd.DataFrame()
    experiment = rows["experiment"].iloc[0]
    base = rows["ratio"].astype(float).round(POINT_DECIMALS) if experiment == "ratio" else 0.0
    dose = rows[DOSE].fillna(1.0).astype(float) if DOSE in rows else 1.0
    rows = rows.assign(
        base=base,
        point=rows[column].astype(float).round(POINT_DECIMALS),
        data_access=rows["data_access"].fillna("").astype(str),
        dose=dose,
    )
    table = []
    for keys, group in rows.groupby([*CURVE_KEYS, "base"], sort=True):
        for reference in (ORACLE, ORACLE + AUG_SUFFIX):
            curve = dose_curve(group, reference, metric)
            if curve is None:
                continue
            table += _priced(group, reference, curve, metric, replicates, confidence, bootstrap_seed,
                             dict(zip(CURVE_KEYS, keys, strict=False)))  # fmt: skip
    if not table:
        return pd.DataFrame()
    return pd.DataFrame(table).rename(columns={"point": column})


def dose_curve(group: pd.DataFrame, reference: str, metric: str) -> DoseCurve | None:
    """Raw (m = 0) and every dose of `reference` at one base, per seed; None without both."""
    doses = group[(group["method"] == RAW) | (group["method"] == reference)]
    if not (doses["method"] == reference).any() or not (doses["method"] == RAW).any():
        return None
    table = doses.pivot_table(index="seed", columns=ADDED, values=metric, aggfunc="mean")
    table = table.dropna(axis=1, thresh=max(len(table) // 2, 1)).dropna(axis=0)
    if table.shape[1] < 2 or 0 not in table.columns:
        return None
    m = table.columns.to_numpy(float)
    return DoseCurve(m, orientation(metric) * table.to_numpy(float), table.index.to_numpy())


def _priced(
    group: pd.DataFrame,
    reference: str,
    curve: DoseCurve,
    metric: str,
    replicates: int,
    confidence: float,
    bootstrap_seed: int,
    keys: dict,
) -> list[dict]:
    """Every method read on `reference`'s curve (an '_aug' method of the ratio protocol on
    oracle_aug's), the reference itself at its own points: its worth should be its rows."""
    priced = group[
        ~group["method"].isin([RAW, ALL_REAL])
        & (group["dose"] == 1.0)
        & group["method"].map(lambda name: reference_of(name, group["experiment"].iloc[0]) == reference)
    ]
    priced = priced[priced["seed"].isin(curve.seeds)]
    if priced.empty:
        return []
    by_method = priced.pivot_table(
        index="seed", columns=["method", "data_access", "point"], values=metric, aggfunc="mean"
    ).reindex(curve.seeds)
    by_method = by_method.loc[:, by_method.notna().all()]
    if by_method.empty:
        return []
    added = priced.groupby(["method", "data_access", "point"])[ADDED].first()
    m_eff = worth_of(curve, orientation(metric) * by_method.to_numpy(float), replicates, bootstrap_seed)
    tail = (1 - confidence) / 2
    low = np.quantile(m_eff[1:], tail, axis=0, method="inverted_cdf")
    high = np.quantile(m_eff[1:], 1 - tail, axis=0, method="inverted_cdf")
    rows, m_max = [], float(curve.m[-1])
    augment = group["experiment"].iloc[0] == "augment"
    ceilings = curve_ceilings(by_method.columns, added, m_eff, m_max, confidence) if augment else {}
    for i, (method, access, point) in enumerate(by_method.columns):
        rows_added = float(added[(method, access, point)])
        estimate = float(m_eff[0, i])
        rows.append({
            **keys, "point": point, "method": method, "data_access": access, "metric": metric,
            "seeds": len(curve.seeds), "rows_added": rows_added, "max_dose": m_max,
            "m_eff": estimate, "m_eff_low": float(low[i]), "m_eff_high": float(high[i]),
            "exchange_rate": estimate / rows_added if rows_added else np.nan,
            "exchange_rate_low": float(low[i]) / rows_added if rows_added else np.nan,
            "exchange_rate_high": float(high[i]) / rows_added if rows_added else np.nan,
            "worth_status": status_of(estimate).value,
            "worth": worth_text(estimate, float(low[i]), float(high[i]), m_max),
            **({"worth_ceiling": ceilings[(method, access)]} if ceilings else {}),
        })  # fmt: skip
    return rows


def curve_ceilings(
    columns: pd.MultiIndex, added: pd.Series, m_eff: np.ndarray, m_max: float, confidence: float
) -> dict[tuple[str, str], str]:
    """Each (method, data access)'s ceiling, in words, from its points' bootstrap draws: in the
    augment protocol, whose points share one base, a method's N form its worth curve."""
    ceilings = {}
    for curve_key in dict.fromkeys(column[:2] for column in columns):
        points = [i for i, column in enumerate(columns) if column[:2] == curve_key]
        rows_added = np.array([added[columns[i]] for i in points], float)
        ceilings[curve_key] = ceiling_text(*worth_ceiling(rows_added, m_eff[:, points], m_max, confidence))
    return ceilings


def worth_ceiling(
    rows_added: np.ndarray, m_eff: np.ndarray, m_max: float, confidence: float = WORTH_CONFIDENCE
) -> tuple[float, float, float, bool]:
    """The most real rows any number of a method's rows is worth: the ceiling M of the
    saturating law m_eff = M R / (R + K) in the rows added R, fitted to each bootstrap draw of
    the worth curve (`m_eff`: (draws, points), censored values clipped to [0, m_max]) by least
    squares, exact in M for each K of a log grid. Returns M, its interval and whether it
    saturates (K, the rows at half the ceiling, inside the grid of R); otherwise the worth
    still grows in proportion to the rows and there is no ceiling in reach."""
    if len(rows_added) < CEILING_MIN_POINTS:
        return np.nan, np.nan, np.nan, False
    worth = np.clip(np.nan_to_num(m_eff, nan=0.0), 0.0, m_max)  # hurts: worth nothing; beyond: m_max
    half = np.geomspace(rows_added.min() / 100, rows_added.max() * 100, CEILING_GRID)
    shape = rows_added[None, :] / (rows_added[None, :] + half[:, None])  # (K, points)
    scale = np.maximum(worth @ shape.T, 0.0) / (shape**2).sum(axis=1)  # (draws, K): best M per K
    rss = (worth**2).sum(axis=1)[:, None] - scale**2 * (shape**2).sum(axis=1)
    best = rss.argmin(axis=1)
    ceiling = scale[np.arange(len(best)), best]
    tail = (1 - confidence) / 2
    low, high = np.quantile(ceiling[1:], [tail, 1 - tail]) if len(ceiling) > 1 else (np.nan, np.nan)
    return float(ceiling[0]), float(low), float(high), bool(half[best[0]] < rows_added.max())


def ceiling_text(ceiling: float, low: float, high: float, saturates: bool) -> str:
    if np.isnan(ceiling):
        return ""
    if not saturates:
        return "no ceiling in reach: worth still grows with the rows"
    if high <= 0:
        return "worth no real rows at any N"
    return f"levels off at {ceiling:,.0f} [{low:,.0f}, {high:,.0f}] real rows"


def largest_worth(worth: pd.DataFrame) -> pd.DataFrame:
    """Each curve's worth at its largest k or N: what a summary shows first."""
    return largest_points(worth, [*CURVE_KEYS, "method", "data_access", "metric"])


def worth_metrics(worth: pd.DataFrame) -> dict[str, float]:
    """Each curve's worth at its largest point as flat metric names, for the sweep's MLflow run
    (censored values are left out: their status is in the table logged beside them)."""
    metrics = {}
    for row in largest_worth(worth).to_dict("records"):
        parts = [
            row["metric"],
            row["dataset"],
            row["task"],
            row["experiment"],
            row["method"],
            row["classifier"],
        ]
        parts += [row["data_access"]] if row.get("data_access") else []
        prefix = "worth/" + "/".join(map(str, parts))
        for name in ("m_eff", "m_eff_low", "m_eff_high", "exchange_rate", "rows_added"):
            if np.isfinite(row.get(name, np.nan)):
                metrics[f"{prefix}/{name}"] = float(row[name])
    return metrics


def with_worth(exponents: pd.DataFrame, worth: pd.DataFrame) -> pd.DataFrame:
    """The exponents table with each augment curve's worth at its largest N beside its class:
    on the fitted metric when worth is read on it, else on the recalibrated balanced CE."""
    if exponents.empty or worth.empty:
        return exponents
    metric = exponents["metric"].iloc[0]
    read_on = metric if metric in set(worth["metric"]) else GAIN_METRICS[0]
    largest = largest_worth(worth[(worth["experiment"] == "augment") & (worth["metric"] == read_on)])
    keys = curve_keys(exponents)
    columns = {"rows_added": "largest_rows_added", "worth": "worth_at_largest",
               "exchange_rate": "exchange_rate_at_largest", "worth_ceiling": "worth_ceiling"}  # fmt: skip
    beside = largest[[*keys, *columns]].rename(columns=columns).assign(worth_metric=read_on)
    table = exponents.assign(**{k: exponents[k].fillna("").astype(str) for k in keys if k == "data_access"})
    merged = table.merge(beside, on=keys, how="left")
    merged.attrs = exponents.attrs
    return merged
