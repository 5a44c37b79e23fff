"""Planning with data access as a grid axis: one pool and one trained generator per access."""

from __future__ import annotations

from collections import Counter

from synthscale.config import GeneratorConfig, SplitConfig, validate_config
from synthscale.data import load_dataset
from synthscale.splits import make_split
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.plan import pool_specs
from synthscale.sweep.pools import PoolSpec, visible_rows


def specs_for(data_access) -> list[PoolSpec]:
    config = validate_config(
        {
            "experiment": {"protocols": ["ratio", "augment"], "seeds": [0, 1], "ratio": {"ks": [0, 2]}},
            "methods": ["raw", "smote", "ros_aug"],
            "generator": {"data_access": data_access},
        }
    )
    points = list(dict.fromkeys(g.point for g in expand_grid(config, "craft")))
    dataset = load_dataset(config.dataset)
    splits = {seed: make_split(dataset, config.split, seed) for seed in config.experiment.seeds}
    return pool_specs(points, config, dataset, splits)


def test_each_access_gets_its_own_pool_of_the_same_size():
    one, two = specs_for("train"), specs_for(["train", "seed"])
    assert len({s.slot for s in two}) == len(two) == 2 * len(one)
    assert Counter(s.data_access for s in two) == {"train": len(one), "seed": len(one)}
    demand = {(s.task, s.sampler, s.seed): s.demand for s in one}
    assert all(s.demand == demand[(s.task, s.sampler, s.seed)] for s in two)
    # a single access plans exactly the pools it planned before, in the same order
    assert [(s.task, s.sampler, s.seed, s.demand) for s in one] == [
        (s.task, s.sampler, s.seed, s.demand) for s in two if s.data_access == "train"
    ]


def test_the_llm_model_cache_key_differs_between_train_and_seed(craft, monkeypatch):
    from synthscale.samplers.llm import sampler as llm_sampler

    keys = []

    def record_key(key, *args):
        keys.append(key)
        return None, None, "trained"

    monkeypatch.setattr(llm_sampler, "load_or_train", record_key)
    split = make_split(craft, SplitConfig(seed_size=80), split_seed=0)
    for access in ("seed", "train", "seed"):
        visible, targets = visible_rows(craft, split, "imbalance", access)
        llm_sampler.LLMSampler(GeneratorConfig()).fit(craft.features.iloc[visible], targets, craft.schema)
    assert keys[0] == keys[2] != keys[1]
