"""The contract every registered sampler keeps, checked the same way for each of them.

Each sampler is fitted on a seed set (the rows a generator sees by default) of a numeric table
(craft) and of a mixed table with categories (an adult subsample), once with class targets
(task imbalance) and once with (attribute, label) group targets (task spurious).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthscale.config import GeneratorConfig, LLMConfig, PeersConfig, SplitConfig
from synthscale.data import make_craft, prepare_dataset
from synthscale.data.reading import read_table
from synthscale.data.schema import Dataset
from synthscale.errors import SynthscaleError
from synthscale.samplers import make_sampler, sampler_names
from synthscale.splits import make_split, row_targets
from synthscale.targets import TASK_TARGETS

ADULT_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "adult.csv"
ADULT_ROWS = 3000
SEED_SIZE = 80  # 20 rows per group, 40 per class: enough neighbours for smote and adasyn
SAMPLE_SIZES = (0, 1, 37, 250)
# a family is checked through one member; great (GReaT) writes readable rows only after a few
# hundred steps, too slow to train for each of the ~30 cases here: test_great.py checks its rows,
# dtypes, seeds and groups on one trained model per task
SAMPLERS = [
    f"{name}.ProWSyn" if name == "smote_variants" else name for name in sampler_names() if name != "great"
]
DATASETS = ("craft", "adult")
TASKS = ("imbalance", "spurious")


@pytest.fixture(scope="module")
def craft_dataset() -> Dataset:
    return prepare_dataset(
        make_craft(n_rows=400, craft_seed=7), label="Target", spurious="X6", minority=1, spurious_positive=1
    )


@pytest.fixture(scope="module")
def adult_dataset() -> Dataset:
    if not ADULT_CSV.is_file():
        pytest.skip(f"{ADULT_CSV} not present")
    table = read_table(ADULT_CSV, ["?"]).sample(n=ADULT_ROWS, random_state=0).reset_index(drop=True)
    return prepare_dataset(table, label="income", spurious="sex", spurious_positive="Male", name="adult")


@pytest.fixture(scope="module")
def generator_config(tmp_path_factory) -> GeneratorConfig:
    """Defaults, but a small, briefly trained LLM and briefly trained peers: the contract is
    about the interface."""
    llm = LLMConfig(
        max_steps=20,
        tiny_layers=1,
        tiny_width=32,
        tiny_heads=2,
        cache_dir=str(tmp_path_factory.mktemp("llm")),
    )
    return GeneratorConfig(llm=llm, peers=PeersConfig(epochs=25, batch_size=20))


@pytest.fixture
def dataset(request, craft_dataset, adult_dataset) -> Dataset:
    return {"craft": craft_dataset, "adult": adult_dataset}[request.param]


def seed_rows(dataset: Dataset, task: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The seed set's features and their target keys for `task`."""
    split = make_split(dataset, SplitConfig(seed_size=SEED_SIZE), split_seed=0)
    return dataset.features.iloc[split.balanced_index], row_targets(dataset, task, split.balanced_index)


def fitted(name: str, dataset: Dataset, task: str, config: GeneratorConfig):
    rows, targets = seed_rows(dataset, task)
    sampler = make_sampler(name, config)
    assert sampler.fit(rows, targets, dataset.schema) is sampler
    return sampler, rows, targets


def task_targets(task: str) -> tuple[str, ...]:
    targets = TASK_TARGETS[task]
    return (*targets.minority, *targets.majority)


def one_target_per_side(task: str) -> tuple[str, str]:
    """A minority and a majority target: enough for the checks that do not depend on the target."""
    targets = TASK_TARGETS[task]
    return targets.minority[0], targets.majority[0]


def test_adult_subsample_has_categorical_and_integer_columns(adult_dataset):
    """The mixed dataset must really exercise categories and integers, or the contract is vacuous."""
    assert len(adult_dataset.schema.categorical_names) == 8
    assert "sex" in adult_dataset.schema.categorical_names
    assert "age" in adult_dataset.schema.integer_names


@pytest.mark.parametrize("n", SAMPLE_SIZES)
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("dataset", DATASETS, indirect=True)
@pytest.mark.parametrize("name", SAMPLERS)
def test_sample_returns_n_rows_with_the_input_columns_and_dtypes(name, dataset, task, n, generator_config):
    sampler, _, _ = fitted(name, dataset, task, generator_config)
    features = dataset.features
    for target in task_targets(task):
        rows = sampler.sample(n, target, generator_seed=3)
        assert len(rows) == n
        assert list(rows.columns) == list(features.columns)
        assert rows.dtypes.to_dict() == features.dtypes.to_dict()
        assert list(rows.index) == list(range(n))
        for column in dataset.schema.columns:
            values = rows[column.name]
            if column.kind == "category":
                assert list(values.cat.categories) == list(features[column.name].cat.categories)
                assert values.isin(column.categories).all(), f"{column.name} left its domain"
            elif column.kind == "int":
                assert values.dtype == np.int64
            else:
                assert values.dtype == np.float64
            assert not values.isna().any(), f"{name} produced missing values in {column.name}"


