"""The calibration rows and the oracle's rows, on row indices: calibration rows are seen by no
classifier and no generator in any protocol or data access; the oracle's rows are real rows
from the reserves, outside the fit's own rows, as many per target as a sampler would add."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from synthscale.config import ExperimentConfig, SplitConfig, validate_config
from synthscale.data import make_craft, prepare_dataset
from synthscale.errors import SynthscaleError
from synthscale.experiments import Point, build_training_set, oracle_rows, real_rows, synthetic_segments
from synthscale.splits import make_fold_split, make_split, row_targets
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.plan import plan_sweep, split_for
from synthscale.sweep.pools import visible_rows
from synthscale.targets import ALL_GROUPS

S = 200
EXPERIMENT = ExperimentConfig()
TASKS = ("imbalance", "spurious")


@pytest.fixture(scope="module")
def craft_8000():
    table = make_craft(n_rows=8000, craft_seed=0)
    return prepare_dataset(table, label="Target", spurious="X6", minority=1, spurious_positive=1)


@pytest.fixture(scope="module")
def split(craft_8000):
    return make_split(craft_8000, SplitConfig(seed_size=S), split_seed=0)


def paper_points(task: str) -> list[Point]:
    """Every point of the paper's grid; the oracle's augment points to N = 16s (at 18s craft's
    rarest group has too few rows left: the plan leaves that point out)."""
    ratio = [
        Point(task, "ratio", m, k=k) for m in ("raw", "smote", "oracle", "oracle_aug") for k in range(10)
    ]
    augment = [Point(task, "augment", "smote", n_aug_units=n) for n in EXPERIMENT.augment.n_aug]
    augment += [Point(task, "augment", "oracle", n_aug_units=n) for n in EXPERIMENT.augment.n_aug if n <= 16]
    return ratio + augment + [Point(task, "augment", "raw"), Point(task, "augment", "all_real")]


def test_calibration_rows_are_balanced_over_groups_and_apart_from_test_and_training(craft_8000, split):
    groups, counts = np.unique(
        row_targets(craft_8000, "spurious", split.calibration_index), return_counts=True
    )
    assert groups.tolist() == sorted(ALL_GROUPS) and counts.tolist() == [S // 4] * 4
    assert not np.isin(split.calibration_index, split.test_index).any()
    assert not np.isin(split.calibration_index, split.train_index).any()


@pytest.mark.parametrize("task", TASKS)
def test_no_classifier_trains_on_a_calibration_row(craft_8000, split, task):
    for point in paper_points(task):
        used = [real_rows(point, split, S, EXPERIMENT)]
        if point.method.startswith("oracle"):
            used += oracle_rows(point, split, S, EXPERIMENT)
        assert not np.isin(np.concatenate(used), split.calibration_index).any(), point


@pytest.mark.parametrize("access", ["seed", "train"])
@pytest.mark.parametrize("task", TASKS)
def test_no_generator_sees_a_calibration_row(craft_8000, split, task, access):
    seen, _ = visible_rows(craft_8000, split, task, access)
    assert len(seen) and not np.isin(seen, split.calibration_index).any()


@pytest.mark.parametrize("spurious", ["X6", None])
def test_calibration_rows_leave_the_reserves_front_as_it_was(spurious):
    """They come from the back of each stratum's shuffled rows: the majority rows a point takes
    from the front of a stratum's reserve (a group's, or a class's without an attribute) are
    those it took before there were calibration rows."""
    dataset = prepare_dataset(
        make_craft(4000, craft_seed=0),
        label="Target",
        spurious=spurious,
        minority=1,
        spurious_positive=1 if spurious else None,
    )
    split = make_split(dataset, SplitConfig(seed_size=S), split_seed=0)
    without = make_split(dataset, SplitConfig(seed_size=S, calibration_size=0), split_seed=0)
    assert np.array_equal(without.balanced_index, split.balanced_index)
    strata = ALL_GROUPS if spurious else ("y0", "y1")
    for target in strata:
        reserve = split.reserves[target]
        assert len(without.reserves[target]) - len(reserve) == S // len(strata)
        assert np.array_equal(without.reserves[target][: len(reserve)], reserve)


def test_native_calibration_is_an_inner_fold_of_the_training_fold(craft_8000):
    no_calibration = make_fold_split(craft_8000, 5, 2)
    split = make_fold_split(craft_8000, 5, 2, calibration_size=S)
    assert np.array_equal(split.test_index, no_calibration.test_index)
    assert np.array_equal(
        np.sort(np.concatenate([split.train_index, split.calibration_index])), no_calibration.train_index
    )
    # each group gives a fifth of its training rows, at most s/4: craft's groups all reach the cap
    _, counts = np.unique(row_targets(craft_8000, "spurious", split.calibration_index), return_counts=True)
    assert counts.tolist() == [S // 4] * 4
    for access in ("seed", "train"):  # the native generator sees the training fold either way
        seen, _ = visible_rows(craft_8000, split, "imbalance", access)
        assert not np.isin(seen, split.calibration_index).any()
    point = Point("imbalance", "native", "smote", data_access="train")
    assert not np.isin(real_rows(point, split, S, EXPERIMENT), split.calibration_index).any()


def test_native_calibration_of_a_small_group_takes_a_fifth_of_it(craft_8000):
    """A group of 60 rows gives 48 to the training fold and 9 (48 // 5) of them to calibration."""
    a_y1 = np.flatnonzero((craft_8000.y == 1) & (craft_8000.a == 1))
    keep = np.setdiff1d(np.arange(len(craft_8000.y)), a_y1[60:])
    table = craft_8000.features.iloc[keep].assign(Target=craft_8000.y[keep])
    small = prepare_dataset(table, label="Target", spurious="X6", minority=1, spurious_positive=1)
    split = make_fold_split(small, 5, 0, calibration_size=S)
    keys, counts = np.unique(row_targets(small, "spurious", split.calibration_index), return_counts=True)
    assert dict(zip(keys.tolist(), counts.tolist(), strict=True))["a1_y1"] == 48 // 5


@pytest.mark.parametrize("task", TASKS)
def test_oracle_rows_are_unused_reserves_as_many_as_a_sampler_adds(craft_8000, split, task):
    for point in [p for p in paper_points(task) if p.method.startswith("oracle")]:
        segments = synthetic_segments(point, S, EXPERIMENT)
        added = oracle_rows(point, split, S, EXPERIMENT)
        assert [len(rows) for rows in added] == [s.stop - s.start for s in segments]
        joined = np.concatenate([real_rows(point, split, S, EXPERIMENT), *added])
        assert len(np.unique(joined)) == len(joined), point  # none twice, none of the fit's own
        for segment, rows in zip(segments, added, strict=True):
            assert np.isin(rows, split.reserves[segment.target]).all()
            assert (row_targets(craft_8000, task, rows) == segment.target).all()


def test_a_larger_k_adds_oracle_rows_to_a_smaller_one(split):
    smaller, larger = (
        oracle_rows(Point("imbalance", "ratio", "oracle", k=k), split, S, EXPERIMENT) for k in (3, 7)
    )
    assert np.array_equal(larger[0][: len(smaller[0])], smaller[0])


def test_the_oracles_training_set_holds_real_rows_with_a_samplers_weights(craft_8000, split):
    point = Point("spurious", "augment", "oracle", n_aug_units=2)
    training = build_training_set(craft_8000, split, point, {}, S, EXPERIMENT)
    real = real_rows(point, split, S, EXPERIMENT)
    added = np.concatenate(oracle_rows(point, split, S, EXPERIMENT))
    assert training.n_synthetic == 0 and training.n_real == len(real) + len(added) == len(training.y)
    assert training.n_aug == 2 * S
    np.testing.assert_array_equal(
        training.X.iloc[len(real) :].to_numpy(), craft_8000.features.iloc[added].to_numpy()
    )
    np.testing.assert_array_equal(training.y[len(real) :], craft_8000.y[added])
    weights = np.concatenate(
        [np.full(s.stop - s.start, s.weight) for s in synthetic_segments(point, S, EXPERIMENT)]
    )
    np.testing.assert_array_equal(training.weight[len(real) :], weights)
    assert set(np.unique(weights)) == {1.0, EXPERIMENT.augment.aug_weight}


def test_oracle_points_the_reserves_cannot_fill_are_left_out_with_a_warning(caplog):
    config = validate_config(
        {
            "dataset": {"name": "craft", "craft_rows": 1000},
            "split": {"seed_size": 40},
            "experiment": {
                "tasks": ["imbalance"],
                "protocols": ["augment"],
                "seeds": [0, 1],
                "augment": {"n_aug": [0, 2, 40]},
            },
            "methods": ["raw", "smote", "oracle"],
        }
    )
    plan = plan_sweep(config)
    sizes = {(g.point.method, g.point.n_aug_units) for g in plan.grid}
    assert ("oracle", 40) not in sizes and {("oracle", 0), ("oracle", 2), ("smote", 40)} <= sizes
    assert "the oracle is left out at 1 point" in caplog.text
    assert "imbalance augment N=40s" in caplog.text and "the oracle needs" in caplog.text
    with pytest.raises(SynthscaleError, match=r"the oracle needs \d+ real rows of 'y1' beside the fit's own"):
        oracle_rows(
            Point("imbalance", "augment", "oracle", n_aug_units=40),
            plan.splits[("craft", 0)],
            40,
            config.experiment,
        )


def test_the_oracle_is_refused_in_the_native_protocol():
    config = validate_config(
        {"experiment": {"protocols": ["native"], "tasks": ["imbalance"]}, "methods": ["raw", "oracle"]}
    )
    with pytest.raises(
        SynthscaleError,
        match="native protocol trains on its training fold and keeps no reserves.*drop oracle",
    ):
        expand_grid(config, "craft")


def test_the_oracle_runs_each_n_of_the_augment_grid_once_without_a_data_access():
    config = validate_config(
        {
            "experiment": {"tasks": ["imbalance"], "protocols": ["augment"], "augment": {"n_aug": [0, 2]}},
            "methods": ["raw", "smote", "oracle_aug"],
            "generator": {"data_access": ["seed", "train"]},
        }
    )
    oracle = [g.point for g in expand_grid(config, "craft") if g.point.method == "oracle" and g.seed == 0]
    at_points = [(p.n_aug_units, p.data_access) for p in oracle if p.dose == 1 and p.n_aug_units <= 2]
    assert at_points == [(0, "none"), (2, "none")]
    assert all(p.data_access == "none" for p in oracle)  # its dose ladder too


def test_calibration_rows_follow_the_calibration_method():
    dataset = prepare_dataset(
        make_craft(2000, craft_seed=0), label="Target", spurious="X6", minority=1, spurious_positive=1
    )
    for method, size in (("sigmoid", 40), ("isotonic", 40), ("prior_shift", 0), ("none", 0)):
        config = validate_config({"split": {"seed_size": 40}, "downstream": {"calibration": method}})
        assert len(split_for(dataset, config, 0).calibration_index) == size, method
    with pytest.raises(SynthscaleError, match="downstream.calibration=sigmoid .* split.calibration_size=0"):
        validate_config({"split": {"calibration_size": 0}})
    with pytest.raises((SynthscaleError, ValidationError), match="calibration_size=6 must be divisible by 4"):
        validate_config({"split": {"calibration_size": 6}})
    with pytest.raises((SynthscaleError, ValidationError), match="at least 8 rows"):
        validate_config({"split": {"calibration_size": 4}})
