"""The craft generator, table validation and encoding, file loading, and the adult loaders."""

from __future__ import annotations

import re
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthscale.config import DatasetConfig
from synthscale.data import load_dataset, make_craft, prepare_dataset
from synthscale.errors import SynthscaleError

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # as in conftest.py
CONTINUOUS = ["X1", "X2", "X3", "X4", "X5", "X7", "X8", "X9"]
MIXED_Y = [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0]  # income == 'high' (4 of 12 rows)


@pytest.fixture(scope="module")
def craft_8000() -> pd.DataFrame:
    return make_craft(8000, craft_seed=0)


def path_config(path, **fields) -> DatasetConfig:
    return DatasetConfig(name=None, path=str(path), **fields)


# --- make_craft ----------------------------------------------------------------------------


def test_craft_shape_and_columns(craft_8000):
    assert craft_8000.shape == (8000, 10)
    assert list(craft_8000.columns) == ["X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8", "X9", "Target"]


def test_craft_continuous_columns_have_at_most_one_decimal(craft_8000):
    for name in CONTINUOUS:
        tenths = craft_8000[name].to_numpy() * 10
        np.testing.assert_allclose(tenths, np.round(tenths), atol=1e-9, err_msg=name)


def test_craft_x6_is_plus_minus_one(craft_8000):
    assert set(craft_8000["X6"].unique().tolist()) == {-1, 1}
    assert craft_8000["X6"].dtype == np.int64


def test_craft_target_is_a_median_split(craft_8000):
    assert craft_8000["Target"].value_counts().to_dict() == {0: 4000, 1: 4000}


def test_craft_x9_tracks_the_product_of_x1_and_x2(craft_8000):
    product = craft_8000["X1"] * craft_8000["X2"]
    assert np.corrcoef(craft_8000["X9"], product)[0, 1] > 0.95
    # X9 is the rounded product of the unrounded values, so it never strays far from it
    assert (craft_8000["X9"] - product).abs().max() < 1.0


def test_craft_same_seed_same_table():
    pd.testing.assert_frame_equal(make_craft(500, craft_seed=3), make_craft(500, craft_seed=3))


def test_craft_different_seed_different_table():
    assert not make_craft(500, craft_seed=3).equals(make_craft(500, craft_seed=4))


# --- prepare_dataset -----------------------------------------------------------------------


def test_minority_defaults_to_the_rarer_value(mixed_table):
    dataset = prepare_dataset(mixed_table, label="income")
    assert dataset.schema.minority_value == "high"
    assert dataset.schema.majority_value == "low"
    assert dataset.y.tolist() == MIXED_Y


def test_explicit_minority_is_encoded_as_one(mixed_table):
    dataset = prepare_dataset(mixed_table, label="income", minority="low")
    assert dataset.y.tolist() == [1 - v for v in MIXED_Y]
    assert dataset.schema.minority_value == "low"


def test_minority_from_yaml_int_matches_an_int_column(craft_table):
    dataset = prepare_dataset(craft_table, label="Target", minority=0)
    assert dataset.y.tolist() == (craft_table["Target"] == 0).astype(int).tolist()


def test_spurious_positive_is_encoded_as_one(mixed_table):
    dataset = prepare_dataset(mixed_table, label="income", spurious="sex", spurious_positive="F")
    assert dataset.a.tolist() == [1, 0] * 6
    assert dataset.schema.spurious_values == ("M", "F")


def test_spurious_positive_defaults_to_the_larger_sorted_value(mixed_table):
    dataset = prepare_dataset(mixed_table, label="income", spurious="sex")
    assert dataset.schema.spurious_values == ("F", "M")
    assert dataset.a.tolist() == [0, 1] * 6


def test_balanced_label_without_minority_fails(craft_table):
    with pytest.raises(
        SynthscaleError,
        match=re.escape(
            "dataset.minority: label 'Target' is balanced (200 rows each); set dataset.minority to 0 or 1"
        ),
    ):
        prepare_dataset(craft_table, label="Target")


def test_minority_not_in_the_column_fails(mixed_table):
    with pytest.raises(SynthscaleError, match=r"dataset\.minority: 'mid' is not a value of column 'income'"):
        prepare_dataset(mixed_table, label="income", minority="mid")


def test_missing_label_column_suggests_the_close_match(mixed_table):
    with pytest.raises(
        SynthscaleError,
        match=re.escape("dataset.label: column 'incme' not in the table; did you mean 'income'?"),
    ):
        prepare_dataset(mixed_table, label="incme")