@pytest.mark.parametrize("dataset", DATASETS, indirect=True)
@pytest.mark.parametrize("name", SAMPLERS)
def test_group_rows_carry_the_groups_attribute_value(name, dataset, generator_config):
    sampler, _, _ = fitted(name, dataset, "spurious", generator_config)
    spurious = dataset.schema.spurious
    for group in task_targets("spurious"):
        expected = str(dataset.schema.spurious_values[int(group[1])])
        rows = sampler.sample(250, group, generator_seed=11)
        wrong = rows[spurious].astype(str) != expected
        assert not wrong.any(), f"{wrong.sum()} rows of {group} have another {spurious}"


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("dataset", DATASETS, indirect=True)
@pytest.mark.parametrize("name", SAMPLERS)
def test_same_seed_same_rows_different_seed_different_rows(name, dataset, task, generator_config):
    sampler, _, _ = fitted(name, dataset, task, generator_config)
    refitted, _, _ = fitted(name, dataset, task, generator_config)
    for target in one_target_per_side(task):
        first = sampler.sample(37, target, generator_seed=5)
        pd.testing.assert_frame_equal(sampler.sample(37, target, generator_seed=5), first)
        pd.testing.assert_frame_equal(refitted.sample(37, target, generator_seed=5), first)
        assert not first.equals(sampler.sample(37, target, generator_seed=6))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("dataset", DATASETS, indirect=True)
@pytest.mark.parametrize("name", SAMPLERS)
def test_fit_and_sample_do_not_mutate_the_input(name, dataset, task, generator_config):
    rows, targets = seed_rows(dataset, task)
    rows_before, targets_before = rows.copy(deep=True), targets.copy()
    sampler = make_sampler(name, generator_config).fit(rows, targets, dataset.schema)
    for target in one_target_per_side(task):
        sampler.sample(37, target, generator_seed=0)
    pd.testing.assert_frame_equal(rows, rows_before)
    np.testing.assert_array_equal(targets, targets_before)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("dataset", DATASETS, indirect=True)
def test_ros_rows_are_exact_copies_of_fitted_rows_of_their_target(dataset, task, generator_config):
    sampler, rows, targets = fitted("ros", dataset, task, generator_config)
    for target in task_targets(task):
        own_rows = rows[targets == target].drop_duplicates().reset_index(drop=True)
        sampled = sampler.sample(250, target, generator_seed=2)
        matched = sampled.merge(own_rows, how="left", indicator=True)
        assert (matched["_merge"] == "both").all(), f"ros made a row that {target} does not hold"


@pytest.mark.parametrize("dataset", DATASETS, indirect=True)
@pytest.mark.parametrize("name", SAMPLERS)
def test_target_absent_from_the_fitted_rows_is_refused_by_name(name, dataset, generator_config):
    sampler, _, _ = fitted(name, dataset, "imbalance", generator_config)
    label = dataset.schema.label
    seen = rf"it saw \({label}=\S+\), \({label}=\S+\)\)"
    with pytest.raises(
        SynthscaleError, match=rf"\({dataset.schema.spurious}=\S+, {label}=\S+\) has 0 rows .*{seen}"
    ):
        sampler.sample(5, "a1_y1", generator_seed=0)


def test_unknown_sampler_name_suggests_the_closest_and_lists_all():
    listed = re.escape(", ".join(sampler_names()))
    with pytest.raises(
        SynthscaleError, match=rf"unknown sampler 'smoote'; did you mean 'smote'\?; available: {listed}$"
    ):
        make_sampler("smoote", GeneratorConfig())


def test_registry_holds_the_classic_samplers():
    assert {"ros", "smote", "adasyn"} <= set(sampler_names())


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_target_with_fewer_rows_than_neighbours_names_the_fix(name, craft_dataset):
    rows, targets = seed_rows(craft_dataset, "imbalance")
    keep = np.flatnonzero(targets == "y0").tolist() + np.flatnonzero(targets == "y1")[:3].tolist()
    sampler = make_sampler(name, GeneratorConfig(k_neighbors=5))
    sampler.fit(rows.iloc[keep], targets[keep], craft_dataset.schema)
    with pytest.raises(
        SynthscaleError, match=r"\(Target=1\) has 3 rows .* needs at least 6; lower generator\.k_neighbors"
    ):
        sampler.sample(10, "y1", generator_seed=0)


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_interpolated_integers_snap_to_observed_values(name, craft_dataset):
    """X6 is -1 or 1; SMOTE between the two must not produce 0 (imblearn truncates)."""
    rows, targets = seed_rows(craft_dataset, "imbalance")
    sampler = make_sampler(name, GeneratorConfig()).fit(rows, targets, craft_dataset.schema)
    sampled = sampler.sample(500, "y1", generator_seed=3)
    assert set(sampled["X6"].unique()) == {-1, 1}
