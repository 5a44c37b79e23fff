"""Recalibration of a fitted classifier: its probabilities mapped again, so that a risk reads
what the training rows taught it rather than how confident they made it.

Oversampling changes a classifier's prior and confidence as much as what it knows: a plain
shift of the log-odds to a 50/50 prior moves minority CE as far as SMOTE does. Every fit is
therefore also scored after recalibration on held-out real rows (the split's calibration
rows), as a user with a small validation set would recalibrate it; AUC is unchanged by the
sigmoid map (monotone), so only the CE and Brier risks get a calibrated twin.

- `sigmoid`: Platt scaling, scikit-learn's `CalibratedClassifierCV` on the frozen classifier,
  with class-balanced weights, so the calibrated prior is 50/50 like the balanced risk.
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
from sklearn.pipeline import Pipeline
from sklearn.utils.class_weight import compute_sample_weight

from synthscale.config import CALIBRATION_WITH_ROWS, Calibration
from synthscale.risks import PROB_CLIP

# The classifier is frozen, so the calibrator's folds only split its predictions; two folds
# are the fewest predict calls (and need two calibration rows of each class).
CALIBRATION_FOLDS = 2
FROZEN_WEIGHTS_WARNING = "Since FrozenEstimator does not appear to accept sample_weight"


def calibrate_probabilities(
    method: Calibration,
    pipeline: Pipeline,
    X_test: pd.DataFrame,
    p_test: np.ndarray,
    train_y: np.ndarray,
    train_weight: np.ndarray,
    X_calibration: pd.DataFrame | None = None,
    y_calibration: np.ndarray | None = None,
) -> np.ndarray | None:
    """P(y = 1 | x) on the test rows after recalibration of the fitted `pipeline`; None when
    `method` is none."""
    if method == "none":
        return None
    if method == "prior_shift":
        return shift_to_balanced_prior(p_test, train_y, train_weight)
    assert method in CALIBRATION_WITH_ROWS, f"unknown calibration {method!r}"
    assert X_calibration is not None and y_calibration is not None, "the config requires calibration rows"
    scorer = FrozenEstimator(LogOdds(pipeline))
    calibrator = CalibratedClassifierCV(scorer, method=method, cv=CALIBRATION_FOLDS)
    weights = compute_sample_weight("balanced", y_calibration)
    with warnings.catch_warnings():  # the weights are meant for the calibrator alone: it is frozen
        warnings.filterwarnings("ignore", message=FROZEN_WEIGHTS_WARNING, category=UserWarning)
        calibrator.fit(X_calibration, y_calibration, sample_weight=weights)
    return calibrator.predict_proba(X_test)[:, 1]


class LogOdds(ClassifierMixin, BaseEstimator):
    """A fitted classifier seen through its log-odds. scikit-learn's calibrator fits its sigmoid
    to `decision_function` where there is one, else to the probability itself, where Platt's
    a * f + b cannot undo an overconfident classifier's logit / T + b; trees have no
    `decision_function`, so it is the log-odds of their probability."""

    def __init__(self, fitted: Pipeline) -> None:
        self.fitted = fitted

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> LogOdds:
        return self  # wraps a fitted classifier; frozen by the caller

    def __sklearn_is_fitted__(self) -> bool:
        return True

    @property
    def classes_(self) -> np.ndarray:
        return self.fitted.classes_

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        p = np.clip(self.fitted.predict_proba(X)[:, 1], PROB_CLIP, 1.0 - PROB_CLIP)
        return logit(p)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.fitted.predict_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.fitted.predict(X)


def shift_to_balanced_prior(p: np.ndarray, train_y: np.ndarray, train_weight: np.ndarray) -> np.ndarray:
    """Move the log-odds by log(W0 / W1), the training weights of each class: a classifier
    fitted on W1 : W0 then predicts as if the classes had been weighted equally."""
    weight_1 = float(train_weight[train_y == 1].sum())
    weight_0 = float(train_weight[train_y == 0].sum())
    clipped = np.clip(np.asarray(p, dtype=np.float64), PROB_CLIP, 1.0 - PROB_CLIP)
    return expit(logit(clipped) + np.log(weight_0 / weight_1))