def test_missing_spurious_column_fails(mixed_table):
    with pytest.raises(
        SynthscaleError, match=re.escape("dataset.spurious: column 'gender' not in the table")
    ):
        prepare_dataset(mixed_table, label="income", spurious="gender")


def test_spurious_equal_to_label_fails(mixed_table):
    with pytest.raises(SynthscaleError, match="dataset.spurious: 'income' is the label column itself"):
        prepare_dataset(mixed_table, label="income", spurious="income")


def test_label_with_three_values_fails(mixed_table):
    mixed_table.loc[0, "income"] = "mid"
    with pytest.raises(
        SynthscaleError,
        match=re.escape(
            "dataset.label: column 'income' has 3 distinct values ('high', 'low', 'mid'); it must be binary"
        ),
    ):
        prepare_dataset(mixed_table, label="income")


def test_spurious_with_three_values_fails(mixed_table):
    mixed_table.loc[0, "sex"] = "X"
    with pytest.raises(
        SynthscaleError,
        match=re.escape(
            "dataset.spurious: column 'sex' has 3 distinct values ('F', 'M', 'X'); it must be binary"
        ),
    ):
        prepare_dataset(mixed_table, label="income", spurious="sex")


def test_missing_values_are_dropped_and_counted(mixed_table):
    mixed_table.loc[1, "score"] = np.nan
    mixed_table.loc[5, "job"] = None
    dataset = prepare_dataset(mixed_table, label="income")
    assert dataset.n_dropped_missing == 2
    assert len(dataset.features) == 10
    expected_y = [v for i, v in enumerate(MIXED_Y) if i not in (1, 5)]
    assert dataset.y.tolist() == expected_y
    assert dataset.features.index.tolist() == list(range(10))


def test_missing_values_with_error_policy_name_the_column(mixed_table):
    mixed_table.loc[1, "score"] = np.nan
    with pytest.raises(
        SynthscaleError,
        match=re.escape(
            "1 of 12 rows have missing values (per column: 'score' (1)); clean the table, or set "
            "dataset.missing=drop (keeps 11 rows)"
        ),
    ):
        prepare_dataset(mixed_table, label="income", missing="error")


def test_complete_table_drops_nothing(mixed_dataset):
    assert mixed_dataset.n_dropped_missing == 0
    assert len(mixed_dataset.features) == 12


def test_categories_carry_their_full_domain(mixed_dataset):
    job = mixed_dataset.features["job"]
    assert isinstance(job.dtype, pd.CategoricalDtype)
    assert list(job.cat.categories) == ["a", "b", "c"]
    columns = {c.name: c for c in mixed_dataset.schema.columns}
    assert columns["job"].kind == "category"
    assert columns["job"].categories == ("a", "b", "c")
    assert columns["sex"].categories == ("F", "M")
    assert mixed_dataset.schema.categorical_names == ["job", "sex"]


def test_integer_and_float_dtypes_are_kept(mixed_table):
    mixed_table["age"] = mixed_table["age"].astype(np.int32)
    dataset = prepare_dataset(mixed_table, label="income")
    assert dataset.features["age"].dtype == np.int64
    assert dataset.features["score"].dtype == np.float64
    assert dataset.schema.integer_names == ["age"]
    assert dataset.features["age"].tolist() == mixed_table["age"].tolist()


def test_label_is_not_a_feature_but_spurious_is(mixed_dataset):
    assert mixed_dataset.schema.feature_names == ["age", "score", "job", "sex"]
    assert mixed_dataset.schema.label == "income"


def test_prepare_dataset_does_not_modify_its_input(mixed_table):
    mixed_table.loc[2, "score"] = np.nan
    before = mixed_table.copy()
    prepare_dataset(mixed_table, label="income", spurious="sex")
    pd.testing.assert_frame_equal(mixed_table, before)


def test_data_hash_depends_on_the_values(mixed_table):
    first = prepare_dataset(mixed_table, label="income").data_hash
    assert prepare_dataset(mixed_table.copy(), label="income").data_hash == first
    mixed_table.loc[0, "age"] = 24
    assert prepare_dataset(mixed_table, label="income").data_hash != first


# --- load_dataset --------------------------------------------------------------------------


def test_load_builtin_craft_uses_its_defaults():
    dataset = load_dataset(DatasetConfig(name="craft", craft_rows=300, craft_seed=2))
    table = make_craft(300, 2)
    assert dataset.name == "craft"
    assert dataset.y.tolist() == table["Target"].tolist()
    assert dataset.a.tolist() == (table["X6"] == 1).astype(int).tolist()
    assert dataset.schema.spurious == "X6"


