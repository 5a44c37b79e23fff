"""One generator on two Ray Train workers (gloo on CPU) against one process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.config import GeneratorConfig, LLMConfig, SplitConfig
from synthscale.samplers.llm import sampler as llm_sampler
from synthscale.splits import make_split
from synthscale.sweep.pools import PoolSpec, build_pool
from synthscale.sweep.workers import WorkerResources, build_pool_on_workers

STEPS = 40
TOLERANCE = 1e-3  # per step's loss: float sums in another order, nothing more
SPEC = PoolSpec("craft", "imbalance", "llm", 0, "seed", (("y0", 30), ("y1", 70)))
SMALL = dict(tiny_layers=1, tiny_width=32, tiny_heads=2, tiny_dropout=0.0, max_steps=STEPS, batch_size=32)


def generator(cache) -> GeneratorConfig:
    """Without dropout, whose masks no two process counts can share, the runs can agree."""
    return GeneratorConfig(llm=LLMConfig(**SMALL, max_rows_per_batch=16, cache_dir=str(cache)))


@pytest.fixture(scope="module")
def split(craft):
    return make_split(craft, SplitConfig(seed_size=80), split_seed=0)


@pytest.fixture(scope="module")
def two_workers(ray_local, craft, split, tmp_path_factory):
    """(pool, model cache): 16 rows of every batch of 32 on each of 2 workers, one CPU each."""
    cache = tmp_path_factory.mktemp("two-workers")
    pool = build_pool_on_workers(SPEC, craft, split, generator(cache), WorkerResources(2, 1, 0))
    return pool, cache


def test_two_workers_train_as_one_process_of_their_global_batch(
    two_workers, craft, split, tmp_path, monkeypatch
):
    """Same initial weights, same global batches, gradients averaged: the same loss curve."""
    monkeypatch.setattr(llm_sampler, "_LOADED", {})
    one = build_pool(SPEC, craft, split, generator(tmp_path)).model
    two = two_workers[0].model
    assert one["source"] == two["source"] == "trained" and one["steps"] == two["steps"] == STEPS
    assert one["key"] == two["key"]  # the worker count is not the model's business
    curve_one, curve_two = np.array(one["losses"]), np.array(two["losses"])
    np.testing.assert_allclose(curve_two, curve_one, atol=TOLERANCE)
    assert curve_two[-10:].mean() < curve_two[:10].mean() - 0.5  # it learned


def test_rows_sampled_on_two_workers_are_one_processs_rows(two_workers, craft, split, monkeypatch):
    """The same cached model sampled by one process: the very same rows, in order."""
    pool, cache = two_workers
    monkeypatch.setattr(llm_sampler, "_LOADED", {})
    again = build_pool(SPEC, craft, split, generator(cache))
    assert again.model["source"] == "disk cache" and again.model["key"] == pool.model["key"]
    for target, rows in pool.rows.items():
        pd.testing.assert_frame_equal(again.rows[target], rows)


@pytest.mark.slow  # two Ray Train starts: about 1.5 minutes
def test_a_sweep_builds_its_llm_pools_on_two_workers(ray_local, small_sweep, tmp_path):
    """The sweep's path: the pool task holds no CPU, its two workers take one each; both tasks
    of the replicate are served by the one model the first trained."""
    from synthscale.config import validate_config
    from synthscale.sweep.runner import run_sweep

    sweep = {
        **small_sweep,
        "experiment": {**small_sweep["experiment"], "ratio": {"ks": [1]}},
        "methods": ["llm"],
        "downstream": {"classifiers": ["xgboost"]},
        "generator": {
            "diagnostics": False,
            "llm": {**SMALL, "max_steps": 10, "cache_dir": str(tmp_path / "models")},
        },
        "resources": {"generator_workers": 2},
    }
    result = run_sweep(validate_config(sweep), tmp_path / "out", show_progress=False)
    assert len(result.results) == 2 and result.results["minority_ce"].notna().all()
    (model,) = [
        entry for entry in (tmp_path / "models").iterdir() if entry.is_dir()
    ]  # trained once, by worker 0
    assert (model / "synthscale.json").is_file() and not list((tmp_path / "models").glob("*.partial-*"))
