"""MLflow tracking is exact: a retried batch never logs a grid key twice."""

from __future__ import annotations

import pytest

from synthscale.sweep.layout import OutDir
from synthscale.sweep.tracking import GRID_KEY_TAG, SweepTracker, flat_params, tracker_for


def record(key: str, minority_ce: float) -> dict:
    return {"grid_key": key, "method": "smote", "seed": 0, "n_train": 300, "minority_ce": minority_ce}


@pytest.fixture
def tracker(tmp_path):
    tracker = SweepTracker(OutDir(tmp_path).default_tracking_uri, "tests")
    tracker.start_parent("t", {"n_fits": 3}, [])
    return tracker


def test_a_retried_batch_logs_only_the_missing_fits(tracker):
    assert tracker.log_fits("b0", [record("a", 1.0), record("b", 2.0)]) == 2
    assert tracker.log_fits("b0", [record("a", 1.0), record("b", 2.0), record("c", 3.0)]) == 1
    assert sorted(tracker.logged_keys()) == ["a", "b", "c"]
    assert sorted(tracker.logged_keys("b0")) == ["a", "b", "c"]
    assert tracker.logged_keys("b1") == []


def test_a_run_left_unfinished_by_a_dead_worker_is_replaced(tracker):
    from synthscale.sweep.tracking import BATCH_TAG, PARENT_TAG

    tags = {PARENT_TAG: tracker.parent_id, GRID_KEY_TAG: "a", BATCH_TAG: "b0"}
    orphan = tracker.client.create_run(tracker.experiment_id, tags=tags)  # never finished
    assert tracker.logged_keys() == []
    assert tracker.log_fits("b0", [record("a", 1.0)]) == 1
    (run,) = tracker.child_runs()
    assert run.info.run_id != orphan.info.run_id and run.data.metrics["minority_ce"] == 1.0


def test_child_runs_carry_params_metrics_and_the_grid_key(tracker):
    tracker.log_fits("b0", [record("a", 1.25)])
    (run,) = tracker.client.search_runs([tracker.experiment_id], filter_string=f"tags.`{GRID_KEY_TAG}` = 'a'")
    assert run.data.metrics == {"minority_ce": 1.25}
    assert run.data.params == {"method": "smote", "seed": "0", "n_train": "300"}
    assert run.data.tags["mlflow.parentRunId"] == tracker.parent_id
    assert run.info.status == "FINISHED"


def test_a_worker_tracker_logs_under_the_drivers_parent(tracker):
    worker = tracker_for(tracker.reference())
    assert worker is tracker_for(tracker.reference())
    worker.log_fits("b1", [record("w", 0.5)])
    assert tracker.logged_keys() == ["w"]


def test_the_config_becomes_dotted_params():
    flat = flat_params(
        {"name": "q", "experiment": {"seeds": [0, 1], "ratio": {"ks": [2]}}, "x": None, "b": True}
    )
    assert flat == {
        "name": "q",
        "experiment.seeds": "[0, 1]",
        "experiment.ratio.ks": "[2]",
        "x": "null",
        "b": "true",
    }
