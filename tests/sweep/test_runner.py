"""A small sweep end to end: Ray Tune trials, one MLflow child run per results.csv row."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthscale.config import validate_config
from synthscale.errors import SynthscaleError
from synthscale.sweep import layout
from synthscale.sweep.build import build_pools
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.results import RESULT_COLUMNS, diagnostics_table, results_table
from synthscale.sweep.runner import run_sweep
from synthscale.sweep.tracking import GRID_KEY_TAG, PARENT_TAG
from synthscale.sweep.trials import SweepInputs, run_trial

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # as in conftest.py
SMALL_SWEEP = {
    "name": "small",
    "dataset": {"name": "craft", "craft_rows": 2000},
    "split": {"seed_size": 40},
    "experiment": {
        "tasks": ["imbalance", "spurious"],
        "protocols": ["ratio", "augment"],
        "seeds": [0, 1],
        "ratio": {"ks": [0, 3]},
        "augment": {"n_aug": [0, 2]},
    },
    "methods": ["raw", "smote", "ros_aug", "oracle"],
    "downstream": {"classifiers": ["xgboost", "logistic_regression"]},
    "resources": {"fits_per_trial": 12},
}


@pytest.fixture(scope="module")
def small_run(ray_local, tmp_path_factory):
    config = validate_config(SMALL_SWEEP)
    out_dir = tmp_path_factory.mktemp("sweep")
    return config, run_sweep(config, out_dir, show_progress=False)


def test_results_csv_has_one_row_per_grid_point(small_run):
    config, result = small_run
    table = pd.read_csv(result.out_dir / "results.csv")
    keys = [g.key for g in expand_grid(config, "craft")]
    # ratio: 4 methods x 2 k, and the oracle's 3 doses at k = 3; augment: raw, 3 samplers' and the
    # oracle's 2 N, all_real, and the oracle's ladder (2 doses of N = 0's balancing rows, N = 4)
    assert len(table) == len(keys) == 2 * 2 * 2 * (4 * 2 + 3 + (1 + 3 * 2 + 1) + 3)
    assert table["grid_key"].tolist() == keys
    assert set(RESULT_COLUMNS) <= set(table.columns)
    risks = table[["minority_ce", "balanced_ce", "worst_group_ce", "overall_ce", "balanced_accuracy"]]
    assert np.isfinite(risks.to_numpy()).all()
    # each row's summary risks come from its own task's group columns
    for task, groups in (
        ("imbalance", ["ce_y0", "ce_y1"]),
        ("spurious", ["ce_a0_y0", "ce_a0_y1", "ce_a1_y0", "ce_a1_y1"]),
    ):
        rows = table[table["task"] == task]
        assert len(rows) and np.allclose(rows["worst_group_ce"], rows[groups].max(axis=1), rtol=1e-12)
        assert np.allclose(rows["balanced_ce"], rows[groups].mean(axis=1), rtol=1e-12)
    assert np.allclose(
        table.loc[table["task"] == "imbalance", "minority_ce"],
        table.loc[table["task"] == "imbalance", "ce_y1"],
    )


def test_recalibration_lowers_the_balanced_ce_and_the_oracle_trains_on_real_rows(small_run):
    """On a real sweep, every fit is scored again after recalibration on the held-out calibration
    rows: on average that lowers the balanced CE (raw's on an unbalanced base most), and AUC
    has no twin. The oracle adds real rows only."""
    _, result = small_run
    table = pd.read_csv(result.out_dir / "results.csv")
    calibrated = table[["balanced_ce_cal", "minority_ce_cal", "worst_group_ce_cal", "brier_cal"]]
    assert np.isfinite(calibrated.to_numpy()).all() and "auc_cal" not in table
    assert table["balanced_ce_cal"].mean() < table["balanced_ce"].mean()
    oracle = table[table["method"] == "oracle"]
    assert len(oracle) and (oracle["n_synthetic"] == 0).all() and (oracle["data_access"] == "none").all()
    assert (oracle["n_real"] == oracle["n_train"]).all()
    # raw on an unbalanced base is the most miscalibrated of all: a large, stable drop
    raw = table[(table["experiment"] == "ratio") & (table["ratio"] > 1) & (table["method"] == "raw")]
    assert raw["balanced_ce_cal"].mean() < raw["balanced_ce"].mean() - 0.1


def test_the_sweeps_trials_report_what_their_work_computes_without_ray(small_run):
    """Tune, MLflow and the collector add nothing to, and lose nothing of, each trial's work."""
    config, result = small_run
    plan = plan_sweep(config)
    inputs = SweepInputs.of(plan, build_pools(plan, result.out_dir / "pools"))
    outcomes = [run_trial(trial_id, inputs) for trial_id in inputs.trial_ids]
    records = [r for outcome in outcomes for r in outcome.get("records", [])]
    diagnostics = diagnostics_table([r for outcome in outcomes for r in outcome.get("diagnostics", [])])
    expected = results_table(records, plan.grid, diagnostics)
    table = pd.read_csv(result.out_dir / "results.csv", keep_default_na=False, na_values=[""])
    assert list(table.columns) == list(expected.columns)
    numbers = expected.select_dtypes("number").columns
    assert np.allclose(
        table[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=1e-9, equal_nan=True
    )
    assert (table["pool"].fillna("") == expected["pool"]).all()


def test_results_carry_n_in_the_yamls_units_beside_rows(small_run):
    """n_aug counts the weighted augmentation rows (an _aug method's ratio points have some too);
    n_aug_units is the augment grid's N as the YAML writes it, in units of s."""
    config, result = small_run
    table = pd.read_csv(result.out_dir / "results.csv")
    augment = table[table["experiment"] == "augment"]
    oracle = augment["method"] == "oracle"
    assert sorted(augment.loc[~oracle, "n_aug_units"].unique()) == [0, 2]  # SMALL_SWEEP's n_aug
    assert sorted(augment.loc[oracle, "n_aug_units"].unique()) == [0, 2, 4]  # and the ladder's 2 x 2
    with_aug = augment[augment["method"] != "raw"]
    assert (with_aug["n_aug"] == with_aug["n_aug_units"] * config.split.seed_size).all()


def test_mlflow_holds_exactly_one_child_run_per_row(small_run):
    from mlflow import MlflowClient

    _, result = small_run
    client = MlflowClient(tracking_uri=result.tracking_uri)
    experiment = client.get_experiment_by_name("synthscale")
    runs = client.search_runs([experiment.experiment_id], max_results=10000)
    parents = [r for r in runs if PARENT_TAG not in r.data.tags]
    children = [r for r in runs if r.data.tags.get(PARENT_TAG) == result.parent_run_id]
    assert [p.info.run_id for p in parents] == [result.parent_run_id]
    assert len(children) == len(runs) - 1 == len(result.results)
    child_keys = [c.data.tags[GRID_KEY_TAG] for c in children]
    assert sorted(child_keys) == sorted(result.results["grid_key"])
    assert all(c.info.status == "FINISHED" for c in children)
    row = result.results.iloc[5]
    child = next(c for c in children if c.data.tags[GRID_KEY_TAG] == row["grid_key"])
    assert child.data.metrics["minority_ce"] == pytest.approx(row["minority_ce"])
    assert child.data.params["method"] == row["method"]


def test_pools_are_built_once_per_task_sampler_and_seed(small_run):
    _, result = small_run
    entries = [p for p in (result.out_dir / "pools").iterdir() if p.is_dir()]
    assert len(entries) == 2 * 2 * 2  # tasks x samplers (smote, ros) x seeds
    assert not [p for p in entries if ".partial-" in p.name]
    used = result.results.loc[result.results["pool"] != "", "pool"].unique()
    assert sorted(used) == sorted(p.name for p in entries)


def test_mlflow_artifacts_stay_in_the_out_dir(small_run):
    _, result = small_run
    assert sorted(p.name for p in (result.out_dir / "mlartifacts").rglob("*.csv")) == [
        "pools.csv",
        "results.csv",
    ]
    assert len(list((result.out_dir / "mlartifacts").rglob("config.resolved.yaml"))) == 1


def test_every_pool_target_is_diagnosed_and_joined_to_results(small_run):
    _, result = small_run
    diagnostics = pd.read_csv(result.out_dir / "pools.csv")
    assert len(diagnostics) == 2 * 2 * (2 + 4)  # samplers x seeds x (imbalance, spurious targets)
    assert diagnostics["detection_auc"].between(0, 1).all()
    ros = diagnostics[diagnostics["sampler"] == "ros"]
    assert (ros["exact_copy_rate"] == 1.0).all()  # random oversampling copies real rows
    smote_rows = result.results[result.results["method"] == "smote"]
    expected = diagnostics.groupby("pool")["detection_auc"].mean()
    assert np.allclose(smote_rows["pool_detection_auc"], expected.loc[smote_rows["pool"]].to_numpy())
    assert result.results.loc[result.results["method"] == "raw", "pool_detection_auc"].isna().all()


def test_the_sweeps_sqlite_store_lets_workers_write_concurrently(small_run):
    import sqlite3

    _, result = small_run
    connection = sqlite3.connect(result.out_dir / "mlflow.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_config_that_ran_is_saved(small_run):
    config, result = small_run
    from synthscale.config import load_config

    saved = load_config(result.out_dir / "config.resolved.yaml")
    assert saved == plan_sweep(config).config  # with the values the data resolved filled in
    assert saved.model_copy(update={"dataset": config.dataset}) == config


def test_the_sweep_writes_only_what_the_out_dir_layout_names(small_run):
    config, result = small_run
    named = set(layout.ENTRIES)
    written = {p.name for p in result.out_dir.iterdir()}
    sqlite_side_files = {name for name in written if name.startswith(f"{layout.TRACKING_DB}-")}  # -wal, -shm
    assert written - sqlite_side_files <= named
    assert {layout.RESULTS, layout.CONFIG, layout.FITS, layout.TRACKING_DB} <= written
    out = layout.OutDir(result.out_dir)
    records = sorted(out.fits.glob("*.json"))
    assert records == sorted(out.fit_record(batch.batch_id) for batch in plan_sweep(config).batches)
    mask = os.umask(0o022)
    os.umask(mask)
    if mask == 0o022:  # colleagues on a shared file system can read every file of the sweep
        files = [out.results, out.config, out.pools_table, *records, *out.pool_cache.rglob("*.*")]
        assert all(stat.S_IMODE(f.stat().st_mode) & 0o044 == 0o044 for f in files)


def test_a_finished_sweep_directory_is_refused(small_run):
    config, result = small_run
    with pytest.raises(SynthscaleError, match="already holds a finished sweep"):
        run_sweep(config, result.out_dir, show_progress=False)


def test_ratio_needing_more_rows_than_the_pool_fails_before_writing(tmp_path):
    raw = {**SMALL_SWEEP, "experiment": {**SMALL_SWEEP["experiment"], "ratio": {"ks": [0, 200]}}}
    with pytest.raises(SynthscaleError, match="real rows of pool"):
        plan_sweep(validate_config(raw))


def test_a_fit_finds_and_logs_to_the_sweeps_parent_run(small_run, tmp_path):
    from synthscale.fit import fit_metrics
    from synthscale.sweep.runner import sweep_tracker_for_results

    _, result = small_run
    tracker = sweep_tracker_for_results(result.out_dir / "results.csv")
    assert tracker.parent_id == result.parent_run_id
    exponents = pd.DataFrame(
        [dict(metric="minority_ce", dataset="craft", task="imbalance", method="smote", classifier="xgboost", alpha=0.7,
              alpha_ci_low=0.5, alpha_ci_high=0.9, theory_p_value=0.01, L_inf=0.8, C=0.4, r2=float("nan"))]
    )  # fmt: skip
    tracker.log_parent_metrics(fit_metrics(exponents))
    metrics = tracker.client.get_run(result.parent_run_id).data.metrics
    assert metrics["fit/minority_ce/craft/imbalance/smote/xgboost/alpha"] == 0.7
    assert "fit/minority_ce/craft/imbalance/smote/xgboost/r2" not in metrics
    assert sweep_tracker_for_results(tmp_path / "results.csv") is None


def test_report_figures_are_logged_to_the_sweeps_parent_run(small_run, tmp_path):
    from synthscale.cli import main
    from synthscale.sweep.runner import sweep_tracker_for_results

    _, result = small_run
    results = result.results
    curve = results.loc[(results["experiment"] == "augment") & (results["n_aug"] > 0)]
    # N x 3, 4, 5: the oracle's dose ladder already runs N x 2
    longer = [curve.assign(n_aug=curve["n_aug"] * f, minority_ce=curve["minority_ce"] / f) for f in (3, 4, 5)]
    extended = result.out_dir / "results_extended.csv"  # beside the sweep: the report finds its run
    pd.concat([results, *longer]).to_csv(extended, index=False)
    assert main(["report", str(extended), "-o", str(tmp_path / "report")]) == 0
    tracker = sweep_tracker_for_results(extended)
    logged = [a.path for a in tracker.client.list_artifacts(result.parent_run_id, "report")]
    assert "report/index.html" in logged
    assert {p.name for p in (tmp_path / "report").glob("*.svg")} == {
        name.removeprefix("report/") for name in logged if name.endswith(".svg")
    }


TWO_DATASETS = {
    "name": "two-datasets",
    "datasets": [
        {"name": "craft", "craft_rows": 1500},
        {"name": None, "path": str(SHARED_DATA / "gender.csv"), "label": "gender", "spurious": "long_hair"},
    ],
    "split": {"seed_size": 40},
    "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0], "ratio": {"ks": [0, 2]}},
    "methods": ["raw", "smote"],
    "resources": {"fits_per_trial": 2},
}


def test_one_sweep_runs_the_grid_over_every_dataset(ray_local, tmp_path):
    from mlflow import MlflowClient

    config = validate_config(TWO_DATASETS)
    result = run_sweep(config, tmp_path / "out", show_progress=False)
    table = pd.read_csv(result.out_dir / "results.csv")
    keys = [g.key for name in ("craft", "gender") for g in expand_grid(config, name)]
    assert sorted(table["grid_key"]) == sorted(keys) and len(keys) == 2 * 2 * 2
    assert table.groupby("dataset").size().to_dict() == {"craft": 4, "gender": 4}
    pools = pd.read_csv(result.out_dir / "pools.csv")
    assert sorted(pools["dataset"].unique()) == ["craft", "gender"]
    # each dataset's fits read its own pool: pool keys never cross datasets
    by_dataset = table[table["method"] == "smote"].groupby("dataset")["pool"].unique()
    assert not set(by_dataset["craft"]) & set(by_dataset["gender"])
    client = MlflowClient(tracking_uri=result.tracking_uri)
    children = client.search_runs(
        [client.get_experiment_by_name("synthscale").experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = '{result.parent_run_id}'",
    )
    assert sorted(r.data.tags[GRID_KEY_TAG] for r in children) == sorted(keys)
    assert client.get_run(result.parent_run_id).data.params["dataset"] == "craft,gender"


def test_two_datasets_with_one_name_are_refused_with_the_alias_fix():
    config = validate_config(
        {**TWO_DATASETS, "datasets": [{"name": "craft"}, {"name": "craft", "craft_seed": 1}]}
    )
    with pytest.raises(SynthscaleError, match=r"datasets\.1: a second dataset named 'craft'.*alias"):
        plan_sweep(config)


TWO_ACCESSES = {
    "name": "two-accesses",
    "dataset": {"name": "craft", "craft_rows": 1500},
    "split": {"seed_size": 40},
    "experiment": {
        "tasks": ["imbalance"],
        "protocols": ["augment"],
        "seeds": [0],
        "augment": {"n_aug": [0, 2]},
    },
    "methods": ["raw", "smote", "independent"],
    "generator": {"data_access": ["train", "seed"]},
    "resources": {"fits_per_trial": 10},
}


def test_a_sweep_over_two_data_accesses_fits_each_sampler_per_access_and_raw_once(ray_local, tmp_path):
    from mlflow import MlflowClient

    config = validate_config(TWO_ACCESSES)
    result = run_sweep(config, tmp_path / "out", show_progress=False)
    table = pd.read_csv(result.out_dir / "results.csv")
    assert table["grid_key"].tolist() == [g.key for g in expand_grid(config, "craft")]
    # "none" survives the CSV round trip, so a groupby keeps raw and all_real
    assert table.groupby(["method", "data_access"]).size().to_dict() == {
        ("all_real", "none"): 1,
        ("independent", "seed"): 2,
        ("independent", "train"): 2,
        ("raw", "none"): 1,
        ("smote", "seed"): 2,
        ("smote", "train"): 2,
    }
    pools_used = table.dropna(subset=["pool"]).groupby(["method", "data_access"])["pool"].unique()
    assert all(len(keys) == 1 for keys in pools_used)  # one pool per sampler and access...
    assert len({keys[0] for keys in pools_used}) == 4  # ...and no two share one
    diagnostics = pd.read_csv(result.out_dir / "pools.csv")
    assert diagnostics.groupby(["sampler", "data_access"]).size().to_dict() == {
        (sampler, access): 2 for sampler in ("independent", "smote") for access in ("seed", "train")
    }
    client = MlflowClient(tracking_uri=result.tracking_uri)
    children = client.search_runs(
        [client.get_experiment_by_name("synthscale").experiment_id],
        f"tags.mlflow.parentRunId = '{result.parent_run_id}'",
    )
    logged = {c.data.tags[GRID_KEY_TAG]: c.data.params["data_access"] for c in children}
    assert logged == dict(zip(table["grid_key"], table["data_access"], strict=True))
    parent = client.get_run(result.parent_run_id).data
    # the parent holds the config as dotted params and the pools' diagnostics as a table, not as metrics
    assert (
        parent.params["generator.data_access"] == '["train", "seed"]' and parent.params["name"] == config.name
    )
    assert not [m for m in parent.metrics if m.startswith("pool/")]
    artifacts = {a.path for a in client.list_artifacts(result.parent_run_id)}
    assert {"pools.csv", "pools_table.json", "results.csv"} <= artifacts


def test_the_out_dir_keeps_a_log_of_everything_the_sweep_logged(small_run):
    _, result = small_run
    log = (result.out_dir / "synthscale.log").read_text()
    assert " INFO synthscale.sweep.trials: trial " in log and " fits in " in log