def test_load_csv_path(tmp_path, mixed_table):
    mixed_table.loc[3, "job"] = "?"
    path = tmp_path / "people.csv"
    mixed_table.to_csv(path, index=False)
    dataset = load_dataset(path_config(path, label="income", spurious="sex", spurious_positive="M"))
    assert dataset.name == "people"
    assert dataset.n_dropped_missing == 1  # '?' is a missing value by default
    assert dataset.y.tolist() == [v for i, v in enumerate(MIXED_Y) if i != 3]
    assert dataset.a.tolist() == [v for i, v in enumerate([0, 1] * 6) if i != 3]
    assert dataset.features["age"].dtype == np.int64
    assert dataset.features["score"].dtype == np.float64
    assert list(dataset.features["job"].cat.categories) == ["a", "b", "c"]


def test_load_parquet_path(tmp_path, mixed_table):
    path = tmp_path / "people.parquet"
    mixed_table.to_parquet(path)
    dataset = load_dataset(path_config(path, label="income", minority="low"))
    assert dataset.name == "people"
    assert dataset.y.tolist() == [1 - v for v in MIXED_Y]
    assert dataset.features["age"].dtype == np.int64
    assert isinstance(dataset.features["sex"].dtype, pd.CategoricalDtype)
    assert dataset.a is None


def test_file_not_found(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(
        SynthscaleError, match=re.escape(f"dataset.path: {str(missing)!r} not found; pass a CSV")
    ):
        load_dataset(path_config(missing, label="income"))


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_text("age,income\n1,a\n")
    with pytest.raises(
        SynthscaleError, match=re.escape("dataset.path: people.xlsx is neither .csv nor .parquet")
    ):
        load_dataset(path_config(path, label="income"))


def test_path_dataset_without_label_says_to_set_it(tmp_path, mixed_table):
    path = tmp_path / "people.csv"
    mixed_table.to_csv(path, index=False)
    with pytest.raises(
        SynthscaleError,
        match=re.escape(
            "dataset.label: not set for people.csv; name its binary label column, e.g. --set dataset.label="
        ),
    ):
        load_dataset(path_config(path))


def test_adult_csv_from_shared_data():
    path = SHARED_DATA / "adult.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    dataset = load_dataset(path_config(path, label="income", spurious="sex"))
    assert len(dataset.y) + dataset.n_dropped_missing == 32561
    assert dataset.n_dropped_missing > 0  # '?' marks missing workclass, occupation, country
    assert dataset.schema.minority_value == ">50K"
    assert dataset.schema.majority_value == "<=50K"
    assert dataset.schema.spurious_values == ("Female", "Male")
    assert 0.2 < dataset.y.mean() < 0.3  # README: about 24 % earn >50K
    assert "?" not in dataset.features["workclass"].cat.categories
    assert dataset.features["age"].dtype == np.int64


def test_adult_openml_offline_says_to_pass_the_file(monkeypatch, tmp_path):
    import sklearn.datasets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    with pytest.raises(
        SynthscaleError,
        match=r"dataset\.name=adult: could not fetch it from OpenML .*Pass the file instead: "
        r"--set dataset\.path=PATH/adult\.csv",
    ):
        load_dataset(DatasetConfig(name="adult", cache_dir=str(tmp_path)))


def test_integer_column_with_a_missing_value_is_int64_after_the_drop():
    table = pd.DataFrame({"age": [23, None, 31, 40], "score": [0.5, 1.5, 2.5, 3.5], "y": [0, 1, 1, 0]})
    dataset = prepare_dataset(table, label="y", minority=1)
    assert dataset.features["age"].dtype == np.int64
    assert dataset.features["age"].tolist() == [23, 31, 40]
    assert dataset.features["score"].dtype == np.float64
    assert [c.kind for c in dataset.schema.columns] == ["int", "float"]


def test_spurious_false_drops_a_built_in_attribute():
    from synthscale.config import load_config

    config = load_config(
        None, ["dataset.craft_rows=500", "dataset.spurious=false", "experiment.tasks=[imbalance]"]
    )
    dataset = load_dataset(config.dataset)
    assert dataset.a is None and dataset.schema.spurious is None
    assert "X6" in dataset.features.columns  # still a feature, no longer the attribute
    default = load_dataset(load_config(None, ["dataset.craft_rows=500"]).dataset)
    assert default.schema.spurious == "X6"
