"""Methods ranked across datasets, the way the oversampling literature compares them.

Each (dataset, method) gets one score per metric: the mean over every fit of it (seeds,
folds, ratios, N). Within each dataset the methods are ranked (1 = best; ties share the mean
rank), and the leaderboard is each method's mean rank. The Friedman test (scipy) asks whether
the mean ranks differ more than chance would make them; the Nemenyi critical difference
(Demšar 2006, from scipy's studentized range) is how far apart two mean ranks must be to
differ at level alpha, drawn as the critical-difference figure. The oracle (real rows in a
sampler's place) is not ranked: it is the yardstick of the `*_oracle_share` columns, each
method's gains over raw summed over every point where the oracle gained, over the oracle's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from synthscale.experiments import is_oracle
from synthscale.fit import failed_rows
from synthscale.gains import oracle_gain_shares, pooled_shares
from synthscale.risks import HIGHER_IS_BETTER

LEADERBOARD_METRICS = (
    "auc",
    "balanced_ce_cal",
    "balanced_ce",
    "minority_ce",
    "minority_f1",
    "balanced_accuracy",
)
MIN_DATASETS = 2  # ranks need datasets to average over
ALPHA = 0.05


@dataclass(frozen=True)
class Friedman:
    """The Friedman test over `datasets` blocks and `methods` treatments, with the Nemenyi
    critical difference of mean ranks at `alpha`."""

    statistic: float
    p_value: float
    datasets: int
    methods: int
    critical_difference: float
    alpha: float = ALPHA


def dataset_scores(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """datasets x methods: the mean of `metric` over every fit of each (dataset, method), in
    complete blocks only, so that the ranks compare like with like (see complete_blocks)."""
    return complete_blocks(all_dataset_scores(results, metric))


def all_dataset_scores(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """datasets x methods, NaN where a method has no score: never run on the dataset, or
    one of its fits there failed (a mean over the fits that ran would flatter it)."""
    results = results[~results["method"].map(is_oracle)]  # real rows: a yardstick, not a competitor
    scores = results.groupby(["dataset", "method"])[metric].mean()
    failed = failed_rows(results).groupby([results["dataset"], results["method"]]).any()
    return scores.where(~failed).unstack("method")


def complete_blocks(scores: pd.DataFrame) -> pd.DataFrame:
    """The Friedman test needs every method on every dataset: a method scored on fewer than
    half the datasets is left out, then every dataset that lacks one of the others."""
    methods = scores.columns[scores.notna().mean() >= 0.5]
    return scores[methods].dropna(axis=0, how="any")


def left_out(results: pd.DataFrame, metric: str) -> dict[str, list[str]]:
    """What complete_blocks leaves out of the ranks: {"methods": [...], "datasets": [...]}."""
    scores = all_dataset_scores(results, metric)
    kept = complete_blocks(scores)
    return {
        "methods": [m for m in scores.columns if m not in kept.columns],
        "datasets": [d for d in scores.index if d not in kept.index],
    }


def method_ranks(scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per dataset, each method's rank: 1 is the best; ties share the mean of their ranks."""
    return scores.rank(axis=1, ascending=metric not in HIGHER_IS_BETTER, method="average")


def friedman_test(scores: pd.DataFrame, alpha: float = ALPHA) -> Friedman | None:
    """scipy's Friedman test of the score table; None under three methods or two datasets."""
    n, k = scores.shape
    if k < 3 or n < MIN_DATASETS:
        return None
    statistic, p_value = stats.friedmanchisquare(*(scores[column].to_numpy() for column in scores.columns))
    return Friedman(float(statistic), float(p_value), n, k, critical_difference(k, n, alpha), alpha)


def critical_difference(methods: int, datasets: int, alpha: float = ALPHA) -> float:
    """Nemenyi: q_alpha * sqrt(k (k + 1) / (6 N)), q_alpha the studentized range quantile
    over sqrt(2) (Demšar's table: 2.343 for k = 3 at 0.05)."""
    q_alpha = stats.studentized_range.ppf(1 - alpha, methods, np.inf) / np.sqrt(2)
    return float(q_alpha * np.sqrt(methods * (methods + 1) / (6 * datasets)))


def ranked_metrics(results: pd.DataFrame, metrics: tuple[str, ...] = LEADERBOARD_METRICS) -> list[str]:
    """The metrics of `metrics` that results has values of."""
    return [m for m in metrics if m in results.columns and results[m].notna().any()]


