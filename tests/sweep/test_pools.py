"""The content-addressed pool cache: reuse, corruption recovery, atomic entries, and keys."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from synthscale.config import GeneratorConfig, SplitConfig
from synthscale.errors import SynthscaleError
from synthscale.splits import make_split
from synthscale.sweep import pools as pools_module
from synthscale.sweep.pools import (
    MANIFEST_FILE,
    POOL_FILE,
    PoolSpec,
    build_pool,
    load_or_build_pool,
    pool_key,
)

SPLIT_CONFIG = SplitConfig(seed_size=80)
GENERATOR = GeneratorConfig()
IMBALANCE_SPEC = PoolSpec(
    dataset="craft",
    task="imbalance",
    sampler="smote",
    seed=0,
    data_access="seed",
    demand=(("y0", 20), ("y1", 50)),
)
SPURIOUS_SPEC = PoolSpec(
    dataset="craft",
    task="spurious",
    sampler="smote",
    seed=1,
    data_access="seed",
    demand=(("a0_y0", 15), ("a0_y1", 0), ("a1_y0", 5), ("a1_y1", 15)),
)


@pytest.fixture(scope="module")
def split(craft):
    return make_split(craft, SPLIT_CONFIG, split_seed=0)


def load(spec, craft, split, cache_dir, generator=GENERATOR):
    return load_or_build_pool(spec, craft, split, generator, cache_dir)[:2]


def assert_same_pools(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert set(actual) == set(expected)
    for target, rows in expected.items():
        pd.testing.assert_frame_equal(actual[target], rows)


def forbid_building(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("build_pool called although a valid cache entry exists")

    monkeypatch.setattr(pools_module, "build_pool", fail)


@pytest.mark.parametrize("spec", [IMBALANCE_SPEC, SPURIOUS_SPEC], ids=["imbalance", "spurious"])
def test_second_call_reads_the_cache_without_building(craft, split, tmp_path, monkeypatch, spec):
    key, built = load(spec, craft, split, tmp_path)
    assert {t: len(r) for t, r in built.items()} == dict(spec.demand)
    forbid_building(monkeypatch)
    cached_key, cached = load(spec, craft, split, tmp_path)
    assert cached_key == key
    assert_same_pools(cached, built)
    assert sorted(p.name for p in tmp_path.iterdir()) == [key]
    assert sorted(p.name for p in (tmp_path / key).iterdir()) == sorted([MANIFEST_FILE, POOL_FILE])


def test_cached_pool_equals_a_fresh_build(craft, split, tmp_path):
    _, cached = load(IMBALANCE_SPEC, craft, split, tmp_path)
    assert_same_pools(cached, build_pool(IMBALANCE_SPEC, craft, split, GENERATOR)[0])


def test_corrupt_pool_file_is_regenerated_with_a_warning(craft, split, tmp_path, caplog):
    key, built = load(IMBALANCE_SPEC, craft, split, tmp_path)
    pool_file = tmp_path / key / POOL_FILE
    pool_file.write_bytes(b"not a parquet file" + pool_file.read_bytes()[18:])
    with caplog.at_level(logging.WARNING, logger="synthscale.sweep.pools"):
        regenerated_key, regenerated = load(IMBALANCE_SPEC, craft, split, tmp_path)
    assert regenerated_key == key
    assert any("corrupt" in r.getMessage() and key in r.getMessage() for r in caplog.records)
    assert_same_pools(regenerated, built)
    assert [p.name for p in tmp_path.iterdir()] == [key]
    assert not any(".partial-" in p.name for p in tmp_path.rglob("*"))


def test_regenerated_entry_is_trusted_again(craft, split, tmp_path, monkeypatch, caplog):
    key, built = load(IMBALANCE_SPEC, craft, split, tmp_path)
    (tmp_path / key / MANIFEST_FILE).write_text("{ truncated")
    load(IMBALANCE_SPEC, craft, split, tmp_path)
    forbid_building(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="synthscale.sweep.pools"):
        _, cached = load(IMBALANCE_SPEC, craft, split, tmp_path)
    assert caplog.records == []
    assert_same_pools(cached, built)


def test_no_partial_directory_is_left_behind(craft, split, tmp_path):
    for spec in (IMBALANCE_SPEC, SPURIOUS_SPEC):
        load(spec, craft, split, tmp_path)
    names = [p.name for p in tmp_path.rglob("*")]
    assert not [n for n in names if ".partial-" in n or n.endswith(".partial")]
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


def test_failed_build_writes_no_entry(craft, split, tmp_path):
    spec = PoolSpec(
        dataset="craft", task="imbalance", sampler="smote", seed=0, data_access="seed", demand=(("a1_y1", 5),)
    )
    with pytest.raises(SynthscaleError, match=r"\(X6=1, Target=1\) has 0 rows"):
        load(spec, craft, split, tmp_path)
    assert list(tmp_path.iterdir()) == []


def key_of(craft, spec=IMBALANCE_SPEC, split_config=SPLIT_CONFIG, generator=GENERATOR) -> str:
    return pool_key(spec, craft, make_split(craft, split_config, 0), generator)


def test_key_is_stable_for_the_same_settings(craft):
    assert key_of(craft) == key_of(
        craft, spec=PoolSpec("craft", "imbalance", "smote", 0, "seed", (("y0", 20), ("y1", 50)))
    )
    assert len(key_of(craft)) == 32


@pytest.mark.parametrize(
    "change",
    [
        {"spec": PoolSpec("craft", "imbalance", "smote", 1, "seed", IMBALANCE_SPEC.demand)},
        {"spec": PoolSpec("craft", "imbalance", "ros", 0, "seed", IMBALANCE_SPEC.demand)},
        {"spec": PoolSpec("craft", "spurious", "smote", 0, "seed", IMBALANCE_SPEC.demand)},
        {"spec": PoolSpec("craft", "imbalance", "smote", 0, "seed", (("y0", 20), ("y1", 51)))},
        {"generator": GeneratorConfig(k_neighbors=3)},
        {"spec": PoolSpec("craft", "imbalance", "smote", 0, "train", IMBALANCE_SPEC.demand)},
        {"split_config": SplitConfig(seed_size=80, test_fraction=0.25)},
    ],
    ids=["seed", "sampler", "task", "demand", "k_neighbors", "data_access", "split"],
)
def test_key_changes_with_every_setting_that_changes_the_rows(craft, change):
    assert key_of(craft, **change) != key_of(craft)


def test_key_changes_with_the_data(craft):
    from synthscale.data import make_craft, prepare_dataset

    other = prepare_dataset(
        make_craft(400, 8), label="Target", spurious="X6", minority=1, spurious_positive=1
    )
    assert key_of(other) != key_of(craft)


def test_key_changes_with_the_label_or_attribute_encoding(craft_table):
    from synthscale.data import prepare_dataset

    as_before = prepare_dataset(craft_table, label="Target", spurious="X6", minority=1, spurious_positive=1)
    flipped = prepare_dataset(craft_table, label="Target", spurious="X6", minority=1, spurious_positive=-1)
    spec = PoolSpec("craft", "spurious", "smote", 0, "seed", (("a1_y1", 10),))
    keys = [pool_key(spec, d, make_split(d, SPLIT_CONFIG, 0), GENERATOR) for d in (as_before, flipped)]
    assert keys[0] != keys[1]
