"""Grid expansion: how many fits a sweep file asks for, their keys, and how trials batch them."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from synthscale.config import validate_config
from synthscale.errors import SynthscaleError
from synthscale.sweep.grid import expand_grid, make_batches, valid_methods


def sweep_config(
    *,
    tasks=("imbalance",),
    protocols=("ratio",),
    methods=("raw", "smote", "smote_aug"),
    ks=(0, 1, 2),
    n_aug=(0, 2, 4),
    seeds=(0, 1),
    classifiers=("xgboost",),
    reference=True,
    data_access="seed",
):
    return validate_config(
        {
            "generator": {"data_access": data_access},
            "experiment": {
                "tasks": list(tasks),
                "protocols": list(protocols),
                "seeds": list(seeds),
                "ratio": {"ks": list(ks)},
                "augment": {"n_aug": list(n_aug), "reference": reference},
            },
            "methods": list(methods),
            "downstream": {"classifiers": list(classifiers)},
        }
    )


def test_ratio_grid_is_methods_times_ks_times_seeds():
    grid = expand_grid(sweep_config(), "craft")
    assert len(grid) == 3 * 3 * 2
    keys = [g.key for g in grid]
    assert len(set(keys)) == len(keys)
    assert "craft/imbalance/ratio/smote_aug/k=2/seed=1/xgboost" in keys
    assert Counter(g.point.method for g in grid) == {"raw": 6, "smote": 6, "smote_aug": 6}
    assert {(g.point.k, g.seed) for g in grid if g.point.method == "smote"} == {
        (k, seed) for k in (0, 1, 2) for seed in (0, 1)
    }


def test_grid_multiplies_tasks_and_classifiers():
    config = sweep_config(tasks=("imbalance", "spurious"), classifiers=("xgboost", "logistic_regression"))
    grid = expand_grid(config, "craft")
    assert len(grid) == 2 * 3 * 3 * 2 * 2
    assert len({g.key for g in grid}) == len(grid)


def test_augment_shares_one_curve_per_sampler_and_adds_raw_and_all_real_once():
    config = sweep_config(protocols=("augment",), classifiers=("xgboost", "logistic_regression"))
    grid = expand_grid(config, "craft")
    per_seed_classifier = Counter((g.seed, g.classifier) for g in grid)
    # smote and smote_aug give one smote curve of 3 sizes, plus raw once and all_real once
    assert per_seed_classifier == {
        (s, c): 3 + 1 + 1 for s in (0, 1) for c in ("xgboost", "logistic_regression")
    }
    methods = Counter(g.point.method for g in grid)
    assert methods == {"smote": 3 * 4, "raw": 4, "all_real": 4}
    assert {g.point.n_aug_units for g in grid if g.point.method == "smote"} == {0, 2, 4}
    assert all(g.point.experiment == "augment" for g in grid)
    assert len({g.key for g in grid}) == len(grid)


def test_augment_without_raw_or_reference_has_only_sampler_points():
    config = sweep_config(protocols=("augment",), methods=("ros_aug", "smote"), reference=False)
    grid = expand_grid(config, "craft")
    assert Counter(g.point.method for g in grid) == {"ros": 3 * 2, "smote": 3 * 2}


def test_both_protocols_add_up():
    config = sweep_config(protocols=("ratio", "augment"))
    grid = expand_grid(config, "adult")
    assert len(grid) == (3 * 3 + 3 + 1 + 1) * 2
    assert all(g.key.startswith("adult/imbalance/") for g in grid)


def test_unknown_method_suggests_the_nearest():
    with pytest.raises(
        SynthscaleError, match=r"unknown method 'smote_agu'; did you mean 'smote_aug'\?; available: "
    ):
        expand_grid(sweep_config(methods=("raw", "smote_agu")), "craft")


def test_raw_aug_is_not_a_method():
    assert "raw_aug" not in valid_methods()
    with pytest.raises(SynthscaleError, match=r"unknown method 'raw_aug'"):
        expand_grid(sweep_config(methods=("raw_aug",)), "craft")


def test_no_methods_is_refused():
    with pytest.raises(SynthscaleError, match=r"methods: list at least one of raw, "):
        expand_grid(sweep_config(methods=()), "craft")


def test_repeated_method_is_refused():
    with pytest.raises(SynthscaleError, match=r"methods: 'smote' is listed twice; list each value once"):
        expand_grid(sweep_config(methods=("smote", "smote")), "craft")


@pytest.mark.parametrize("fits_per_trial", [1, 7, 40])
def test_batches_share_dataset_task_and_seed_respect_size_and_cover_each_point_once(fits_per_trial):
    config = sweep_config(
        tasks=("imbalance", "spurious"),
        protocols=("ratio", "augment"),
        seeds=(0, 1, 2),
        classifiers=("xgboost", "logistic_regression"),
    )
    grid = expand_grid(config, "craft") + expand_grid(config, "adult")
    batches = make_batches(grid, fits_per_trial)
    for batch in batches:
        assert 1 <= len(batch.points) <= fits_per_trial
        assert {(g.dataset, g.point.task, g.seed) for g in batch.points} == {
            (batch.dataset, batch.task, batch.seed)
        }
    assert len({b.batch_id for b in batches}) == len(batches)
    covered = Counter(g.key for b in batches for g in b.points)
    assert covered == Counter(g.key for g in grid)
    assert set(covered.values()) == {1}
    per_group = Counter((g.dataset, g.point.task, g.seed) for g in grid)
    assert len(per_group) == 2 * 2 * 3
    assert len(batches) == sum(math.ceil(n / fits_per_trial) for n in per_group.values())


@pytest.mark.parametrize(
    ("n_points", "fits_per_trial", "sizes"), [(10, 4, [4, 3, 3]), (12, 5, [4, 4, 4]), (9, 9, [9])]
)
def test_batches_of_one_group_are_equal_up_to_one_fit(n_points, fits_per_trial, sizes):
    """make_batches promises equal trials, so no last trial runs alone with a remainder."""
    config = sweep_config(methods=("raw",), ks=range(n_points), seeds=(0,))
    grid = expand_grid(config, "craft")
    assert len(grid) == n_points
    batches = make_batches(grid, fits_per_trial)
    assert sorted((len(b.points) for b in batches), reverse=True) == sizes


def test_one_data_access_keeps_the_keys_of_sweeps_before_accesses_were_an_axis():
    """--resume of an out dir from before finds its fits under the same keys."""
    grid = expand_grid(sweep_config(protocols=("ratio", "augment")), "craft")
    keys = [g.key for g in grid]
    assert keys[:3] == [
        "craft/imbalance/ratio/raw/k=0/seed=0/xgboost",
        "craft/imbalance/ratio/raw/k=0/seed=1/xgboost",
        "craft/imbalance/ratio/raw/k=1/seed=0/xgboost",
    ]
    assert "craft/imbalance/augment/smote/N=2s/seed=1/xgboost" in keys
    assert "craft/imbalance/augment/all_real/N=0s/seed=0/xgboost" in keys
    for access in ("train", ["train"]):
        other = expand_grid(sweep_config(protocols=("ratio", "augment"), data_access=access), "craft")
        assert [g.key for g in other] == keys
        assert {g.point.data_access for g in other if g.point.method == "smote"} == {"train"}
    assert {g.point.data_access for g in grid if g.point.method in ("raw", "all_real")} == {"none"}


def test_two_data_accesses_double_the_sampler_points_but_not_raw_or_all_real():
    one = expand_grid(sweep_config(protocols=("ratio", "augment")), "craft")
    two = expand_grid(sweep_config(protocols=("ratio", "augment"), data_access=["train", "seed"]), "craft")
    per_method = Counter((g.point.experiment, g.point.method) for g in one)
    doubled = Counter((g.point.experiment, g.point.method) for g in two)
    for (experiment, method), n in per_method.items():
        assert doubled[(experiment, method)] == n * (1 if method in ("raw", "all_real") else 2)
    accesses = Counter((g.point.method, g.point.data_access) for g in two)
    assert {a for m, a in accesses if m == "smote"} == {"train", "seed"}
    assert accesses[("smote", "train")] == accesses[("smote", "seed")]
    assert {a for m, a in accesses if m in ("raw", "all_real")} == {"none"}
    keys = [g.key for g in two]
    assert len(set(keys)) == len(keys)
    assert "craft/imbalance/augment/smote/access=train/N=2s/seed=1/xgboost" in keys
    assert "craft/imbalance/ratio/smote_aug/access=seed/k=2/seed=0/xgboost" in keys
    assert "craft/imbalance/augment/raw/access=none/N=0s/seed=0/xgboost" in keys


def test_geometric_n_values_give_fractional_keys():
    config = validate_config(
        {
            "experiment": {
                "tasks": ["imbalance"],
                "protocols": ["augment"],
                "seeds": [0],
                "augment": {"n_aug": {"geometric": {"start": 1, "stop": 256, "points": 12}}},
            },
            "methods": ["smote"],
        }
    )
    keys = [g.key for g in expand_grid(config, "craft") if g.point.method == "smote"]
    assert keys[:3] == [
        "craft/imbalance/augment/smote/N=0s/seed=0/xgboost",
        "craft/imbalance/augment/smote/N=1s/seed=0/xgboost",
        "craft/imbalance/augment/smote/N=1.66s/seed=0/xgboost",
    ]
    assert keys[-1] == "craft/imbalance/augment/smote/N=256s/seed=0/xgboost"
    assert len(set(keys)) == len(keys) == 13


def test_the_oracles_dose_ladder_runs_at_every_k_above_zero_and_around_the_augment_grid():
    config = sweep_config(protocols=("ratio", "augment"), methods=("raw", "smote", "oracle"), ks=(0, 1, 3))
    grid = expand_grid(config, "craft")
    ratio = Counter(
        (g.point.k, g.point.dose)
        for g in grid
        if g.point.experiment == "ratio" and g.point.method == "oracle"
    )
    assert ratio == Counter(
        {(k, d): 2 for k in (0, 1, 3) for d in (1.0,)} | {(k, d): 2 for k in (1, 3) for d in (0.25, 0.5, 2.0)}
    )
    augment = {
        (g.point.n_aug_units, g.point.dose)
        for g in grid
        if g.point.experiment == "augment" and g.point.method == "oracle"
    }
    assert augment == {(0, 1.0), (2, 1.0), (4, 1.0), (0, 0.25), (0, 0.5), (8, 1.0)}
    keys = [g.key for g in grid]
    assert "craft/imbalance/ratio/oracle/k=3/dose=0.25/seed=1/xgboost" in keys
    assert len(set(keys)) == len(keys)
    # the ladder is off with an empty list, and a dose of 1 is the point itself
    off = validate_config(
        {
            **config.model_dump(mode="json"),
            "experiment": {**config.experiment.model_dump(mode="json"), "oracle_doses": []},
        }
    )
    assert all(g.point.dose == 1 for g in expand_grid(off, "craft"))
    with pytest.raises(SynthscaleError, match="oracle_doses.*1 is the oracle's own point"):
        validate_config({"experiment": {"oracle_doses": [0.5, 1]}})
