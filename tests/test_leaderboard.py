"""Mean ranks, the Friedman test and the Nemenyi critical difference, against hand-computed values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from synthscale.leaderboard import (
    critical_difference,
    dataset_scores,
    friedman_table,
    leaderboard,
    left_out,
    method_ranks,
    plot_critical_difference,
)
from synthscale.report import failures_section, leaderboard_sections

AUC = {  # dataset -> method -> AUC; ranks by hand: A 1,2,3,1  B 2,1,2,2  C 3,3,1,3
    "d1": {"A": 0.90, "B": 0.80, "C": 0.70},
    "d2": {"A": 0.85, "B": 0.88, "C": 0.70},
    "d3": {"A": 0.70, "B": 0.75, "C": 0.80},
    "d4": {"A": 0.95, "B": 0.90, "C": 0.85},
}


def results(table: dict = AUC, seeds: int = 2) -> pd.DataFrame:
    """Fits of every (dataset, method): seeds scatter around the table's value by +-0.01."""
    rows = []
    for dataset, methods in table.items():
        for method, auc in methods.items():
            for seed in range(seeds):
                shift = 0.01 * (1 if seed % 2 else -1)
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "classifier": "xgboost",
                        "seed": seed,
                        "auc": auc + shift,
                        "balanced_ce": 1 - auc + shift,
                    }  # fmt: skip
                )
    return pd.DataFrame(rows)


def test_scores_are_means_over_fits_and_ranks_put_the_best_first():
    scores = dataset_scores(results(), "auc")
    assert scores.loc["d2", "B"] == pytest.approx(0.88)
    ranks = method_ranks(scores, "auc")
    assert ranks.loc["d3"].tolist() == [3.0, 2.0, 1.0]
    assert method_ranks(dataset_scores(results(), "balanced_ce"), "balanced_ce").equals(ranks)  # a loss


def test_tied_methods_share_the_mean_of_their_ranks():
    tied = {**AUC, "d1": {"A": 0.80, "B": 0.80, "C": 0.70}}
    assert method_ranks(dataset_scores(results(tied), "auc"), "auc").loc["d1"].tolist() == [1.5, 1.5, 3.0]


def test_the_leaderboard_is_the_mean_rank_of_each_method():
    board = leaderboard(results(), metrics=("auc",)).set_index("method")
    assert board["auc_mean_rank"].to_dict() == {"A": 1.75, "B": 1.75, "C": 2.5}
    assert board.loc["C", "auc_mean"] == pytest.approx((0.70 + 0.70 + 0.80 + 0.85) / 4)


def test_a_dataset_missing_a_method_is_left_out_of_the_ranks_and_named():
    partial = results()
    partial = partial[~((partial["dataset"] == "d4") & (partial["method"] == "C"))]
    scores = dataset_scores(partial, "auc")
    assert list(scores.columns) == ["A", "B", "C"] and list(scores.index) == ["d1", "d2", "d3"]
    assert left_out(partial, "auc") == {"methods": [], "datasets": ["d4"]}
    # ranks over d1-d3 only: A 1,2,3  B 2,1,2  C 3,3,1
    board = leaderboard(partial, metrics=("auc",)).set_index("method")
    assert board["auc_mean_rank"].to_dict() == pytest.approx({"A": 2.0, "B": 5 / 3, "C": 7 / 3})


def test_a_method_scored_on_fewer_than_half_the_datasets_is_left_out_instead():
    partial = results()
    partial = partial[~((partial["dataset"] != "d1") & (partial["method"] == "C"))]
    assert list(dataset_scores(partial, "auc").index) == ["d1", "d2", "d3", "d4"]
    assert left_out(partial, "auc") == {"methods": ["C"], "datasets": []}


def test_a_failed_fit_takes_its_methods_score_on_that_dataset_away():
    failed = results().assign(failure="")
    where = (failed["dataset"] == "d2") & (failed["method"] == "B") & (failed["seed"] == 1)
    failed.loc[where, ["auc", "failure"]] = [float("nan"), "tvae: 0 of the 10 rows asked for ..."]
    # the other seed's AUC alone (0.87) would be a score, flattering or not: none is kept
    assert left_out(failed, "auc") == {"methods": [], "datasets": ["d2"]}
    assert list(dataset_scores(failed, "auc").index) == ["d1", "d3", "d4"]


def test_friedman_statistic_and_critical_difference_by_hand():
    (row,) = friedman_table(results(), metrics=("auc",)).to_dict("records")
    # chi2 = 12 N / (k (k + 1)) * (sum of squared mean ranks - k (k + 1)^2 / 4), N = 4, k = 3
    chi2 = 12 * 4 / (3 * 4) * (1.75**2 + 1.75**2 + 2.5**2 - 3 * 16 / 4)
    assert row["friedman_chi2"] == pytest.approx(chi2) == pytest.approx(1.5)
    assert row["friedman_p_value"] == pytest.approx(math.exp(-1.5 / 2))  # chi2 with 2 df
    assert row["critical_difference"] == pytest.approx(2.343 * math.sqrt(3 * 4 / (6 * 4)), abs=1e-3)
    assert critical_difference(4, 10) == pytest.approx(2.569 * math.sqrt(4 * 5 / 60), abs=1e-3)  # Demšar


def test_two_methods_have_ranks_but_no_friedman_test():
    two = {d: {m: v for m, v in methods.items() if m != "C"} for d, methods in AUC.items()}
    assert friedman_table(results(two), metrics=("auc",)).empty
    assert len(leaderboard(results(two), metrics=("auc",))) == 2


def test_the_figure_joins_methods_within_the_critical_difference():
    figure = plot_critical_difference(pd.Series({"A": 1.75, "B": 1.75, "C": 2.5}), 1.657, "auc")
    bars = [line for line in figure.axes[0].lines if line.get_color() == "tab:red"]
    assert len(bars) == 1  # all three lie within 1.657 of each other: one group
    apart = plot_critical_difference(pd.Series({"A": 1.0, "B": 1.2, "C": 3.0}), 0.5, "auc")
    assert len([line for line in apart.axes[0].lines if line.get_color() == "tab:red"]) == 1  # A-B only


def test_the_report_writes_the_leaderboard_for_several_datasets(tmp_path):
    sections = leaderboard_sections(results(), tmp_path)
    assert any("Leaderboard" in s for s in sections)
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    assert board["method"].tolist()[:2] == ["A", "B"] and board["auc_mean_rank"].tolist()[-1] == 2.5
    assert (tmp_path / "friedman.csv").exists() and (tmp_path / "cd_auc.svg").exists()
    assert leaderboard_sections(results()[results()["dataset"] == "d1"], tmp_path / "one") == []


def test_the_report_lists_failed_fits_and_says_which_datasets_the_ranks_leave_out(tmp_path):
    failed = results().assign(failure="")
    where = (failed["dataset"] == "d4") & (failed["method"] == "C")
    failed.loc[where, ["auc", "balanced_ce", "failure"]] = [float("nan"), float("nan"), "no minority row"]
    (table,) = failures_section(failed, tmp_path)
    assert "no minority row" in table
    assert pd.read_csv(tmp_path / "failures.csv").to_dict("records") == [
        {"method": "C", "dataset": "d4", "fits": 2, "seeds": "0 1", "failure": "no minority row"}
    ]
    page = "".join(leaderboard_sections(failed, tmp_path))
    assert "Ranked over 3 of 4 datasets; left out: datasets where a method has no score (d4)" in page
    assert failures_section(results(), tmp_path / "none") == []
