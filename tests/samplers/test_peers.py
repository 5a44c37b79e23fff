"""The peer generators (ctgan, tvae): what they report, the bound on a target they never
draw, a missing package named before a sweep starts, and a sweep that runs them.
(test_contract.py checks their rows, dtypes and seeds like every other sampler's.)"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from synthscale.config import GeneratorConfig, PeersConfig, SplitConfig, validate_config
from synthscale.data import make_craft, prepare_dataset
from synthscale.errors import SynthscaleError
from synthscale.samplers import make_sampler, peers
from synthscale.splits import make_split, row_targets
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.runner import run_sweep

pytest.importorskip("ctgan")


@pytest.fixture(scope="module")
def craft_seed():
    dataset = prepare_dataset(
        make_craft(n_rows=400, craft_seed=7), label="Target", spurious="X6", minority=1, spurious_positive=1
    )
    split = make_split(dataset, SplitConfig(seed_size=80), split_seed=0)
    index = split.balanced_index
    return dataset, dataset.features.iloc[index], row_targets(dataset, "imbalance", index)


def quick(max_rounds: int = 50) -> GeneratorConfig:
    return GeneratorConfig(peers=PeersConfig(epochs=2, batch_size=40, max_rounds=max_rounds))


@pytest.mark.parametrize("name", ["ctgan", "tvae"])
def test_a_peer_reports_the_share_of_drawn_rows_it_kept_and_its_speed(name, craft_seed):
    dataset, rows, targets = craft_seed
    sampler = make_sampler(name, quick()).fit(rows, targets, dataset.schema)
    sampler.sample(300, "y1", generator_seed=0)
    report = sampler.target_report("y1")
    assert 0 < report["acceptance"] <= 1
    assert report["rows_generated"] >= 300
    assert report["acceptance"] * report["rows_generated"] >= 300  # the rows kept, some to spare
    assert report["sampling_rows_per_s"] > 0 and report["training_seconds"] > 0
    assert sampler.target_report("y0") == {}  # not sampled


def test_a_target_never_drawn_stops_after_max_rounds_with_its_acceptance(craft_seed, monkeypatch):
    dataset, rows, targets = craft_seed
    sampler = make_sampler("tvae", quick(max_rounds=3)).fit(rows, targets, dataset.schema)
    draws = []

    def only_majority(n: int, target: str) -> pd.DataFrame:
        draws.append(n)
        drawn = rows.iloc[np.arange(n) % len(rows)].reset_index(drop=True)
        return drawn.assign(**{peers.TARGET_COLUMN: "y0"})

    monkeypatch.setattr(sampler, "_draw", only_majority)
    with pytest.raises(SynthscaleError, match=r"tvae: 0 of the 10 rows asked for target \(Target=1\) in 768 "
                       r"rows drawn \(0\.00% acceptance\) over generator\.peers\.max_rounds=3 rounds"):  # fmt: skip
        sampler.sample(10, "y1", generator_seed=0)
    assert draws == [peers.MIN_ROUND_ROWS] * 3


def test_a_sweep_naming_a_peer_that_is_not_installed_stops_before_it_starts(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ctgan" else real_find_spec(name, *a)
    )
    config = validate_config({"methods": ["raw", "tvae_aug"]})
    with pytest.raises(
        SynthscaleError, match=r"method 'tvae' needs the ctgan package.*pip install --no-deps ctgan"
    ):
        expand_grid(config, "craft")


def test_a_sweep_runs_the_peers_and_records_their_acceptance(ray_local, tmp_path):
    config = validate_config(
        {
            "name": "peers",
            "dataset": {"name": "craft", "craft_rows": 2000},
            "split": {"seed_size": 40},
            "experiment": {
                "tasks": ["imbalance"],
                "protocols": ["ratio"],
                "seeds": [0],
                "ratio": {"ks": [2]},
            },
            "methods": ["raw", "ctgan", "tvae"],
            "generator": {"peers": {"epochs": 2, "batch_size": 40}},
        }
    )
    result = run_sweep(config, tmp_path / "out", show_progress=False)
    table = pd.read_csv(result.out_dir / "results.csv")
    assert sorted(table["method"]) == ["ctgan", "raw", "tvae"]
    assert np.isfinite(table["minority_ce"]).all()
    pools = pd.read_csv(result.out_dir / "pools.csv")
    assert set(pools["sampler"]) == {"ctgan", "tvae"}
    assert ((pools["acceptance"] > 0) & (pools["acceptance"] <= 1)).all()
