"""Risks: clipped cross-entropy, per-class and per-group CE, balanced and worst-group risk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthscale.risks import PROB_CLIP, compute_risks, cross_entropy


def ce_of_one(y: int, p: float) -> float:
    return -math.log(p) if y == 1 else -math.log(1 - p)


def test_cross_entropy_hand_computed():
    expected = (-math.log(0.9) - math.log(0.8)) / 2
    assert cross_entropy(np.array([1, 0]), np.array([0.9, 0.2])) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_accepts_a_single_class():
    assert cross_entropy(np.array([1, 1]), np.array([0.5, 0.25])) == pytest.approx(
        (math.log(2) + math.log(4)) / 2, rel=1e-12
    )


def test_cross_entropy_clips_a_zero_for_a_positive():
    value = cross_entropy(np.array([1]), np.array([0.0]))
    assert math.isfinite(value)
    assert value == pytest.approx(-math.log(PROB_CLIP), rel=1e-9)
    assert value == pytest.approx(16.1181, abs=1e-4)


def test_cross_entropy_clips_a_one_for_a_negative():
    value = cross_entropy(np.array([0, 1]), np.array([1.0, 1.0]))
    # one row at -ln(1e-7), one at -ln(1 - 1e-7) ~ 1e-7
    assert value == pytest.approx((-math.log(PROB_CLIP) + PROB_CLIP) / 2, rel=1e-6)


# y1 rows: p 0.8, 0.4; y0 rows: p 0.1, 0.3, 0.6
IMB_Y = np.array([1, 1, 0, 0, 0])
IMB_P = np.array([0.8, 0.4, 0.1, 0.3, 0.6])


def test_imbalance_risks_hand_computed():
    risks = compute_risks(IMB_Y, IMB_P, "imbalance")
    ce_y1 = (-math.log(0.8) - math.log(0.4)) / 2  # 0.5697
    ce_y0 = (-math.log(0.9) - math.log(0.7) - math.log(0.4)) / 3  # 0.4594
    overall = (2 * ce_y1 + 3 * ce_y0) / 5
    assert risks["ce_y1"] == pytest.approx(ce_y1, rel=1e-12)
    assert risks["ce_y0"] == pytest.approx(ce_y0, rel=1e-12)
    assert risks["overall_ce"] == pytest.approx(overall, rel=1e-12)
    assert risks["minority_ce"] == pytest.approx(ce_y1, rel=1e-12)
    assert risks["balanced_ce"] == pytest.approx((ce_y1 + ce_y0) / 2, rel=1e-12)
    assert risks["worst_group_ce"] == pytest.approx(ce_y1, rel=1e-12)
    # predictions at p >= 0.5: [1, 0, 0, 0, 1]; recall y1 = 1/2, recall y0 = 2/3
    assert risks["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 3) / 2, rel=1e-12)
    # minority class: 1 true positive, 1 false positive, 1 false negative: precision = recall = 1/2
    assert risks["minority_f1"] == pytest.approx(0.5, rel=1e-12)
    assert set(risks) == {
        "overall_ce",
        "ce_y0",
        "ce_y1",
        "minority_ce",
        "balanced_ce",
        "worst_group_ce",
        "balanced_accuracy",
        "minority_f1",
        "auc",
        "brier",
    }


def test_imbalance_worst_group_is_the_majority_when_it_is_worse():
    y = np.array([1, 0, 0])
    p = np.array([0.9, 0.5, 0.8])
    risks = compute_risks(y, p, "imbalance")
    ce_y0 = (math.log(2) - math.log(0.2)) / 2
    assert risks["worst_group_ce"] == pytest.approx(ce_y0, rel=1e-12)
    assert risks["minority_ce"] == pytest.approx(-math.log(0.9), rel=1e-12)


# Two rows per (a, y) group, in the order a1_y1, a0_y0, a1_y0, a0_y1.
SP_Y = np.array([1, 1, 0, 0, 0, 0, 1, 1])
SP_A = np.array([1, 1, 0, 0, 1, 1, 0, 0])
SP_P = np.array([0.9, 0.7, 0.2, 0.4, 0.6, 0.3, 0.5, 0.1])


def group_ce(rows: list[int]) -> float:
    return sum(ce_of_one(int(SP_Y[i]), float(SP_P[i])) for i in rows) / len(rows)


def test_spurious_risks_hand_computed():
    risks = compute_risks(SP_Y, SP_P, "spurious", a=SP_A)
    a1_y1 = (-math.log(0.9) - math.log(0.7)) / 2
    a0_y0 = (-math.log(0.8) - math.log(0.6)) / 2
    a1_y0 = (-math.log(0.4) - math.log(0.7)) / 2
    a0_y1 = (-math.log(0.5) - math.log(0.1)) / 2
    assert risks["ce_a1_y1"] == pytest.approx(a1_y1, rel=1e-12)
    assert risks["ce_a0_y0"] == pytest.approx(a0_y0, rel=1e-12)
    assert risks["ce_a1_y0"] == pytest.approx(a1_y0, rel=1e-12)
    assert risks["ce_a0_y1"] == pytest.approx(a0_y1, rel=1e-12)
    # the agree groups are pooled row by row (here equal sizes, so the mean of the two)
    assert risks["minority_ce"] == pytest.approx((a1_y1 + a0_y0) / 2, rel=1e-12)
    assert risks["balanced_ce"] == pytest.approx((a1_y1 + a0_y0 + a1_y0 + a0_y1) / 4, rel=1e-12)
    assert risks["worst_group_ce"] == pytest.approx(a0_y1, rel=1e-12)
    # the class risks are still reported
    assert risks["ce_y1"] == pytest.approx(group_ce([0, 1, 6, 7]), rel=1e-12)
    assert risks["ce_y0"] == pytest.approx(group_ce([2, 3, 4, 5]), rel=1e-12)
    # predictions: [1, 1, 0, 0, 1, 0, 1, 0]; recall y1 = 3/4, recall y0 = 3/4
    assert risks["balanced_accuracy"] == pytest.approx(0.75, rel=1e-12)


def test_spurious_minority_ce_pools_unequal_agree_groups_by_row():
    # a1_y1 has three rows, a0_y0 one; pooling weighs rows, not groups
    y = np.array([1, 1, 1, 0, 0, 1])
    a = np.array([1, 1, 1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.5, 0.4, 0.3, 0.6])
    risks = compute_risks(y, p, "spurious", a=a)
    agree_rows = [-math.log(0.9), -math.log(0.8), -math.log(0.5), -math.log(0.6)]
    assert risks["minority_ce"] == pytest.approx(sum(agree_rows) / 4, rel=1e-12)
    a1_y1 = sum(agree_rows[:3]) / 3
    a0_y0 = -math.log(0.6)
    a1_y0 = -math.log(0.7)
    a0_y1 = -math.log(0.6)
    assert risks["balanced_ce"] == pytest.approx((a1_y1 + a0_y0 + a1_y0 + a0_y1) / 4, rel=1e-12)
    assert risks["worst_group_ce"] == pytest.approx(max(a1_y1, a0_y0, a1_y0, a0_y1), rel=1e-12)


def test_no_nan_or_inf_with_hard_zero_and_one_predictions():
    p = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.5, 1.0])
    risks = compute_risks(SP_Y, p, "spurious", a=SP_A)
    assert all(math.isfinite(value) for value in risks.values()), risks
    # a0_y1 gets p = 0.5 and p = 1.0: (ln 2 + ~0) / 2
    assert risks["ce_a0_y1"] == pytest.approx(math.log(2) / 2, abs=1e-6)
    # a1_y1 gets p = 0 and p = 1: (-ln 1e-7 + ~0) / 2
    assert risks["ce_a1_y1"] == pytest.approx(-math.log(PROB_CLIP) / 2, rel=1e-6)
    assert risks["worst_group_ce"] == pytest.approx(-math.log(PROB_CLIP) / 2, rel=1e-6)
    imbalance = compute_risks(SP_Y, p, "imbalance")
    assert all(math.isfinite(value) for value in imbalance.values()), imbalance


def test_auc_and_brier_against_hand_computed_values():
    from synthscale.risks import discrimination

    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.8])
    a = np.array([0, 1, 0, 1])
    metrics = discrimination(y, p, a)
    # pairs (positive, negative): (0.4, 0.1) right, (0.4, 0.6) wrong, (0.8, 0.1) right, (0.8, 0.6) right
    assert metrics["auc"] == pytest.approx(3 / 4)
    assert metrics["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.04) / 4)
    assert metrics["auc_a0"] == pytest.approx(1.0)  # a=0: negative 0.1, positive 0.4
    assert metrics["auc_a1"] == pytest.approx(1.0)  # a=1: negative 0.6, positive 0.8


def test_auc_within_an_attribute_value_with_one_label_is_left_out():
    from synthscale.risks import discrimination

    metrics = discrimination(np.array([0, 1, 1]), np.array([0.2, 0.7, 0.9]), np.array([0, 1, 1]))
    assert set(metrics) == {"auc", "brier"}
