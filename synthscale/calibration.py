"""Recalibration of a fitted classifier: its probabilities mapped again, so that a risk reads
what the training rows taught it rather than how confident they made it.

Oversampling changes a classifier's prior and confidence as much as what it knows: a plain
shift of the log-odds to a 50/50 prior moves minority CE as far as SMOTE does. Every fit is
therefore also scored after recalibration on held-out real rows (the split's calibration
rows), as a user with a small validation set would recalibrate it. The calibrator's weights
balance the classes, so its prior is 50/50: the risks that weigh classes or groups equally get
a calibrated twin (`experiments.calibrated_risks`); AUC is unchanged by the monotone map.

- `sigmoid`: Platt scaling of the classifier's log-odds, scikit-learn's `CalibratedClassifierCV`
  on the frozen scores, with class-balanced weights, so the calibrated prior is 50/50 like the
  balanced risk.
- `isotonic`: the same with isotonic regression (more rows needed; not strictly monotone).
- `prior_shift`: no rows at all: the log-odds moved by the training set's class-weight ratio.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.utils.class_weight import compute_sample_weight

from synthscale.config import CALIBRATION_WITH_ROWS, Calibration
from synthscale.risks import PROB_CLIP

# The scores are frozen, so the calibrator's folds only split its inputs; two folds are the
# fewest (and need two calibration rows of each class).
CALIBRATION_FOLDS = 2
FROZEN_WEIGHTS_WARNING = "Since FrozenEstimator does not appear to accept sample_weight"


def calibrate_probabilities(
    method: Calibration,
    classifier: ClassifierMixin,
    p_test: np.ndarray,
    train_y: np.ndarray,
    train_weight: np.ndarray,
    X_calibration: pd.DataFrame | None = None,
    y_calibration: np.ndarray | None = None,
) -> np.ndarray | None:
    """The fitted `classifier`'s test probabilities `p_test` after recalibration; None when
    `method` is none. The calibrator is fitted on the classifier's log-odds of the calibration
    rows, so the test rows are not predicted again."""
    if method == "none":
        return None
    if method == "prior_shift":
        return shift_to_balanced_prior(p_test, train_y, train_weight)
    assert method in CALIBRATION_WITH_ROWS, f"unknown calibration {method!r}"
    assert X_calibration is not None and y_calibration is not None, "the config requires calibration rows"
    scores = log_odds(classifier.predict_proba(X_calibration)[:, 1])[:, None]
    calibrator = CalibratedClassifierCV(FrozenEstimator(LogOddsColumn()), method=method, cv=CALIBRATION_FOLDS)
    weights = compute_sample_weight("balanced", y_calibration)
    with warnings.catch_warnings():  # the weights are meant for the calibrator alone: it is frozen
        warnings.filterwarnings("ignore", message=FROZEN_WEIGHTS_WARNING, category=UserWarning)
        calibrator.fit(scores, y_calibration, sample_weight=weights)
    return calibrator.predict_proba(log_odds(p_test)[:, None])[:, 1]


class LogOddsColumn(ClassifierMixin, BaseEstimator):
    """A fitted classifier's log-odds, handed in as the one feature: its decision function.
    scikit-learn's calibrator fits its sigmoid to `decision_function` where there is one, else
    to the probability itself, where Platt's a * f + b cannot undo an overconfident
    classifier's logit / T + b (trees have no `decision_function`)."""

    classes_ = np.array([0, 1])

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogOddsColumn:
        return self  # nothing to learn; frozen by the caller

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X)[:, 0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(np.int64)


def log_odds(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(p, dtype=np.float64), PROB_CLIP, 1.0 - PROB_CLIP))


def shift_to_balanced_prior(p: np.ndarray, train_y: np.ndarray, train_weight: np.ndarray) -> np.ndarray:
    """Move the log-odds by log(W0 / W1), the training weights of each class: a classifier
    fitted on W1 : W0 then predicts as if the classes had been weighted equally."""
    weight_1 = float(train_weight[train_y == 1].sum())
    weight_0 = float(train_weight[train_y == 0].sum())
    return expit(log_odds(p) + np.log(weight_0 / weight_1))
