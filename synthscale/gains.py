"""How much of what real rows would add a method's rows add: the oracle gain share.

At each protocol point (the ratio's n_maj/n_min, the augment grid's N), the oracle trains on
as many real unseen rows as the method adds synthetic ones, so

    share = (raw - method) / (raw - oracle)

on seed means reads 1 when the method's rows are worth real rows, 0 when they add nothing
and below 0 when they hurt. It is read on the calibrated balanced CE, where a change in the
classifier's confidence alone moves nothing, and on AUC, which no monotone map moves; the
uncalibrated CE would credit a shift of the prior as information.
"""

from __future__ import annotations

import pandas as pd

from synthscale.experiments import ALL_REAL, AUG_SUFFIX, ORACLE, RAW, Method, is_oracle, protocol_fits
from synthscale.fit import failed_rows
from synthscale.risks import HIGHER_IS_BETTER

GAIN_METRICS = ("balanced_ce_cal", "auc")
SHARE_SUFFIX = "_oracle_share"
POINT_DECIMALS = 6  # a float point column (the real ratio) rounded so points match across methods
# the protocol's point column: the ratio's n_maj/n_min, the augment grid's N (units of s)
POINT_COLUMNS = {"ratio": "ratio", "augment": "n_aug_units"}
CURVE_KEYS = ["dataset", "task", "experiment", "classifier"]
NO_GAP = 1e-12  # the oracle no better than raw by this much: no gain to share (k = 0: all are raw)


def oracle_gain_shares(results: pd.DataFrame, metrics: tuple[str, ...] = GAIN_METRICS) -> pd.DataFrame:
    """One row per (dataset, task, protocol, classifier, point, method, data access) of the
    ratio and augment protocols that ran raw and the oracle: the seed means of `metrics` for
    the method, raw and the oracle (an `_aug` method against `oracle_aug` in the ratio
    protocol), and each metric's share; empty without an oracle."""
    if "experiment" not in results or not results["method"].map(is_oracle).any():
        return pd.DataFrame()
    metrics = tuple(m for m in metrics if m in results.columns and results[m].notna().any())
    frames = [
        _protocol_shares(results, experiment, column, metrics)
        for experiment, column in POINT_COLUMNS.items()
        if metrics
    ]
    frames = [frame for frame in frames if len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _protocol_shares(
    results: pd.DataFrame, experiment: str, column: str, metrics: tuple[str, ...]
) -> pd.DataFrame:
    results = protocol_fits(results)
    rows = results[(results["experiment"] == experiment) & ~failed_rows(results)]
    if not rows["method"].map(is_oracle).any() or not (rows["method"] == RAW).any():
        return pd.DataFrame()
    column = column if column in rows else "n_aug"  # results without n_aug_units: N in rows
    access = rows["data_access"].fillna("") if "data_access" in rows else ""
    rows = rows.assign(point=rows[column].astype(float).round(POINT_DECIMALS), data_access=access)
    keys = [*CURVE_KEYS, "point", "method", "data_access"]
    means = rows.groupby(keys, sort=True)[list(metrics)].mean()
    means["seeds"] = rows.groupby(keys, sort=True)["seed"].nunique()
    means = means.reset_index()
    # raw adds nothing, so in the augment protocol its one point is every N's baseline
    raw_on = [*CURVE_KEYS, "point"] if experiment == "ratio" else CURVE_KEYS
    raw = _reference(means, RAW, raw_on)
    methods = means[~means["method"].isin([RAW, ALL_REAL]) & ~means["method"].map(is_oracle)]
    methods = methods.assign(reference=methods["method"].map(lambda method: reference_of(method, experiment)))
    oracles = means[means["method"].map(is_oracle)].rename(columns={"method": "reference"})
    oracles = oracles.drop(columns=["data_access", "seeds"]).rename(
        columns={m: f"{m}_oracle" for m in metrics}
    )
    table = methods.merge(raw, on=raw_on).merge(oracles, on=[*CURVE_KEYS, "point", "reference"])
    for metric in metrics:
        gap = oracle_gap(table, metric)
        share = (table[f"{metric}_raw"] - table[metric]) / (
            table[f"{metric}_raw"] - table[f"{metric}_oracle"]
        )
        table[f"{metric}{SHARE_SUFFIX}"] = share.where(gap > NO_GAP)
    table = table.rename(columns={"point": column})
    first = [*CURVE_KEYS, column, "method", "data_access", "seeds", *(f"{m}{SHARE_SUFFIX}" for m in metrics)]
    return table[first + [c for c in table.columns if c not in first]]


def reference_of(method: str, experiment: str) -> str:
    """The oracle a method is read against: oracle_aug for an '_aug' method of the ratio
    protocol (it adds aug_size*s more rows), the oracle otherwise."""
    augmented = Method.of(method).augmented and experiment == "ratio"
    return ORACLE + AUG_SUFFIX if augmented else ORACLE


def oracle_gap(table: pd.DataFrame, metric: str) -> pd.Series:
    """How much better the oracle is than raw (a loss lower, AUC higher); a share is defined
    only where it is better: real rows that do not help leave nothing to recover."""
    gap = table[f"{metric}_raw"] - table[f"{metric}_oracle"]
    return -gap if metric in HIGHER_IS_BETTER else gap


def pooled_shares(shares: pd.DataFrame, metrics: tuple[str, ...] = GAIN_METRICS) -> pd.DataFrame:
    """Per method, one share over every point where the oracle helped: the sum of its gains
    over the sum of the oracle's, so a point where raw and the oracle nearly tie weighs
    little instead of blowing the share up."""
    columns = {}
    for metric in (m for m in metrics if f"{m}_oracle" in shares):
        rows = shares[oracle_gap(shares, metric) > NO_GAP]
        gains = (rows[f"{metric}_raw"] - rows[metric]).groupby(rows["method"]).sum()
        oracle = (rows[f"{metric}_raw"] - rows[f"{metric}_oracle"]).groupby(rows["method"]).sum()
        columns[f"{metric}{SHARE_SUFFIX}"] = gains / oracle
    return pd.DataFrame(columns)


def _reference(means: pd.DataFrame, method: str, on: list[str]) -> pd.DataFrame:
    reference = means[means["method"] == method].drop(columns=["method", "data_access", "seeds"])
    if "point" not in on:
        reference = reference.drop(columns="point")
    metrics = [c for c in reference.columns if c not in on]
    return reference.rename(columns={m: f"{m}_raw" for m in metrics})


def largest_points(shares: pd.DataFrame, keys: list[str] = CURVE_KEYS) -> pd.DataFrame:
    """Each curve's row at its largest k or N (a curve: `keys`): the summary a report shows first."""
    if shares.empty:
        return shares
    frames = []
    for experiment, column in POINT_COLUMNS.items():
        rows = shares[shares["experiment"] == experiment]
        column = column if column in rows else "n_aug"
        if len(rows):
            largest = rows.groupby(keys)[column].transform("max")
            frames.append(rows[rows[column] == largest])
    return pd.concat(frames, ignore_index=True)
