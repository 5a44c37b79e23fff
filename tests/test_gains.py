"""The oracle gain share against hand values: (raw - method) / (raw - oracle) on seed means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.gains import largest_points, oracle_gain_shares
from synthscale.leaderboard import leaderboard


def fit(method, experiment, seed, balanced_ce_cal, auc, ratio=5.0, n_aug_units=0, access="seed", **extra):
    return dict(dataset="craft", task="imbalance", experiment=experiment, classifier="xgboost", method=method,
                data_access=access, seed=seed, ratio=ratio, n_aug_units=n_aug_units,
                balanced_ce_cal=balanced_ce_cal, auc=auc, **extra)  # fmt: skip


@pytest.fixture
def results() -> pd.DataFrame:
    rows = []
    for seed, noise in ((0, -0.01), (1, 0.01)):  # seed means are the values written
        rows += [
            fit("raw", "ratio", seed, 0.60 + noise, 0.80, access="none"),
            fit("oracle", "ratio", seed, 0.50 + noise, 0.90, access="none"),
            fit("oracle_aug", "ratio", seed, 0.40, 0.92, access="none"),
            fit("smote", "ratio", seed, 0.55 + noise, 0.84),
            fit("smote_aug", "ratio", seed, 0.50, 0.86),
            fit("llm", "ratio", seed, 0.65, 0.78),
            fit("raw", "augment", seed, 0.60, 0.80, ratio=9.0, access="none"),
        ]
        for n, oracle, smote in ((2, 0.50, 0.58), (8, 0.40, 0.55)):
            rows += [
                fit("oracle", "augment", seed, oracle, 0.90, ratio=9.0, n_aug_units=n, access="none"),
                fit("smote", "augment", seed, smote, 0.85, ratio=9.0, n_aug_units=n, access="train"),
            ]
    return pd.DataFrame(rows)


def test_shares_at_each_point_against_raw_and_the_oracle_there(results):
    shares = oracle_gain_shares(results)

    def at(experiment: str, method: str, point: float, column: str = "balanced_ce_cal_oracle_share"):
        where = shares["ratio"] if experiment == "ratio" else shares["n_aug_units"]
        (value,) = shares.loc[
            (shares["experiment"] == experiment) & (shares["method"] == method) & (where == point), column
        ]
        return value

    assert at("ratio", "smote", 5) == pytest.approx(0.5)
    assert at("ratio", "smote", 5, "auc_oracle_share") == pytest.approx(0.4)
    assert at("ratio", "llm", 5) == pytest.approx(-0.5)  # its rows hurt
    # an _aug method is read against the oracle with the same augmentation rows
    assert at("ratio", "smote_aug", 5) == pytest.approx(0.5)
    assert at("ratio", "smote_aug", 5, "reference") == "oracle_aug"
    # raw's one augment point is every N's baseline
    assert at("augment", "smote", 2) == pytest.approx(0.2)
    assert at("augment", "smote", 8) == pytest.approx(0.25)
    assert at("augment", "smote", 8, "data_access") == "train"
    assert (shares["seeds"] == 2).all()
    assert not shares["method"].isin(["raw", "oracle", "oracle_aug"]).any()


def test_where_raw_and_the_oracle_tie_there_is_no_share(results):
    tied = results[results["experiment"] == "ratio"].assign(balanced_ce_cal=lambda t: np.where(t["method"].isin(["raw", "oracle"]), 0.6, t["balanced_ce_cal"]))  # fmt: skip
    shares = oracle_gain_shares(tied).set_index("method")
    assert np.isnan(shares.loc["smote", "balanced_ce_cal_oracle_share"])


def test_no_oracle_no_shares(results):
    assert oracle_gain_shares(results[~results["method"].str.startswith("oracle")]).empty


def test_largest_points_keep_each_curves_largest_n(results):
    largest = largest_points(oracle_gain_shares(results))
    assert largest.loc[largest["experiment"] == "augment", "n_aug_units"].tolist() == [8]


def test_the_leaderboard_pools_each_methods_gains_and_leaves_the_oracle_unranked():
    rows = []
    for dataset, (raw, oracle, smote) in {"a": (0.6, 0.4, 0.5), "b": (0.8, 0.7, 0.8)}.items():
        for method, value in (("raw", raw), ("oracle", oracle), ("smote", smote), ("ros", raw)):
            access = "none" if method in ("raw", "oracle") else "seed"
            rows.append({**fit(method, "ratio", 0, value, 1 - value, access=access), "dataset": dataset})
    table = pd.DataFrame(rows)
    board = leaderboard(table).set_index("method")
    assert "oracle" not in board.index and set(board.index) == {"raw", "smote", "ros"}
    # gains summed over both datasets' points: (0.1 + 0) / (0.2 + 0.1)
    assert board.loc["smote", "balanced_ce_cal_oracle_share"] == pytest.approx(1 / 3)
    assert board.loc["smote", "auc_oracle_share"] == pytest.approx(1 / 3)
    assert board.loc["ros", "auc_oracle_share"] == pytest.approx(0.0)


def test_no_share_where_the_oracle_does_worse_than_raw(results):
    worse = results.copy()
    oracle_ratio = (worse["method"] == "oracle") & (worse["experiment"] == "ratio")
    worse.loc[oracle_ratio, ["balanced_ce_cal", "auc"]] = [0.7, 0.7]  # worse than raw on both
    shares = oracle_gain_shares(worse)
    smote = shares[(shares["method"] == "smote") & (shares["experiment"] == "ratio")]
    assert smote[["balanced_ce_cal_oracle_share", "auc_oracle_share"]].isna().all().all()