def leaderboard(results: pd.DataFrame, metrics: tuple[str, ...] = LEADERBOARD_METRICS) -> pd.DataFrame:
    """One row per method: its mean rank and mean score for each metric results has,
    best mean rank of the first metric first."""
    columns = {}
    for metric in ranked_metrics(results, metrics):
        scores = dataset_scores(results, metric)
        columns[f"{metric}_mean_rank"] = method_ranks(scores, metric).mean()
        columns[f"{metric}_mean"] = scores.mean()
    table = pd.DataFrame(columns)
    shares = oracle_gain_shares(results)
    if len(shares):
        table = table.join(pooled_shares(shares))
    table.index.name = "method"
    return table.sort_values(table.columns[0]).reset_index() if len(table.columns) else table.reset_index()


def friedman_table(results: pd.DataFrame, metrics: tuple[str, ...] = LEADERBOARD_METRICS) -> pd.DataFrame:
    """One row per metric: the Friedman statistic, its p-value and the critical difference."""
    rows = []
    for metric in ranked_metrics(results, metrics):
        test = friedman_test(dataset_scores(results, metric))
        if test is not None:
            rows.append(
                {
                    "metric": metric,
                    "datasets": test.datasets,
                    "methods": test.methods,
                    "friedman_chi2": test.statistic,
                    "friedman_p_value": test.p_value,
                    "critical_difference": test.critical_difference,
                    "alpha": test.alpha,
                }
            )
    return pd.DataFrame(rows)


def plot_critical_difference(mean_ranks: pd.Series, difference: float, metric: str) -> Figure:
    """Methods on the mean-rank axis (1, the best, on the left), the better half labelled on
    the left and the worse on the right; a bar joins each run of methods whose mean ranks lie
    within the critical difference of each other (those do not differ)."""
    ranks = mean_ranks.sort_values()
    k, half = len(ranks), (len(ranks) + 1) // 2
    rows = max(half, k - half)
    figure = Figure(figsize=(7.2, 1.6 + 0.3 * rows))
    axis = figure.add_subplot()
    axis.set_xlim(1 - 0.1, max(k, 2) + 0.1)
    axis.set_ylim(-(rows + 0.8), 1.6)
    axis.xaxis.tick_top()
    axis.set_xticks(range(1, max(k, 2) + 1))
    axis.set_yticks([])
    for side in ("left", "right", "bottom"):
        axis.spines[side].set_visible(False)
    axis.spines["top"].set_position(("data", 0))
    for i, (method, rank) in enumerate(ranks.items()):
        left = i < half
        y = -(i + 1) if left else -(k - i)
        edge = axis.get_xlim()[0] if left else axis.get_xlim()[1]
        axis.plot([rank, rank, edge], [0, y, y], color="black", linewidth=0.8, clip_on=False)
        axis.text(edge + (-0.05 if left else 0.05), y, f"{method} ({rank:.2f})", va="center",
                  ha="right" if left else "left", fontsize=8, clip_on=False)  # fmt: skip
    for level, (start, stop) in enumerate(_cliques(ranks.to_numpy(), difference)):
        y = -0.35 - 0.2 * level
        axis.plot([ranks.iloc[start] - 0.03, ranks.iloc[stop] + 0.03], [y, y], color="tab:red", linewidth=3)
    axis.plot([1, 1 + difference], [1.0, 1.0], color="black", linewidth=1.5)
    axis.text(1, 1.15, f"CD = {difference:.2f}", fontsize=8)
    axis.set_title(f"{metric}: mean rank across datasets (Nemenyi, alpha = {ALPHA})", fontsize=9, pad=18)
    figure.subplots_adjust(left=0.22, right=0.78, top=0.8, bottom=0.05)
    return figure


def _cliques(sorted_ranks: np.ndarray, difference: float) -> list[tuple[int, int]]:
    """Maximal runs [start, stop] of sorted mean ranks spanning less than `difference`."""
    runs = []
    for start in range(len(sorted_ranks)):
        stop = int(np.searchsorted(sorted_ranks, sorted_ranks[start] + difference, side="left")) - 1
        if stop > start and not any(s <= start and stop <= e for s, e in runs):
            runs.append((start, stop))
    return runs
