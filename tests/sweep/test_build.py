"""Phase 1 as the sweep runs it: every pool of a plan read from the cache or built once, on the
driver or as Ray tasks, never half written."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from synthscale.config import validate_config
from synthscale.sweep import build as build_module
from synthscale.sweep.build import build_pools, model_waves
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.pools import CACHE_VERSION, MANIFEST_FILE, POOL_FILE, PoolSpec


@pytest.fixture(scope="module")
def plan():
    config = validate_config(
        {
            "dataset": {"name": "craft", "craft_rows": 1000},
            "split": {"seed_size": 40},
            "experiment": {
                "tasks": ["imbalance", "spurious"],
                "protocols": ["ratio"],
                "seeds": [0, 1],
                "ratio": {"ks": [0, 2]},
            },  # fmt: skip
            "methods": ["raw", "smote", "ros"],
            "generator": {"diagnostics": False},
        }
    )
    return plan_sweep(config)


def assert_same_pools(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for slot, pool in expected.items():
        assert actual[slot].key == pool.key and actual[slot].spec == pool.spec
        assert set(actual[slot].rows) == set(pool.rows)
        for target, rows in pool.rows.items():
            pd.testing.assert_frame_equal(actual[slot].rows[target], rows)


def forbid_building(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("build_pool called although a valid cache entry exists")

    monkeypatch.setattr(build_module, "build_pool", fail)


def test_every_planned_pool_is_built_once_then_read_from_the_cache(plan, tmp_path, monkeypatch):
    built = build_pools(plan, tmp_path)
    assert sorted(built) == sorted(spec.slot for spec in plan.pool_specs) and len(built) == 8
    for spec in plan.pool_specs:
        assert {t: len(r) for t, r in built[spec.slot].rows.items()} == dict(spec.demand)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(pool.key for pool in built.values())
    for pool in built.values():
        assert sorted(p.name for p in (tmp_path / pool.key).iterdir()) == sorted([MANIFEST_FILE, POOL_FILE])
    forbid_building(monkeypatch)
    assert_same_pools(build_pools(plan, tmp_path), built)


def test_a_corrupt_entry_is_rebuilt_with_a_warning_and_trusted_again(plan, tmp_path, monkeypatch, caplog):
    built = build_pools(plan, tmp_path)
    broken, truncated = list(built.values())[:2]
    pool_file = tmp_path / broken.key / POOL_FILE
    pool_file.write_bytes(b"not a parquet file" + pool_file.read_bytes()[18:])
    (tmp_path / truncated.key / MANIFEST_FILE).write_text("{ truncated")
    with caplog.at_level(logging.WARNING, logger="synthscale.sweep.pools"):
        rebuilt = build_pools(plan, tmp_path)
    warned = [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]
    assert len(warned) == 2 and broken.key in warned[0] + warned[1] and truncated.key in warned[0] + warned[1]
    assert_same_pools(rebuilt, built)
    assert not any(".partial-" in p.name for p in tmp_path.rglob("*"))
    forbid_building(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="synthscale.sweep.pools"):
        assert_same_pools(build_pools(plan, tmp_path), built)
    assert caplog.records == []


def test_an_entry_of_an_older_cache_version_is_rebuilt_once_with_a_message(plan, tmp_path, caplog):
    built = build_pools(plan, tmp_path)
    older = next(iter(built.values()))
    manifest = tmp_path / older.key / MANIFEST_FILE
    record = json.loads(manifest.read_text())
    del record["cache_version"]  # as synthscale wrote its pools before the cache had versions
    manifest.write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        assert_same_pools(build_pools(plan, tmp_path), built)
    (warned,) = [r.getMessage() for r in caplog.records]
    assert older.key in warned and f"cache version 1; this one reads {CACHE_VERSION}" in warned
    assert json.loads(manifest.read_text())["cache_version"] == CACHE_VERSION


def test_pools_of_a_model_training_sampler_are_built_by_ray_tasks_alike(
    plan, tmp_path, monkeypatch, ray_local
):
    """Pretend ros trains a model: its pools go to Ray tasks in two waves, and come back as the
    driver builds them."""
    on_driver = build_pools(plan, tmp_path / "driver")
    submitted = []
    submit = build_module._submit_pool

    def record_submit(spec, *args):
        submitted.append(spec.slot)
        return submit(spec, *args)

    monkeypatch.setattr(build_module, "sampler_trains_model", lambda name: name == "ros")
    monkeypatch.setattr(build_module, "_submit_pool", record_submit)
    on_ray = build_pools(plan, tmp_path / "ray")
    assert sorted(submitted) == sorted(spec.slot for spec in plan.pool_specs if spec.sampler == "ros")
    assert_same_pools(on_ray, on_driver)
    assert len(list((tmp_path / "ray").iterdir())) == len(on_driver)


def test_the_first_wave_trains_one_model_per_access():
    specs = [
        PoolSpec("craft", task, "llm", 0, access, (("y1", 10),))
        for task in ("imbalance", "spurious")
        for access in ("train", "seed")
    ]
    first, later = model_waves([(f"key{i}", spec) for i, spec in enumerate(specs)])
    assert sorted(spec.data_access for _, spec in first) == ["seed", "train"]
    assert [spec.task for _, spec in first] == ["imbalance", "imbalance"]
    assert len(later) == 2


def test_training_steps_reach_the_driver_without_the_task_waiting():
    """A task blocked in ray.get lends its CPUs out: Ray would start another training on them."""
    sent = []

    class Method:
        def remote(self, item):
            sent.append(item)

    class Actor:
        put_nowait = Method()

    class Queue:
        actor = Actor()

        def put_nowait(self, item):  # the blocking call
            raise AssertionError("waited on the queue")

    forward = build_module.TrainingSteps(Queue(), PoolSpec("craft", "imbalance", "llm", 0, "seed", ()))
    for step in range(4):
        forward(step, 3, 1.5)
    assert [item[1] for item in sent] == [0, 1, 3]  # start, first and last; the rest within a second
    assert sent[0][0] == "llm craft seed0 access=seed"
