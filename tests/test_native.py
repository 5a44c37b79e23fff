"""The native protocol: stratified k-fold on the table as it is, each sampler balancing the
training fold, metrics on the held-out fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from synthscale.config import ExperimentConfig, validate_config
from synthscale.data import prepare_dataset
from synthscale.errors import SynthscaleError
from synthscale.experiments import Point, build_training_set, fold_counts, synthetic_segments
from synthscale.splits import make_fold_split
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.runner import run_sweep
from synthscale.targets import Target


@pytest.fixture(scope="module")
def imbalanced(craft_table):
    """craft with three in four minority rows left out: about 1 : 3."""
    minority = craft_table.index[craft_table["Target"] == 1]
    table = craft_table.drop(index=minority[minority % 4 != 0])
    return prepare_dataset(table, label="Target", spurious="X6", minority=1, spurious_positive=1)


NATIVE = {
    "dataset": {"name": "keel/vehicle0"},  # 846 rows, 199 of the minority class
    "experiment": {"tasks": ["imbalance"], "protocols": ["native"], "seeds": [0, 1, 2, 3, 4]},
    "methods": ["raw", "ros", "smote_aug"],
    "generator": {"diagnostics": False},
    "resources": {"fits_per_trial": 10},
}


def test_the_folds_are_stratified_disjoint_and_test_every_row_once(imbalanced):
    craft = imbalanced
    splits = [make_fold_split(craft, 5, replicate) for replicate in range(5)]
    tested = np.concatenate([s.test_index for s in splits])
    assert sorted(tested.tolist()) == list(range(len(craft.y)))  # every row tested exactly once
    for split in splits:
        assert not set(split.test_index) & set(split.train_index)
        assert len(split.test_index) + len(split.train_index) == len(craft.y)
        share = craft.y[split.test_index].mean()
        assert share == pytest.approx(craft.y.mean(), abs=0.02)  # stratified by class
        assert np.array_equal(split.balanced_index, split.train_index)  # what a generator sees
    assert not np.array_equal(make_fold_split(craft, 5, 5).test_index, splits[0].test_index)  # next repeat


def test_a_group_smaller_than_the_folds_is_refused(craft):
    with pytest.raises(SynthscaleError, match="fewer than experiment.native.folds=500"):
        make_fold_split(craft, 500, 0)


def test_each_sampler_raises_the_minority_to_the_majoritys_count(imbalanced):
    craft = imbalanced
    split = make_fold_split(craft, 5, 0)
    counts = fold_counts(craft, split, "imbalance")
    n_min, n_maj = counts[Target("y1")], counts[Target("y0")]
    config = ExperimentConfig(protocols=["native"])
    segments = synthetic_segments(Point("imbalance", "native", "smote"), 200, config, counts)
    assert [(s.target, s.stop - s.start, s.weight) for s in segments] == [(Target("y1"), n_maj - n_min, 1.0)]
    pool = {Target("y1"): craft.features.iloc[: n_maj - n_min].reset_index(drop=True)}
    training = build_training_set(craft, split, Point("imbalance", "native", "smote"), pool, 200, config)
    assert (training.y == 1).sum() == (training.y == 0).sum() == n_maj
    assert training.n_real == len(split.train_index) and training.n_aug == 0
    raw = build_training_set(craft, split, Point("imbalance", "native", "raw"), {}, 200, config)
    assert raw.n_synthetic == 0 and len(raw.y) == len(split.train_index)


def test_native_runs_alone_and_aug_methods_are_their_samplers():
    with pytest.raises(ValidationError, match="run native in a sweep of its own"):
        ExperimentConfig(protocols=["ratio", "native"])
    config = validate_config(NATIVE)
    keys = [g.key for g in expand_grid(config, "vehicle0") if g.seed == 0]
    assert keys == [
        "vehicle0/imbalance/native/raw/balanced/seed=0/xgboost",
        "vehicle0/imbalance/native/ros/balanced/seed=0/xgboost",
        "vehicle0/imbalance/native/smote/balanced/seed=0/xgboost",
    ]
    plan = plan_sweep(config)
    for spec in plan.pool_specs:  # each seed's pool holds exactly its fold's shortfall
        counts = fold_counts(plan.datasets["vehicle0"], plan.split_of(spec), "imbalance")
        assert dict(spec.demand) == {Target("y1"): counts[Target("y0")] - counts[Target("y1")]}


def test_a_native_sweep_scores_every_fold(ray_local, tmp_path):
    result = run_sweep(validate_config(NATIVE), tmp_path / "out", show_progress=False)
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(result.results) == len(table) == 15  # 3 methods x 5 folds
    assert set(table["experiment"]) == {"native"} and sorted(table["seed"].unique()) == [0, 1, 2, 3, 4]
    assert table[["auc", "minority_f1", "balanced_accuracy", "balanced_ce"]].notna().all().all()
    balanced = table[table["method"] != "raw"]
    assert (balanced["n_synthetic"] > 0).all() and (balanced["ratio"] > 1).all()  # ratio: real rows
    # report: figures and tables without a scaling law to fit (no augment rows)
    from synthscale.cli import main

    assert (
        main(["report", str(tmp_path / "out" / "results.csv"), "-o", str(tmp_path / "r"), "--no-mlflow"]) == 0
    )
    assert (tmp_path / "r" / "index.html").exists() and not (tmp_path / "r" / "exponents.csv").exists()


def test_adasyn_tops_up_a_fold_whose_last_rows_round_to_nothing():
    """pima, fold 3: ADASYN's second round asked for a few rows spread over 214, rounded every
    share to zero and raised; it now asks again with more slack and returns exactly n rows."""
    from synthscale.config import DatasetConfig, GeneratorConfig
    from synthscale.data import load_dataset
    from synthscale.sweep.pools import PoolSpec, build_pool

    pima = load_dataset(DatasetConfig(name="keel/pima"))
    split = make_fold_split(pima, 5, 3)
    counts = fold_counts(pima, split, "imbalance")
    n = counts[Target("y0")] - counts[Target("y1")]
    pool = build_pool(
        PoolSpec("pima", "imbalance", "adasyn", 3, "seed", ((Target("y1"), n),)),
        pima,
        split,
        GeneratorConfig(),
    )
    assert len(pool.rows[Target("y1")]) == n
