"""make_split: disjoint test / seed / pool rows, a balanced seed set, deterministic per seed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from synthscale.config import SplitConfig
from synthscale.data import make_craft, prepare_dataset
from synthscale.errors import SynthscaleError
from synthscale.splits import make_split, row_targets
from synthscale.targets import ALL_GROUPS

SMALL_SPLIT = SplitConfig(test_fraction=0.3, seed_size=40)


@pytest.fixture(scope="module")
def craft_2000():
    table = make_craft(2000, craft_seed=1)
    return prepare_dataset(table, label="Target", spurious="X6", minority=1, spurious_positive=1)


@pytest.fixture(scope="module")
def craft_no_spurious(craft_table):
    return prepare_dataset(craft_table, label="Target", minority=1)


def all_parts(split) -> list[np.ndarray]:
    return [
        split.test_index,
        split.balanced_index,
        split.reserves["y0"],
        split.reserves["y1"],
        split.calibration_index,
    ]


@pytest.mark.parametrize("split_seed", [0, 1])
def test_test_balanced_set_and_reserves_partition_all_rows(craft, split_seed):
    split = make_split(craft, SMALL_SPLIT, split_seed)
    parts = all_parts(split)
    joined = np.concatenate(parts)
    assert len(joined) == len(np.unique(joined))  # pairwise disjoint
    assert np.array_equal(np.sort(joined), np.arange(400))  # together every row
    held_out = np.concatenate([split.test_index, split.calibration_index])
    assert np.array_equal(np.sort(split.train_index), np.setdiff1d(np.arange(400), held_out))


def test_group_reserves_partition_the_class_reserves(craft):
    split = make_split(craft, SMALL_SPLIT, 0)
    groups = np.concatenate([split.reserves[g] for g in ALL_GROUPS])
    classes = np.concatenate([split.reserves["y0"], split.reserves["y1"]])
    assert np.array_equal(np.sort(groups), np.sort(classes))
    assert not np.isin(groups, split.test_index).any()
    assert not np.isin(groups, split.balanced_index).any()


def test_test_share_matches_test_fraction(craft, craft_2000):
    # sklearn takes ceil(test_fraction * n) test rows
    assert len(make_split(craft, SMALL_SPLIT, 0).test_index) == 120
    assert len(make_split(craft_2000, SplitConfig(test_fraction=0.25, seed_size=40), 0).test_index) == 500


def test_test_set_is_stratified_by_group(craft_2000):
    split = make_split(craft_2000, SplitConfig(test_fraction=0.3, seed_size=40), 0)
    all_groups = row_targets(craft_2000, "spurious")
    test_groups = all_groups[split.test_index]
    for group in ALL_GROUPS:
        share_all = np.mean(all_groups == group)
        assert np.mean(test_groups == group) == pytest.approx(share_all, abs=0.01)


@pytest.mark.parametrize("seed_size", [40, 200])
def test_seed_set_has_seed_size_over_four_rows_per_group(craft, seed_size):
    split = make_split(craft, SplitConfig(seed_size=seed_size, calibration_size=0), 3)
    groups, counts = np.unique(row_targets(craft, "spurious", split.balanced_index), return_counts=True)
    assert groups.tolist() == sorted(ALL_GROUPS)
    assert counts.tolist() == [seed_size // 4] * 4


def test_seed_set_of_a_bigger_table_is_balanced_over_groups(craft_2000):
    split = make_split(craft_2000, SplitConfig(seed_size=400), 0)
    _, counts = np.unique(row_targets(craft_2000, "spurious", split.balanced_index), return_counts=True)
    assert counts.tolist() == [100, 100, 100, 100]


def test_without_spurious_the_seed_set_is_balanced_over_classes(craft_no_spurious):
    split = make_split(craft_no_spurious, SplitConfig(seed_size=40), 0)
    assert np.bincount(craft_no_spurious.y[split.balanced_index]).tolist() == [20, 20]
    assert set(split.reserves) == {"y0", "y1"}
    joined = np.concatenate(all_parts(split))
    assert np.array_equal(np.sort(joined), np.arange(400))


def test_same_split_seed_gives_identical_indices(craft):
    first, second = make_split(craft, SMALL_SPLIT, 5), make_split(craft, SMALL_SPLIT, 5)
    assert np.array_equal(first.test_index, second.test_index)
    assert np.array_equal(first.balanced_index, second.balanced_index)
    assert first.reserves.keys() == second.reserves.keys()
    for key in first.reserves:
        assert np.array_equal(first.reserves[key], second.reserves[key])


def test_different_split_seed_gives_different_indices(craft):
    first, second = make_split(craft, SMALL_SPLIT, 5), make_split(craft, SMALL_SPLIT, 6)
    assert not np.array_equal(first.test_index, second.test_index)
    assert not np.array_equal(np.sort(first.balanced_index), np.sort(second.balanced_index))


def test_reserves_hold_only_their_class_or_group(craft):
    split = make_split(craft, SMALL_SPLIT, 0)
    assert (craft.y[split.reserves["y1"]] == 1).all()
    assert (craft.y[split.reserves["y0"]] == 0).all()
    for group in ALL_GROUPS:
        a, y = int(group[1]), int(group[-1])
        rows = split.reserves[group]
        assert len(rows) > 0
        assert (craft.a[rows] == a).all() and (craft.y[rows] == y).all(), group


def test_reserves_are_shuffled(craft_2000):
    pool = make_split(craft_2000, SMALL_SPLIT, 0).reserves["y1"]
    assert not np.array_equal(pool, np.sort(pool))


def test_a_group_with_too_few_rows_asks_to_lower_seed_size(craft):
    # 400 rows, 280 in training, about 70 per group: 100 per group is too many
    with pytest.raises(
        SynthscaleError,
        match=re.escape("group (X6=-1, Target=0) has ")
        + r"\d+"
        + re.escape(" training rows, the seed set needs 100; lower split.seed_size"),
    ):
        make_split(craft, SplitConfig(seed_size=400, calibration_size=0), 0)
    with pytest.raises(
        SynthscaleError,
        match=re.escape("the seed set needs 40 and the calibration rows 40; lower split.seed_size or ")
        + re.escape("split.calibration_size"),
    ):
        make_split(craft, SplitConfig(seed_size=160, calibration_size=160), 0)


def test_row_targets_for_both_tasks(craft):
    index = np.arange(10)
    classes = row_targets(craft, "imbalance", index)
    groups = row_targets(craft, "spurious", index)
    assert classes.tolist() == ["y1" if v == 1 else "y0" for v in craft.y[:10]]
    assert groups.tolist() == [f"a{a}_y{y}" for a, y in zip(craft.a[:10], craft.y[:10], strict=True)]


def test_row_targets_spurious_without_attribute_fails(craft_no_spurious):
    with pytest.raises(
        SynthscaleError,
        match=re.escape(
            "task 'spurious' needs a spurious attribute but dataset 'data' has none; set dataset.spurious"
        ),
    ):
        row_targets(craft_no_spurious, "spurious")
