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
