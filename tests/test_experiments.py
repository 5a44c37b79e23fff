"""The ratio and augment protocols: sizes, labels and weights of every training set.

Sizes are checked against hand-computed values for s = 200 on an 8000-row craft: the seed set
holds s/2 rows per class (s/4 per group), ratio k adds k*s/2 real majority rows, and augment
adds majority_size*s real majority rows, balances with synthetic minority rows, then adds N*s.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from synthscale.config import DownstreamConfig, ExperimentConfig, GeneratorConfig, SplitConfig
from synthscale.data import make_craft, prepare_dataset
from synthscale.data.schema import Dataset
from synthscale.errors import SynthscaleError
from synthscale.experiments import (
    Method,
    Point,
    Segment,
    build_training_set,
    evaluate_point,
    protocol_fits,
    real_rows,
    synthetic_demand,
    synthetic_segments,
)
from synthscale.samplers import make_sampler
from synthscale.splits import Split, make_split, row_targets
from synthscale.targets import TASK_TARGETS

S = 200  # seed size s
KS = range(10)
EXPERIMENT = ExperimentConfig()
N_AUG_UNITS = EXPERIMENT.augment.n_aug  # 0, 2, ..., 18
MAJORITY_UNITS = EXPERIMENT.augment.majority_size  # 4
TASKS = ("imbalance", "spurious")


def all_points(task: str) -> list[Point]:
    ratio = [Point(task, "ratio", method, k=k) for method in ("raw", "smote", "smote_aug") for k in KS]
    augment = [Point(task, "augment", "smote", n_aug_units=n) for n in N_AUG_UNITS]
    return ratio + augment + [Point(task, "augment", "raw"), Point(task, "augment", "all_real")]


@pytest.fixture(scope="module")
def big_craft() -> Dataset:
    table = make_craft(n_rows=8000, craft_seed=0)
    return prepare_dataset(table, label="Target", spurious="X6", minority=1, spurious_positive=1)


@pytest.fixture(scope="module")
def split(big_craft) -> Split:
    return make_split(big_craft, SplitConfig(seed_size=S), split_seed=0)


@pytest.fixture(scope="module")
def smote_pools(big_craft, split) -> dict[str, dict[str, pd.DataFrame]]:
    """Per task: one smote pool per target, fitted on the seed set, sized by synthetic_demand."""
    pools = {}
    for task in TASKS:
        segments = [seg for point in all_points(task) for seg in synthetic_segments(point, S, EXPERIMENT)]
        demand = synthetic_demand(segments)
        sampler = make_sampler("smote", GeneratorConfig())
        sampler.fit(
            big_craft.features.iloc[split.balanced_index],
            row_targets(big_craft, task, split.balanced_index),
            big_craft.schema,
        )
        pools[task] = {target: sampler.sample(n, target, generator_seed=0) for target, n in demand.items()}
    return pools


def build(big_craft, split, smote_pools, point):
    return build_training_set(big_craft, split, point, smote_pools[point.task], S, EXPERIMENT)


def real_counts(dataset: Dataset, task: str, real: np.ndarray) -> dict[str, int]:
    keys = row_targets(dataset, task, real)
    return {key: int(np.sum(keys == key)) for key in np.unique(keys)}


def synthetic_part(training) -> tuple[np.ndarray, np.ndarray]:
    """Labels and weights of the synthetic rows, which follow the real ones."""
    return training.y[training.n_real :], training.weight[training.n_real :]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("k", KS)
def test_ratio_raw_adds_k_s_half_real_majority_rows(big_craft, split, smote_pools, task, k):
    training = build(big_craft, split, smote_pools, Point(task, "ratio", "raw", k=k))
    assert training.n_real == S + k * S // 2
    assert training.ratio == 1 + k
    assert training.n_synthetic == 0
    assert training.n_aug == 0
    assert len(training.X) == len(training.y) == len(training.weight) == training.n_real
    assert (training.weight == 1.0).all()
    majority = TASK_TARGETS[task].majority
    counts = real_counts(big_craft, task, real_rows(Point(task, "ratio", "raw", k=k), split, S, EXPERIMENT))
    # majority rows spread evenly over the majority targets (one class, or the two disagree groups)
    assert [counts[m] for m in majority] == [(S // 2 + k * S // 2) // len(majority)] * len(majority)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("k", KS)
def test_ratio_smote_balances_with_k_s_half_minority_rows(big_craft, split, smote_pools, task, k):
    training = build(big_craft, split, smote_pools, Point(task, "ratio", "smote", k=k))
    assert training.n_real == S + k * S // 2
    assert training.ratio == 1 + k
    assert training.n_synthetic == k * S // 2
    assert training.n_aug == 0
    y_synthetic, w_synthetic = synthetic_part(training)
    assert (w_synthetic == 1.0).all()
    if task == "imbalance":
        assert (y_synthetic == 1).all()
    else:
        # agree groups a1_y1 (label 1) and a0_y0 (label 0) share the minority rows evenly
        assert int(y_synthetic.sum()) == k * S // 4
    # after balancing, each class holds (1 + k) * s / 2 rows in both tasks
    assert int(training.y.sum()) == (S + k * S) // 2
    assert int((training.y == 0).sum()) == (S + k * S) // 2


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("k", KS)
def test_ratio_smote_aug_adds_three_s_rows_at_half_weight(big_craft, split, smote_pools, task, k):
    training = build(big_craft, split, smote_pools, Point(task, "ratio", "smote_aug", k=k))
    assert training.n_real == S + k * S // 2
    assert training.ratio == 1 + k
    assert training.n_synthetic == k * S // 2 + 3 * S
    assert training.n_aug == 3 * S
    y_synthetic, w_synthetic = synthetic_part(training)
    aug = w_synthetic == 0.5
    assert int(aug.sum()) == 3 * S
    assert int((w_synthetic == 1.0).sum()) == k * S // 2
    assert int(y_synthetic[aug].sum()) == 3 * S // 2  # half of the +aug rows are labelled 1


@pytest.mark.parametrize("k", KS)
def test_ratio_imbalance_class_counts_are_hand_computed(big_craft, split, smote_pools, k):
    training = build(big_craft, split, smote_pools, Point("imbalance", "ratio", "smote_aug", k=k))
    real_y = training.y[: training.n_real]
    assert int((real_y == 1).sum()) == S // 2
    assert int((real_y == 0).sum()) == S // 2 + k * S // 2
    # all rows, real and synthetic: 1s = s/2 + k*s/2 + 1.5 s; 0s = s/2 + k*s/2 + 1.5 s
    assert int((training.y == 1).sum()) == int((training.y == 0).sum()) == S // 2 + k * S // 2 + 3 * S // 2


@pytest.mark.parametrize("k", KS)
def test_spurious_minority_rows_split_evenly_across_agree_groups(big_craft, split, k):
    segments = synthetic_segments(Point("spurious", "ratio", "smote", k=k), S, EXPERIMENT)
    sizes = {seg.target: seg.stop - seg.start for seg in segments}
    if k == 0:
        assert sizes == {}
    else:
        assert sizes == {"a1_y1": k * S // 4, "a0_y0": k * S // 4}
        assert all(seg.weight == 1.0 and not seg.augmentation for seg in segments)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("n_units", N_AUG_UNITS)
def test_augment_adds_n_rows_half_per_class_at_half_weight(big_craft, split, smote_pools, task, n_units):
    training = build(big_craft, split, smote_pools, Point(task, "augment", "smote", n_aug_units=n_units))
    majority_rows = MAJORITY_UNITS * S
    assert training.n_real == S + majority_rows
    assert training.n_aug == n_units * S
    assert training.n_synthetic == majority_rows + n_units * S
    y_synthetic, w_synthetic = synthetic_part(training)
    aug = w_synthetic == 0.5
    assert int(aug.sum()) == n_units * S
    assert int(y_synthetic[aug].sum()) == n_units * S // 2
    # the base is balanced first: real majority 4.5 s, minority (real + synthetic) 4.5 s
    base = np.concatenate([np.ones(training.n_real, bool), ~aug])
    if task == "imbalance":
        assert int((training.y[: training.n_real] == 0).sum()) == 9 * S // 2
        assert int((training.y[base] == 1).sum()) == 9 * S // 2
        assert int((training.y[base] == 0).sum()) == 9 * S // 2
    else:
        real = real_rows(Point(task, "augment", "smote", n_aug_units=n_units), split, S, EXPERIMENT)
        counts = real_counts(big_craft, task, real)
        assert counts["a1_y0"] + counts["a0_y1"] == 9 * S // 2
        assert counts["a1_y1"] + counts["a0_y0"] + int((~aug).sum()) == 9 * S // 2
    assert training.ratio == 9.0  # real majority / real minority = 4.5 s / 0.5 s


def test_augment_all_real_uses_every_training_row(big_craft, split, smote_pools):
    training = build(big_craft, split, smote_pools, Point("imbalance", "augment", "all_real"))
    assert training.n_real == len(split.train_index) == 5600 - S  # the calibration rows (s) held out
    assert training.n_synthetic == 0
    pd.testing.assert_frame_equal(
        training.X, big_craft.features.iloc[split.train_index].reset_index(drop=True)
    )
    np.testing.assert_array_equal(training.y, big_craft.y[split.train_index])


def test_no_test_row_in_any_training_set(split):
    train = set(split.train_index.tolist())
    assert not train & set(split.test_index.tolist())
    for point in all_points("imbalance") + all_points("spurious"):
        assert not set(real_rows(point, split, S, EXPERIMENT).tolist()) - train


@pytest.mark.parametrize("task", TASKS)
def test_smaller_k_is_nested_in_larger_k(big_craft, split, smote_pools, task):
    small, large = (Point(task, "ratio", "smote", k=k) for k in (3, 5))
    small_real, large_real = (real_rows(p, split, S, EXPERIMENT) for p in (small, large))
    assert np.isin(small_real, large_real).all()
    if task == "imbalance":  # one majority pool: the rows are a prefix
        np.testing.assert_array_equal(small_real, large_real[: len(small_real)])
    small_set, large_set = (build(big_craft, split, smote_pools, p) for p in (small, large))
    small_rows = set(map(tuple, small_set.X.to_numpy().tolist()))
    large_rows = set(map(tuple, large_set.X.to_numpy().tolist()))
    assert small_rows <= large_rows
    assert len(large_rows - small_rows) > 0


@pytest.mark.parametrize("task", TASKS)
def test_larger_n_extends_smaller_n(task):
    small, large = (
        synthetic_segments(Point(task, "augment", "smote", n_aug_units=n), S, EXPERIMENT) for n in (2, 6)
    )
    by_target = {(seg.target, seg.augmentation): seg for seg in large}
    for seg in small:
        wider = by_target[(seg.target, seg.augmentation)]
        assert (wider.start, wider.weight) == (seg.start, seg.weight)
        if seg.augmentation:  # N grows the augmentation slice; the balancing slice stays put
            assert wider.stop > seg.stop
        else:
            assert wider.stop == seg.stop


def test_demand_is_the_largest_stop_of_every_target():
    points = [Point("imbalance", "ratio", "smote_aug", k=k) for k in KS]
    points += [Point("imbalance", "augment", "smote", n_aug_units=n) for n in N_AUG_UNITS]
    segments = [seg for p in points for seg in synthetic_segments(p, S, EXPERIMENT)]
    demand = synthetic_demand(segments)
    # ratio k=9 +aug reads y1 up to 9*100 + 300 = 1200 and y0 up to 300;
    # augment N=18 reads y1 up to 4 s + 9 s = 2600 and y0 up to 9 s = 1800
    assert demand == {"y1": 2600, "y0": 1800}
    assert demand == {t: max(s.stop for s in segments if s.target == t) for t in demand}


def test_spurious_augment_segments_are_hand_computed():
    segments = synthetic_segments(Point("spurious", "augment", "smote", n_aug_units=2), S, EXPERIMENT)
    assert set(segments) == {
        Segment("a1_y1", 0, 400, 1.0, augmentation=False),
        Segment("a0_y0", 0, 400, 1.0, augmentation=False),
        Segment("a1_y1", 400, 500, 0.5, augmentation=True),
        Segment("a0_y0", 400, 500, 0.5, augmentation=True),
        Segment("a1_y0", 0, 100, 0.5, augmentation=True),
        Segment("a0_y1", 0, 100, 0.5, augmentation=True),
    }
    assert synthetic_demand(segments) == {"a1_y1": 500, "a0_y0": 500, "a1_y0": 100, "a0_y1": 100}


@pytest.mark.parametrize("method", ["raw", "all_real"])
def test_methods_without_sampler_have_no_segments(method):
    assert synthetic_segments(Point("imbalance", "augment", method), S, EXPERIMENT) == []


def test_ratio_beyond_the_pool_names_the_pool_and_the_fix(craft):
    small_split = make_split(craft, SplitConfig(seed_size=80), split_seed=0)
    pool_size = len(small_split.reserves["y0"])
    point = Point("imbalance", "ratio", "raw", k=9)
    with pytest.raises(
        SynthscaleError,
        match=rf"needs 360 real rows of pool 'y0' but it holds {pool_size}; "
        r"lower the largest experiment\.ratio\.ks, split\.seed_size or split\.calibration_size",
    ):
        real_rows(point, small_split, 80, EXPERIMENT)


def test_augment_beyond_the_pool_names_the_augment_setting(craft):
    small_split = make_split(craft, SplitConfig(seed_size=80), split_seed=0)
    with pytest.raises(SynthscaleError, match=r"pool 'y0'.*experiment\.augment\.majority_size"):
        real_rows(Point("imbalance", "augment", "smote", n_aug_units=0), small_split, 80, EXPERIMENT)


def test_short_pool_is_refused(big_craft, split, smote_pools):
    short = {target: rows.iloc[:10] for target, rows in smote_pools["imbalance"].items()}
    with pytest.raises(RuntimeError, match=r"synthetic pool for y1 holds 10 rows, .* needs 300"):
        build_training_set(big_craft, split, Point("imbalance", "ratio", "smote", k=3), short, S, EXPERIMENT)


@pytest.mark.parametrize("task", TASKS)
def test_evaluate_point_returns_finite_risks(big_craft, split, smote_pools, task):
    point = Point(task, "ratio", "smote_aug", k=2)
    rows = evaluate_point(
        big_craft,
        split,
        point,
        smote_pools[task],
        S,
        EXPERIMENT,
        DownstreamConfig(),
        ["xgboost", "logistic_regression"],
        fit_seed=0,
    )
    assert len(rows) == 2
    for row in rows:
        assert row["n_real"] == S + 2 * S // 2
        assert row["n_synthetic"] == 2 * S // 2 + 3 * S
        assert row["n_train"] == row["n_real"] + row["n_synthetic"]
        assert row["ratio"] == 3.0
        risks = {k: v for k, v in row.items() if k.startswith("ce_") or k.endswith("_ce")}
        assert {"overall_ce", "ce_y0", "ce_y1", "minority_ce", "balanced_ce", "worst_group_ce"} <= set(risks)
        assert all(math.isfinite(v) and v > 0 for v in risks.values())
        groups = ("y1", "y0") if task == "imbalance" else ("a1_y1", "a0_y0", "a1_y0", "a0_y1")
        group_risks = [row["ce_" + g] for g in groups]
        assert row["balanced_ce"] == pytest.approx(np.mean(group_risks))
        assert row["worst_group_ce"] == max(group_risks)
        assert 0.5 < row["balanced_accuracy"] <= 1.0  # craft is learnable: better than chance


def test_a_fractional_n_adds_its_whole_rows_evenly_per_class_and_group():
    # N = 1.16 s = 232 rows at s = 200 (1.16 * 200 is 231.99999999999997 in floating point)
    aug = {
        task: {
            seg.target: seg.stop - seg.start
            for seg in synthetic_segments(Point(task, "augment", "smote", n_aug_units=1.16), S, EXPERIMENT)
            if seg.augmentation
        }
        for task in TASKS
    }
    assert aug["imbalance"] == {"y1": 116, "y0": 116}
    assert aug["spurious"] == {"a1_y1": 58, "a0_y0": 58, "a1_y0": 58, "a0_y1": 58}


@pytest.mark.parametrize(
    "name, sampler, augmented, oracle, adds_rows",
    [
        ("raw", None, False, False, False),
        ("all_real", None, False, False, False),
        ("smote", "smote", False, False, True),
        ("smote_aug", "smote", True, False, True),
        ("smote_variants.ProWSyn_aug", "smote_variants.ProWSyn", True, False, True),
        ("oracle", None, False, True, True),
        ("oracle_aug", None, True, True, True),
    ],
)
def test_a_method_name_is_read_once_into_its_sampler_and_flags(name, sampler, augmented, oracle, adds_rows):
    method = Method.of(name)
    assert (method.sampler, method.augmented, method.oracle, method.adds_rows) == (
        sampler,
        augmented,
        oracle,
        adds_rows,
    )
    assert method.base + ("_aug" if augmented else "") == name and Method.of(name) is method


@pytest.mark.parametrize("dose", [0.25, 0.5, 2.0])
def test_an_oracle_dose_adds_that_multiple_of_the_points_real_rows_the_same_way(big_craft, split, dose):
    point = Point("imbalance", "ratio", "oracle", k=4)
    at_point = build(big_craft, split, {"imbalance": {}}, point)
    dosed = build(big_craft, split, {"imbalance": {}}, Point("imbalance", "ratio", "oracle", k=4, dose=dose))
    assert at_point.n_added == 4 * S // 2 and at_point.n_synthetic == 0
    assert dosed.n_added == round(dose * at_point.n_added)
    assert dosed.ratio == at_point.ratio  # the base's real rows are the point's
    added = dosed.y[len(dosed.y) - dosed.n_added :]
    assert (added == 1).all()  # minority rows, as the sampler's would be


def test_augment_doses_below_one_scale_the_balancing_rows_and_nest(big_craft, split):
    base = build(big_craft, split, {"imbalance": {}}, Point("imbalance", "augment", "oracle"))
    quarter = build(big_craft, split, {"imbalance": {}}, Point("imbalance", "augment", "oracle", dose=0.25))
    assert base.n_added == MAJORITY_UNITS * S and quarter.n_added == MAJORITY_UNITS * S // 4
    # nested: the quarter dose's rows are the first of the full dose's
    pd.testing.assert_frame_equal(quarter.X.tail(quarter.n_added).reset_index(drop=True),
                                  base.X.iloc[len(base.y) - base.n_added :].head(quarter.n_added).reset_index(drop=True))  # fmt: skip


def test_protocol_fits_leave_out_the_dose_ladder_only():
    results = pd.DataFrame({"method": ["oracle", "oracle", "raw"], "dose": [1.0, 0.5, 1.0]})
    assert protocol_fits(results)["dose"].tolist() == [1.0, 1.0]
    assert len(protocol_fits(results.drop(columns="dose"))) == 3  # results before the ladder
