"""A trial's work without Ray or MLflow (fit_batch, run_trial) and the tables made from its
records; test_runner.py checks that the sweep's Tune trials report exactly this."""

from __future__ import annotations

from dataclasses import replace

import pytest

from synthscale.config import validate_config
from synthscale.experiments import evaluate_point
from synthscale.sweep.build import build_pools
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.trials import SweepInputs, diagnosis_id, fit_batch, run_trial


def test_the_inputs_hold_every_batch_then_every_pools_diagnosis(inputs):
    plan, sweep_inputs = inputs
    assert sweep_inputs.trial_ids == [b.batch_id for b in plan.batches] + [
        diagnosis_id(s) for s in plan.pool_specs
    ]
    generator = plan.config.generator.model_copy(update={"diagnostics": False})
    quiet = replace(plan, config=plan.config.model_copy(update={"generator": generator}))
    assert SweepInputs.of(quiet, {}).trial_ids == [b.batch_id for b in plan.batches]


def test_fit_batch_gives_one_record_per_fit_as_evaluate_point_computes_it(inputs):
    plan, sweep_inputs = inputs
    config = plan.config
    for batch in plan.batches:
        records = fit_batch(batch, sweep_inputs)
        assert [r["grid_key"] for r in records] == [g.key for g in batch.points]
        split = plan.splits[(batch.dataset, batch.seed)]
        for grid_point, record in zip(batch.points, records, strict=True):
            point = grid_point.point
            pool = sweep_inputs.pools.get((batch.dataset, point.task, "smote", batch.seed, point.data_access))
            uses_pool = point.method == "smote"  # k = 0 reads no row of it, but its slot has one
            assert record["pool"] == (pool.key if uses_pool else "")
            (expected,) = evaluate_point(
                plan.datasets[batch.dataset], split, point, pool.rows if uses_pool else {},
                config.split.seed_size, config.experiment, config.downstream, [grid_point.classifier],
                fit_seed=batch.seed,
            )  # fmt: skip
            assert {k: record[k] for k in expected} == pytest.approx(expected, rel=1e-12)
            assert (record["method"], record["classifier"], record["task"]) == (
                point.method, grid_point.classifier, point.task,
            )  # fmt: skip


def test_k_zero_alone_plans_no_pool_and_fits_on_the_balanced_set(tmp_path, small_sweep):
    experiment = {**small_sweep["experiment"], "ratio": {"ks": [0]}}
    config = validate_config({**small_sweep, "experiment": experiment})
    plan = plan_sweep(config)
    assert plan.pool_specs == []
    sweep_inputs = SweepInputs.of(plan, build_pools(plan, tmp_path))
    records = [r for batch in plan.batches for r in fit_batch(batch, sweep_inputs)]
    assert len(records) == len(plan.grid) and {r["pool"] for r in records} == {""}
    assert {(r["n_synthetic"], r["n_real"]) for r in records} == {(0, config.split.seed_size)}


def test_a_diagnosis_trial_reports_a_row_per_target_of_its_pool(inputs):
    plan, sweep_inputs = inputs
    spec = plan.pool_specs[-1]  # spurious: four groups
    rows = run_trial(diagnosis_id(spec), sweep_inputs)["diagnostics"]
    assert [row["target"] for row in rows] == [target.value for target, _ in spec.demand]
    assert [row["n_rows"] for row in rows] == [n for _, n in spec.demand]
    assert {row["pool"] for row in rows} == {sweep_inputs.pools[spec.slot].key}
    filled = [row for row in rows if row["n_rows"] >= 10]
    assert filled and all(0.0 <= row["detection_auc"] <= 1.0 for row in filled)
    assert len({row["tstr_balanced_accuracy"] for row in rows}) == 1  # one score per pool
    # SMOTE interpolates between seen rows: nearer them than held-out rows, but no copies
    assert all(0.5 < row["holdout_dcr_share"] < 1.0 and row["membership_auc"] > 0.5 for row in filled)
