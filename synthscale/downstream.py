"""Downstream classifiers, all behind one preprocessing: categories one-hot over their domain.

One treatment for every classifier keeps their risks comparable; the domain comes from the
schema, so a category absent from a training set still gets its (all-zero) column.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from synthscale.config import Classifier, DownstreamConfig
from synthscale.data.schema import Schema
from synthscale.errors import SynthscaleError, did_you_mean

CLASSIFIERS = get_args(Classifier)


def make_classifier(name: str, config: DownstreamConfig, schema: Schema, fit_seed: int) -> Pipeline:
    """A fresh pipeline: preprocessing, then the classifier; one thread (Ray parallelizes)."""
    if name == "xgboost":
        params = config.xgboost
        model = XGBClassifier(
            n_estimators=params.n_estimators,
            max_depth=params.max_depth,
            learning_rate=params.learning_rate,
            n_jobs=1,
            random_state=fit_seed,
            tree_method="hist",
        )
    elif name == "random_forest":
        params = config.random_forest
        model = RandomForestClassifier(
            n_estimators=params.n_estimators, max_depth=params.max_depth, n_jobs=1, random_state=fit_seed
        )
    elif name == "logistic_regression":
        params = config.logistic_regression
        model = LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=fit_seed)
    else:
        raise SynthscaleError(
            f"unknown classifier '{name}'{did_you_mean(name, CLASSIFIERS)}; "
            f"available: {', '.join(CLASSIFIERS)}"
        )
    return Pipeline(
        [("features", _preprocessor(schema, scale=name == "logistic_regression")), ("model", model)]
    )


def _preprocessor(schema: Schema, scale: bool) -> ColumnTransformer:
    categorical = schema.categorical_names
    numeric = [c.name for c in schema.columns if c.kind != "category"]
    encoder = OneHotEncoder(
        categories=[list(c.categories) for c in schema.columns if c.kind == "category"],
        handle_unknown="ignore",
        sparse_output=False,
    )
    return ColumnTransformer(
        [
            ("categories", encoder, categorical),
            ("numbers", StandardScaler() if scale else "passthrough", numeric),
        ]
    )


def fit_predict(
    pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray, X_test: pd.DataFrame
) -> np.ndarray:
    """Fit with sample weights and return P(y = 1 | x) on the test rows."""
    assert len(np.unique(y)) == 2, "every protocol's training set holds both classes (the seed set does)"
    pipeline.fit(X, y, model__sample_weight=weight)
    return pipeline.predict_proba(X_test)[:, 1]
