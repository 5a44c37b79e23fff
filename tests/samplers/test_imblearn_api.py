"""LLMOverSampler: imbalanced-learn's sampler API over the LLM generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import estimator_checks_generator
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

from synthscale import LLMOverSampler
from synthscale.errors import SynthscaleError

TINY_LLM = {"max_steps": 5, "tiny_layers": 1, "tiny_width": 32, "tiny_heads": 2}


@pytest.fixture
def small_llm(tmp_path) -> dict:
    return dict(max_steps=15, tiny_layers=1, tiny_width=32, tiny_heads=2, cache_dir=str(tmp_path / "models"))


@pytest.fixture
def imbalanced(mixed_table):
    """The hand-typed table stacked 5 times: 40 'low' and 20 'high' rows, mixed dtypes."""
    table = pd.concat([mixed_table] * 5, ignore_index=True)
    return table.drop(columns="income"), table["income"].to_numpy()


def test_fit_resample_balances_and_keeps_columns_and_dtypes(imbalanced, small_llm):
    X, y = imbalanced
    X_res, y_res = LLMOverSampler(llm=small_llm, random_state=0).fit_resample(X, y)
    assert dict(zip(*np.unique(y_res, return_counts=True), strict=True)) == {"high": 40, "low": 40}
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)  # the real rows first, untouched
    assert X_res.dtypes.to_dict() == X.dtypes.to_dict()
    new = X_res.iloc[len(X) :]
    assert new["job"].isin(["a", "b", "c"]).all() and new["sex"].isin(["F", "M"]).all()
    assert new["age"].between(X["age"].min(), X["age"].max()).all()


def test_sampling_strategy_as_imblearn_reads_it(imbalanced, small_llm):
    X, y = imbalanced
    _, y_res = LLMOverSampler(sampling_strategy={"high": 31}, llm=small_llm).fit_resample(X, y)
    assert (y_res == "high").sum() == 31 and (y_res == "low").sum() == 40


def test_inside_an_imblearn_pipeline(imbalanced, small_llm):
    X, y = imbalanced
    encode = make_column_transformer((OneHotEncoder(), ["job", "sex"]), remainder="passthrough")
    pipeline = Pipeline(
        [
            ("oversample", LLMOverSampler(llm=small_llm, random_state=0)),
            ("encode", encode),
            ("classify", LogisticRegression(max_iter=500)),
        ]
    ).fit(X, y)
    resampled = pipeline.named_steps["oversample"].sampler_.target_report("y1")
    assert resampled["rows_generated"] == 20 and resampled["validity"] == 1.0
    assert pipeline.predict_proba(X).shape == (len(X), 2)


def test_more_than_two_classes_each_get_rows_from_their_own_generator(imbalanced, small_llm):
    X, y = imbalanced
    y = np.where(np.arange(len(y)) % 4 == 0, "mid", y)  # low 30, high 15, mid 15
    sampler = LLMOverSampler(llm=small_llm, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    counts = dict(zip(*np.unique(y, return_counts=True), strict=True))
    assert dict(zip(*np.unique(y_res, return_counts=True), strict=True)) == dict.fromkeys(
        counts, max(counts.values())
    )
    assert sorted(sampler.samplers_) == sorted(k for k, n in counts.items() if n < max(counts.values()))
    # each model was trained on its class against the rest, so it writes rows of that class
    for label, model in sampler.samplers_.items():
        assert str(model._schema.minority_value) == label and model._schema.majority_value == "<other>"
    new = X_res.iloc[len(X) :]
    assert new["job"].isin(["a", "b", "c"]).all() and new["sex"].isin(["F", "M"]).all()


def test_a_balanced_y_comes_back_as_it_is(imbalanced, small_llm):
    X, y = imbalanced
    X, y = X.iloc[:40], np.array(["low", "high"] * 20)
    X_res, y_res = LLMOverSampler(llm=small_llm).fit_resample(X, y)
    pd.testing.assert_frame_equal(X_res, X.reset_index(drop=True))
    assert (y_res == y).all()


def test_a_sparse_matrix_is_refused_with_the_fix(small_llm):
    from scipy import sparse

    X = sparse.random(30, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="X is a sparse matrix; .* pass X.toarray\\(\\) or a DataFrame"):
        LLMOverSampler(llm=small_llm).fit_resample(X, np.array([0] * 20 + [1] * 10))


CHECKS = list(estimator_checks_generator(LLMOverSampler(llm=TINY_LLM)))


@pytest.mark.parametrize(
    "check", [c for _, c in CHECKS], ids=[getattr(c, "func", c).__name__ for _, c in CHECKS]
)
def test_imbalanced_learns_own_estimator_checks(check, tmp_path):
    """Every check imbalanced-learn runs on its own samplers (the sparse one is skipped by the
    tag input_tags.sparse = False: rows are written as text)."""
    check(LLMOverSampler(llm={**TINY_LLM, "cache_dir": str(tmp_path / "models")}))


def test_feature_named_like_the_label_is_refused(imbalanced, small_llm):
    X, y = imbalanced
    with pytest.raises(SynthscaleError, match=r"a feature is named 'job'; pass label_name="):
        LLMOverSampler(llm=small_llm, label_name="job").fit_resample(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_an_array_comes_back_as_an_array_of_its_dtype(small_llm, dtype):
    """As imblearn's own samplers do (was: a DataFrame with string column names, ints as floats)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(18, 70, 60), rng.integers(0, 3, 60)]).astype(dtype)
    y = np.array([0] * 45 + [1] * 15)
    X_res, y_res = LLMOverSampler(llm=small_llm, random_state=0).fit_resample(X, y)
    assert isinstance(X_res, np.ndarray) and X_res.dtype == dtype and X_res.shape == (90, 2)
    np.testing.assert_array_equal(X_res[:60], X)
    assert np.bincount(y_res).tolist() == [45, 45]
