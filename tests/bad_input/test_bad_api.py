"""Bad input, Python API surface: what a notebook passes to LLMOverSampler, the samplers and
the fitter. Each is refused with one SynthscaleError in the API's own words (arguments, not
YAML keys), before any model is trained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale import LLMOverSampler
from synthscale.errors import SynthscaleError
from synthscale.fit import fit_results
from synthscale.samplers.base import as_target


@pytest.fixture
def imbalanced() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.integers(20, 60, 60), "score": rng.normal(size=60)})
    return X, np.array([1] * 12 + [0] * 48)


def test_missing_values_in_x_name_the_column_and_an_imputer_not_a_yaml_key(imbalanced):
    X, y = imbalanced
    X.loc[[3, 7], "score"] = np.nan
    with pytest.raises(SynthscaleError) as caught:
        LLMOverSampler().fit_resample(X, y)
    message = str(caught.value)
    assert message.startswith("LLMOverSampler: X has missing values (2 in column 'score', 2 rows in all)")
    assert "SimpleImputer" in message and "dataset." not in message


@pytest.mark.parametrize(
    ("llm", "message"),
    [
        ({"max_step": 5}, r"LLMOverSampler\(llm=\.\.\.\): unknown key 'max_step'; did you mean 'max_steps'"),
        ({"max_steps": 0}, r"LLMOverSampler\(llm=\.\.\.\): max_steps: Input should be greater than 0"),
    ],
)
def test_bad_llm_settings_are_named_as_the_argument(imbalanced, llm, message):
    X, y = imbalanced
    with pytest.raises(SynthscaleError, match=message):
        LLMOverSampler(llm=llm).fit_resample(X, y)


def test_a_target_key_that_names_nothing_lists_the_valid_ones():
    with pytest.raises(SynthscaleError, match=r"target 'y_1' names no class or group; use one of 'y0', 'y1'"):
        as_target("y_1")


def test_a_nan_loss_is_printed_as_a_number(imbalanced):
    results = pd.DataFrame(
        {
            "experiment": "augment", "task": "imbalance", "dataset": "d", "method": "llm_aug",
            "classifier": "xgboost", "seed": 0, "n_aug": [0, 10, 20], "minority_ce": [0.5, np.nan, 0.3],
        }
    )  # fmt: skip
    with pytest.raises(SynthscaleError) as caught:
        fit_results(results, "minority_ce")
    assert "(e.g. nan); a loss must be > 0" in str(caught.value) and "np.float64" not in str(caught.value)


def test_an_object_array_keeps_its_float_column_numeric():
    """A float column beside a string one came back as strings, handled as a category."""
    rng = np.random.default_rng(0)
    X = np.empty((60, 2), dtype=object)
    X[:, 0] = rng.normal(size=60)
    X[:, 1] = ["a" if v else "b" for v in rng.integers(0, 2, 60)]
    y = np.array([1] * 12 + [0] * 48)
    sampler = LLMOverSampler(llm={"max_steps": 3})
    resampled, _ = sampler.fit_resample(X, y)
    assert resampled.dtype == object and len(resampled) == 96
    assert all(isinstance(v, float) for v in resampled[60:, 0])
    assert [c.kind for c in sampler.sampler_._schema.columns] == ["float", "category"]


@pytest.mark.parametrize(
    ("y", "strategy", "message"),
    [
        (np.zeros(60, dtype=int), "auto", "LLMOverSampler: The target 'y' needs to have more than 1 class"),
        (None, 0.1, "LLMOverSampler: The specified ratio required to remove samples"),
        (None, {5: 10}, r"LLMOverSampler: The \{5\} target class is/are not present"),
    ],
)
def test_imblearn_s_own_checks_speak_in_the_sampler_s_name(imbalanced, y, strategy, message):
    X, default_y = imbalanced
    with pytest.raises(SynthscaleError, match=message) as caught:
        LLMOverSampler(sampling_strategy=strategy).fit_resample(X, default_y if y is None else y)
    assert isinstance(caught.value, ValueError)  # scikit-learn's contract holds too


def test_x_without_columns_is_named_as_x(imbalanced):
    X, y = imbalanced
    with pytest.raises(SynthscaleError, match="LLMOverSampler: X has no columns; pass at least one feature"):
        LLMOverSampler().fit_resample(X[[]], y)
