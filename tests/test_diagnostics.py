"""Pool diagnostics against hand-computed values and known-good / known-bad pools."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.data import make_craft, prepare_dataset
from synthscale.diagnostics import (
    closest_row_distance,
    correlation_distance,
    detection_auc,
    diagnose,
    exact_copy_rate,
    holdout_privacy,
    marginal_distances,
    metric_safe,
    tstr_balanced_accuracy,
)


@pytest.fixture(scope="module")
def minority_rows():
    dataset = prepare_dataset(
        make_craft(8000, 3), label="Target", spurious="X6", minority=1, spurious_positive=1
    )
    return dataset.features[dataset.y == 1].reset_index(drop=True), dataset.schema


def test_real_against_held_out_real_rows_is_undetectable(minority_rows):
    rows, schema = minority_rows
    first, second = rows.iloc[: len(rows) // 2], rows.iloc[len(rows) // 2 :]
    assert abs(detection_auc(first, second, schema, seed=0) - 0.5) < 0.08


def test_an_obviously_shifted_pool_is_detected(minority_rows):
    rows, schema = minority_rows
    shifted = rows.assign(X1=rows["X1"] + 3.0)
    assert detection_auc(rows, shifted, schema, seed=0) > 0.97


def test_marginal_distances_by_hand(mixed_dataset):
    schema = mixed_dataset.schema
    real = mixed_dataset.features.iloc[:4]  # job a, b, c, a
    synthetic = real.iloc[[0, 0, 3, 2]]  # job a, a, a, c
    distances = marginal_distances(real, synthetic, schema)
    # job: real (a .5, b .25, c .25) vs synthetic (a .75, c .25) -> TV = (.25 + .25 + 0) / 2
    assert distances["job"] == pytest.approx(0.25)
    # age: real {23, 45, 31, 52} vs synthetic {23, 23, 52, 31}: largest CDF gap is at 23 (1/4 vs 2/4)
    assert distances["age"] == pytest.approx(0.25)


def test_exact_copy_rate_by_hand(mixed_dataset):
    real = mixed_dataset.features.iloc[:6]
    synthetic = pd.concat([real.iloc[[1, 4]], mixed_dataset.features.iloc[[8, 9]]], ignore_index=True)
    assert exact_copy_rate(real, synthetic) == pytest.approx(0.5)


def test_correlation_distance_is_zero_for_the_same_rows_and_large_when_dependence_breaks(minority_rows):
    rows, _ = minority_rows
    assert correlation_distance(rows, rows) == 0.0
    rng = np.random.default_rng(0)
    shuffled = rows.apply(lambda column: rng.permutation(column.to_numpy()))
    assert correlation_distance(rows, shuffled) > 0.1


def test_diagnose_skips_detection_when_too_few_rows(minority_rows):
    rows, schema = minority_rows
    result = diagnose(rows.iloc[:5], rows.iloc[5:10], schema, seed=0)
    assert "detection_auc" not in result
    assert set(result) == {
        "marginal_distance",
        "max_marginal_distance",
        "correlation_distance",
        "exact_copy_rate",
        "closest_row_distance",
        *(f"marginal_distance/{c.name}" for c in schema.columns),
    }


def test_closest_row_distance_is_zero_for_copies_and_grows_with_noise(minority_rows):
    rows, schema = minority_rows
    assert closest_row_distance(rows, rows.iloc[:20], schema) == 0.0
    numeric = [c.name for c in schema.columns if c.kind != "category"]
    rng = np.random.default_rng(0)
    noisy = rows.copy()
    noisy[numeric] = noisy[numeric] + rng.normal(0, 5 * rows[numeric].std(), size=noisy[numeric].shape)
    assert closest_row_distance(rows, noisy, schema) > 1.0


def test_tstr_separates_real_classes_only_when_synthetic_classes_differ(craft):
    features, y = craft.features, craft.y
    informative = tstr_balanced_accuracy(features, y, features, y, craft.schema, seed=0)
    shuffled = tstr_balanced_accuracy(
        features, np.random.default_rng(0).permutation(y), features, y, craft.schema, seed=0
    )
    assert informative > 0.9 and abs(shuffled - 0.5) < 0.15
    assert np.isnan(tstr_balanced_accuracy(features, np.zeros(len(y), int), features, y, craft.schema, 0))


def test_per_column_metric_names_are_ones_mlflow_accepts():
    assert metric_safe("capital-gain") == "capital-gain"
    assert metric_safe("a, b(c)=d") == "a_ b_c__d"


def test_copies_of_the_seen_rows_read_as_memorised(minority_rows):
    rows, schema = minority_rows
    seen, held_out = rows.iloc[:300], rows.iloc[300:600]
    copies = pd.concat([seen, seen.sample(100, random_state=1)])  # every seen row, some twice (as ROS)
    privacy = holdout_privacy(copies, seen, held_out, schema, seed=0)
    assert privacy["holdout_dcr_share"] == 1.0 and privacy["membership_auc"] > 0.99


def test_fresh_rows_of_the_same_distribution_sit_as_near_the_held_out_rows(minority_rows):
    rows, schema = minority_rows
    seen, held_out, fresh = rows.iloc[:500], rows.iloc[500:1000], rows.iloc[1000:1500]
    privacy = holdout_privacy(fresh, seen, held_out, schema, seed=0)
    assert abs(privacy["holdout_dcr_share"] - 0.5) < 0.06 and abs(privacy["membership_auc"] - 0.5) < 0.06


def test_privacy_needs_enough_rows_on_each_side(minority_rows):
    rows, schema = minority_rows
    assert holdout_privacy(rows.iloc[:50], rows.iloc[50:59], rows.iloc[60:200], schema, seed=0) == {}
