"""A pool: its key, one build, its cache entry (building every pool of a sweep: test_build.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from synthscale.config import GeneratorConfig, SplitConfig
from synthscale.errors import SynthscaleError
from synthscale.splits import make_split
from synthscale.sweep.pools import MANIFEST_FILE, POOL_FILE, PoolCache, PoolSpec, build_pool, pool_key
from synthscale.targets import Target

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


@pytest.mark.parametrize("spec", [IMBALANCE_SPEC, SPURIOUS_SPEC], ids=["imbalance", "spurious"])
def test_a_stored_pool_reads_back_as_built(craft, split, tmp_path, spec):
    built = build_pool(spec, craft, split, GENERATOR)
    assert {t: len(r) for t, r in built.rows.items()} == dict(spec.demand)
    assert built.key == pool_key(spec, craft, split, GENERATOR)
    cache = PoolCache(tmp_path)
    cache.store(built)
    read = cache.read(built.key, spec)
    assert read is not None and read.key == built.key and read.spec == spec
    assert set(read.rows) == set(built.rows) and all(isinstance(t, Target) for t in read.rows)
    for target, rows in built.rows.items():
        pd.testing.assert_frame_equal(read.rows[target], rows)
    assert sorted(p.name for p in (tmp_path / built.key).iterdir()) == sorted([MANIFEST_FILE, POOL_FILE])


def test_an_entry_short_of_the_demand_is_not_trusted(craft, split, tmp_path):
    cache = PoolCache(tmp_path)
    built = cache.store(build_pool(IMBALANCE_SPEC, craft, split, GENERATOR))
    bigger = PoolSpec("craft", "imbalance", "smote", 0, "seed", ((Target.Y0, 20), (Target.Y1, 51)))
    assert cache.read(built.key, bigger) is None


def test_group_rows_with_another_attribute_are_refused(craft, split, monkeypatch):
    from synthscale.samplers.classic import SmoteWrapper

    original = SmoteWrapper.sample

    def wrong_attribute(self, n, target, generator_seed):
        return original(self, n, target, generator_seed).assign(X6=-1)  # every row in attribute group 0

    monkeypatch.setattr(SmoteWrapper, "sample", wrong_attribute)
    with pytest.raises(RuntimeError, match=r"rows for group \(X6=1, Target=0\) have another X6"):
        build_pool(SPURIOUS_SPEC, craft, split, GENERATOR)


def test_a_target_too_small_to_sample_fails_the_build(craft, split):
    spec = PoolSpec("craft", "imbalance", "smote", 0, "seed", ((Target.A1_Y1, 5),))
    with pytest.raises(SynthscaleError, match=r"\(X6=1, Target=1\) has 0 rows"):
        build_pool(spec, craft, split, GENERATOR)


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
