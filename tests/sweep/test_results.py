"""The tables made from the trials' records: results.csv in grid order with pool means, pools.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.sweep.results import diagnostics_table, results_table
from synthscale.sweep.trials import run_trial


def test_results_table_is_in_grid_order_drops_repeats_and_joins_pool_means(inputs):
    plan, sweep_inputs = inputs
    outcomes = [run_trial(trial_id, sweep_inputs) for trial_id in reversed(sweep_inputs.trial_ids)]
    records = [r for outcome in outcomes for r in outcome.get("records", [])]
    rows = [r for outcome in outcomes for r in outcome.get("diagnostics", [])]
    repeated = {**records[0], "minority_ce": -1.0}  # a retried trial's second report comes later
    diagnostics = diagnostics_table(rows + rows[:2])
    table = results_table(records + [repeated], plan.grid, diagnostics)
    assert table["grid_key"].tolist() == [g.key for g in plan.grid]
    assert (table["minority_ce"] >= 0).all() and len(diagnostics) == len(rows)
    smote = table[table["pool"] != ""]
    means = pd.DataFrame(rows).groupby("pool")["detection_auc"].mean()
    assert np.allclose(smote["pool_detection_auc"], smote["pool"].map(means))
    assert table.loc[table["pool"] == "", "pool_detection_auc"].isna().all()
    with pytest.raises(RuntimeError, match="1 fits never reported"):
        results_table(records[1:], plan.grid)
