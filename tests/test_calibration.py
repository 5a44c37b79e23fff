"""Recalibration: a known distortion of a known model's probabilities is undone on held-out
rows, and the data-free prior shift moves the log-odds by the training weights' ratio."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin

from synthscale.calibration import calibrate_probabilities, shift_to_balanced_prior
from synthscale.risks import cross_entropy

TEMPERATURE, BIAS = 0.4, 1.5  # overconfident and biased toward class 1


class DistortedModel(ClassifierMixin, BaseEstimator):
    """The true P(y = 1 | x) = expit(x), reported as expit(x / TEMPERATURE + BIAS)."""

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = expit(np.asarray(X)[:, 0] / TEMPERATURE + BIAS)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


def draw(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """x symmetric about 0, so the classes are balanced; y drawn from the true model."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, n)
    p_true = expit(x)
    return pd.DataFrame({"x": x}), (rng.random(n) < p_true).astype(np.int64), p_true


@pytest.mark.parametrize(("method", "tolerance"), [("sigmoid", 0.01), ("isotonic", 0.02)])
def test_recalibration_recovers_the_undistorted_cross_entropy(method, tolerance):
    model = DistortedModel().fit(None, None)
    X_cal, y_cal, _ = draw(4000, seed=0)
    X_test, y_test, p_true = draw(20000, seed=1)
    p_distorted = model.predict_proba(X_test)[:, 1]
    true_ce, distorted_ce = cross_entropy(y_test, p_true), cross_entropy(y_test, p_distorted)
    assert distorted_ce > true_ce + 0.1  # the distortion costs something to undo
    p_calibrated = calibrate_probabilities(
        method, model, p_distorted, np.array([0, 1]), np.ones(2), X_cal, y_cal
    )
    assert abs(cross_entropy(y_test, p_calibrated) - true_ce) < tolerance


def test_sigmoid_recalibration_is_class_balanced():
    """Calibration rows with 4 times as many of class 0 still give a 50/50 prior: a row the
    model scores at the balanced prior's midpoint comes out near 0.5."""
    model = DistortedModel().fit(None, None)
    X_cal, y_cal, _ = draw(8000, seed=2)
    keep = (y_cal == 0) | (np.random.default_rng(3).random(len(y_cal)) < 0.25)
    X_mid = pd.DataFrame({"x": [0.0]})
    p_mid = calibrate_probabilities(
        "sigmoid", model, model.predict_proba(X_mid)[:, 1], np.array([0, 1]), np.ones(2),
        X_cal[keep], y_cal[keep],
    )  # fmt: skip
    assert p_mid[0] == pytest.approx(0.5, abs=0.03)


def test_the_prior_shift_moves_the_log_odds_by_the_weight_ratio():
    # class 0 weighs 3, class 1 weighs 1: log-odds + ln 3, so 0.5 -> 0.75 and 0.25 -> 0.5
    y, weight = np.array([0, 0, 0, 1]), np.ones(4)
    shifted = shift_to_balanced_prior(np.array([0.5, 0.25]), y, weight)
    assert shifted == pytest.approx([0.75, 0.5])
    # weights count, not rows: one row of class 1 at weight 3 balances three of class 0
    assert shift_to_balanced_prior(np.array([0.3]), y, np.array([1, 1, 1, 3.0])) == pytest.approx([0.3])
    assert logit(shift_to_balanced_prior(np.array([0.1]), np.array([0, 1]), np.array([1.0, 4.0])))[
        0
    ] == pytest.approx(logit(0.1) - math.log(4))


def test_no_calibration_gives_no_probabilities():
    assert calibrate_probabilities("none", None, np.array([0.2]), np.array([0, 1]), np.ones(2)) is None
