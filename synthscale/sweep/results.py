"""The tables a sweep writes from its trials' records: results.csv (one row per fit, in grid
order, with its pool's diagnostics) and pools.csv (one row per pool and target)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthscale.diagnostics import POOL_METRICS
from synthscale.sweep.grid import GridPoint

RESULT_COLUMNS = [
    "experiment", "task", "dataset", "method", "classifier", "ratio", "n_aug", "seed",
    "minority_ce", "balanced_ce", "worst_group_ce", "overall_ce", "balanced_accuracy", "minority_f1", "auc",
    "brier", "balanced_ce_cal", "minority_ce_cal", "worst_group_ce_cal", "brier_cal", "n_train", "n_real",
    "n_synthetic",
]  # fmt: skip


def results_table(
    records: list[dict[str, Any]], grid: list[GridPoint], diagnostics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per grid point, in grid order (a retried trial's repeat is dropped), with each
    pool's diagnostics averaged over its targets joined on `pool` as `pool_*` columns."""
    by_key = {}
    for record in records:
        by_key.setdefault(record["grid_key"], record)
    missing = [g.key for g in grid if g.key not in by_key]
    if missing:
        raise RuntimeError(f"{len(missing)} fits never reported, e.g. {missing[0]}")
    table = pd.DataFrame([by_key[g.key] for g in grid])
    if diagnostics is not None and not diagnostics.empty:
        metrics = [c for c in POOL_METRICS if c in diagnostics.columns]
        summary = diagnostics.groupby("pool")[metrics].mean().add_prefix("pool_")
        table = table.merge(summary, left_on="pool", right_index=True, how="left")
    extra = [c for c in table.columns if c not in RESULT_COLUMNS]
    return table.reindex(columns=RESULT_COLUMNS + extra)  # records --resume reads may lack minority_f1


def diagnostics_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Every pool's diagnostics rows (a retried diagnostics trial may have reported twice)."""
    table = pd.DataFrame(rows)
    return table if table.empty else table.drop_duplicates(["pool", "target"], ignore_index=True)
