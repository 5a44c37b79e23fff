"""The LLM generator inside a sweep: pools from one model per replicate, reused next time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.config import validate_config
from synthscale.sweep.runner import run_sweep


def llm_sweep(cache_dir) -> dict:
    return {
        "name": "llm_small",
        "dataset": {"name": "craft", "craft_rows": 1500},
        "split": {"seed_size": 40},
        "experiment": {
            "tasks": ["imbalance", "spurious"],
            "protocols": ["ratio", "augment"],
            "seeds": [0],
            "ratio": {"ks": [0, 2]},
            "augment": {"n_aug": [0, 2]},
        },
        "methods": ["raw", "llm", "llm_aug"],
        "generator": {
            "llm": {
                "max_steps": 15,
                "tiny_layers": 1,
                "tiny_width": 32,
                "tiny_heads": 2,
                "cache_dir": str(cache_dir),
            }
        },
        "resources": {"fits_per_trial": 20},
    }


@pytest.fixture(scope="module")
def two_sweeps(ray_local, tmp_path_factory):
    """The same sweep twice into fresh out dirs, sharing only the model cache."""
    cache_dir = tmp_path_factory.mktemp("models")
    config = validate_config(llm_sweep(cache_dir))
    first = run_sweep(config, tmp_path_factory.mktemp("first"), show_progress=False)
    second = run_sweep(config, tmp_path_factory.mktemp("second"), show_progress=False)
    return cache_dir, first, second


def llm_pools(result) -> pd.DataFrame:
    pools = pd.read_csv(result.out_dir / "pools.csv")
    return pools.loc[pools["sampler"] == "llm"].set_index(["task", "target"]).sort_index()


def test_one_model_serves_both_tasks_of_a_replicate(two_sweeps):
    cache_dir, first, _ = two_sweeps
    pools = llm_pools(first)
    assert len([p for p in cache_dir.iterdir() if p.is_dir()]) == 1
    assert (pools.loc["imbalance", "model_reused"] == 0).all()  # trained by the first pool
    assert (pools.loc["spurious", "model_reused"] == 1).all()  # loaded by the second


def test_every_llm_row_is_valid_and_counted(two_sweeps):
    _, first, _ = two_sweeps
    pools = llm_pools(first)
    assert (pools["validity"] == 1.0).all() and (pools["rows_dropped"] == 0).all()
    assert (pools["rows_generated"] == pools["n_rows"]).all()
    assert (pools["training_steps"] == 15).all()


def test_second_sweep_reuses_the_model(two_sweeps):
    _, first, second = two_sweeps
    assert (llm_pools(second)["model_reused"] == 1).all()
    columns = ["task", "experiment", "method", "ratio", "n_aug", "minority_ce"]
    pd.testing.assert_frame_equal(
        first.results[columns].sort_values(columns[:5]).reset_index(drop=True),
        second.results[columns].sort_values(columns[:5]).reset_index(drop=True),
    )


def test_llm_points_have_finite_risks(two_sweeps):
    _, first, _ = two_sweeps
    results = first.results
    llm = results.loc[results["method"].isin(["llm", "llm_aug"])]
    assert len(llm) > 0 and np.isfinite(llm["minority_ce"]).all()


def test_mlflow_holds_each_generators_loss_curve_linked_to_its_pools(two_sweeps):
    from mlflow import MlflowClient

    from synthscale.sweep.tracking import GENERATOR_TAG, PARENT_TAG, POOLS_TAG

    _, first, second = two_sweeps
    client = MlflowClient(tracking_uri=first.tracking_uri)
    runs = client.search_runs(
        [first.experiment_id],
        f"tags.`{PARENT_TAG}` = '{first.parent_run_id}' and tags.`{GENERATOR_TAG}` LIKE '%'",
    )
    assert len(runs) == 1  # one model serves both tasks of the replicate
    (run,) = runs
    losses = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in losses] == list(range(1, 16)) and all(np.isfinite(m.value) for m in losses)
    assert run.data.params["source"] == "trained" and run.data.params["steps"] == "15"
    llm_pool_keys = set(first.results.loc[first.results["method"] == "llm", "pool"])
    assert set(run.data.tags[POOLS_TAG].split(",")) == llm_pool_keys and len(llm_pool_keys) == 2
    # the second sweep reused the model: its run still shows the curve the model was trained with
    reused = MlflowClient(tracking_uri=second.tracking_uri).search_runs(
        [second.experiment_id], f"tags.`{GENERATOR_TAG}` = '{run.data.tags[GENERATOR_TAG]}'"
    )
    assert len(reused) == 1


def test_the_terminal_shows_training_progress_and_loss(ray_local, tmp_path, capfd):
    """Training is the slowest step of a sweep: its bar counts the steps and shows the loss."""
    config = validate_config({**llm_sweep(tmp_path / "models"), "experiment": {
        "tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0], "ratio": {"ks": [2]}}})  # fmt: skip
    run_sweep(config, tmp_path / "out", show_progress=True)
    err = capfd.readouterr().err  # at the file descriptor: Tune pickles the bar's stream
    assert "training generators" in err and "15/15" in err
    assert "llm craft seed0 access=seed: loss " in err
