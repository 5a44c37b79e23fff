"""The peer generators (ctgan, tvae): what they report, the bound on a target they never
draw, a missing package named before a sweep starts, and a sweep that runs them.
(test_contract.py checks their rows, dtypes and seeds like every other sampler's.)"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pandas as pd
import pytest

from synthscale.config import GeneratorConfig, PeersConfig, validate_config
from synthscale.errors import SamplerFailure, SynthscaleError
from synthscale.samplers import make_sampler, peers
from synthscale.splits import row_targets
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.runner import run_sweep

pytest.importorskip("ctgan")


@pytest.fixture(scope="module")
def craft_seed(craft_seed_sets):
    dataset, index = craft_seed_sets(n_rows=400, craft_seed=7, seed_size=80)
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


@pytest.mark.parametrize("name", ["ctgan", "tvae"])
def test_a_peer_reports_each_training_epoch_with_its_loss(name, craft_seed):
    dataset, rows, targets = craft_seed
    sampler = make_sampler(name, GeneratorConfig(peers=PeersConfig(epochs=3, batch_size=40)))
    heard = []
    sampler.on_training_step = lambda done, total, loss: heard.append((done, total, loss))
    sampler.fit(rows, targets, dataset.schema)
    assert [(done, total) for done, total, _ in heard] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert all(math.isfinite(loss) for _, _, loss in heard[1:])
    assert heard[-1][2] == pytest.approx(peers.last_loss(sampler._model))


def test_a_target_never_drawn_fails_once_its_acceptance_says_the_budget_cannot_make_it(
    craft_seed, monkeypatch
):
    dataset, rows, targets = craft_seed
    sampler = make_sampler("tvae", quick(max_rounds=3)).fit(rows, targets, dataset.schema)
    draws = []

    def only_majority(n: int, target: str) -> pd.DataFrame:
        draws.append(n)
        drawn = rows.iloc[np.arange(n) % len(rows)].reset_index(drop=True)
        return drawn.assign(**{peers.TARGET_COLUMN: "y0"})

    monkeypatch.setattr(sampler, "_draw", only_majority)
    with pytest.raises(SamplerFailure, match=r"tvae: 0 of the 10 rows asked for target \(Target=1\) kept in 256 "
                       r"rows drawn \(0\.00% acceptance\); at that rate the rest needs more than the 768 draws "
                       r"of generator\.peers\.max_rounds=3 rounds of 256"):  # fmt: skip
        sampler.sample(10, "y1", generator_seed=0)
    # none in 256 draws: at most 1.2 % of draws are the target (95 %), so 10 need > 512 more
    assert draws == [peers.MIN_ROUND_ROWS]


def test_a_rare_target_is_drawn_in_rounds_sized_by_its_acceptance(craft_seed, monkeypatch):
    """4 % of draws are the target: 30 rounds of max(rows missing, 256) would keep ~380 of 500;
    rounds sized by the acceptance make all 500 within the same budget, in a few rounds."""
    dataset, rows, targets = craft_seed
    sampler = make_sampler("tvae", quick(max_rounds=30)).fit(rows, targets, dataset.schema)
    rng, draws = np.random.default_rng(0), []

    def four_percent(n: int, target: str) -> pd.DataFrame:
        draws.append(n)
        drawn = rows.iloc[np.arange(n) % len(rows)].reset_index(drop=True)
        return drawn.assign(**{peers.TARGET_COLUMN: np.where(rng.random(n) < 0.04, "y1", "y0")})

    sizes, size_round = [], peers.round_size
    monkeypatch.setattr(peers, "round_size", lambda *args: sizes.append(size_round(*args)) or sizes[-1])
    monkeypatch.setattr(sampler, "_draw", four_percent)
    assert len(sampler.sample(500, "y1", generator_seed=0)) == 500
    assert sum(draws) <= sum(sizes) <= 30 * 500 and len(sizes) <= 4  # a few rounds
    assert max(draws) <= 500  # each drawn in pieces of at most max(n, 256) rows
    assert sampler.target_report("y1")["acceptance"] == pytest.approx(0.04, abs=0.01)


def test_a_round_stops_drawing_once_the_rows_asked_are_kept(craft_seed, monkeypatch):
    """The first round keeps 1 %, so the second is sized for 1 %; at the 50 % it then finds,
    its first two pieces make the rest, and the other pieces of that round are not drawn."""
    dataset, rows, targets = craft_seed
    sampler = make_sampler("tvae", quick(max_rounds=200)).fit(rows, targets, dataset.schema)
    draws = []

    def one_then_fifty_percent(n: int, target: str) -> pd.DataFrame:
        draws.append(n)
        every = 100 if len(draws) == 1 else 2
        drawn = rows.iloc[np.arange(n) % len(rows)].reset_index(drop=True)
        return drawn.assign(**{peers.TARGET_COLUMN: np.where(np.arange(n) % every == 0, "y1", "y0")})

    monkeypatch.setattr(sampler, "_draw", one_then_fifty_percent)
    assert len(sampler.sample(500, "y1", generator_seed=0)) == 500
    assert draws == [500, 500, 500]  # 5 kept, then 250 and 250; the round was sized for 54,450
    assert peers.round_size(495, 5, 500, 100_000) == 54_450


def test_round_sizes_follow_the_acceptance_within_the_budget():
    assert peers.round_size(100, 0, 0, 5000) == 256 and peers.round_size(1000, 0, 0, 600) == 600
    assert peers.round_size(100, 50, 1000, 10_000) == math.ceil(1.1 * 100 / 0.05)  # 2,200 at 5 %
    assert peers.round_size(10, 500, 1000, 10_000) == 256  # at least MIN_ROUND_ROWS
    assert peers.round_size(100, 50, 1000, 3000) == 2000  # no more than the budget left
    assert peers.round_size(100, 50, 1000, 2000) == 0  # <= 6.3 % (95 %): 100 need > 1,000
    assert peers.round_size(100, 1, 1000, 20_000) == 0  # <= 0.47 % (95 %): 100 need > 19,000


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


def test_a_sweep_runs_every_peer_family_and_records_their_acceptance(ray_local, tmp_path):
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
            "methods": ["raw", "ctgan", "tvae", "smote_variants.ProWSyn_aug"],
            "generator": {"peers": {"epochs": 2, "batch_size": 40}},
        }
    )
    result = run_sweep(config, tmp_path / "out", show_progress=False)
    table = pd.read_csv(result.out_dir / "results.csv")
    assert sorted(table["method"]) == ["ctgan", "raw", "smote_variants.ProWSyn_aug", "tvae"]
    assert np.isfinite(table["minority_ce"]).all()
    pools = pd.read_csv(result.out_dir / "pools.csv")
    assert set(pools["sampler"]) == {"ctgan", "tvae", "smote_variants.ProWSyn"}
    assert ((pools["acceptance"] > 0) & (pools["acceptance"] <= 1)).all()


def test_a_smote_variant_is_named_as_a_member_of_its_family():
    with pytest.raises(
        SynthscaleError, match=r"name one of the \d+ smote_variants oversamplers: smote_variants\.<name>"
    ):
        expand_grid(validate_config({"methods": ["smote_variants"]}), "craft")
    with pytest.raises(
        SynthscaleError, match=r"smote_variants has no oversampler 'ProWSin'; did you mean 'ProWSyn'"
    ):
        expand_grid(validate_config({"methods": ["smote_variants.ProWSin_aug"]}), "craft")
    with pytest.raises(SynthscaleError, match=r"sampler 'smote' has no variants: write 'smote'"):
        make_sampler("smote.ProWSyn", GeneratorConfig())


def test_smote_variants_rows_lie_between_the_targets_rows_and_report_their_speed(craft_seed):
    dataset, rows, targets = craft_seed
    sampler = make_sampler("smote_variants.Borderline_SMOTE1", GeneratorConfig()).fit(
        rows, targets, dataset.schema
    )
    sampled = sampler.sample(50, "y1", generator_seed=0)
    own = rows[targets == "y1"]
    for column in ["X1", "X2", "X3"]:  # interpolations stay in the target's range
        assert own[column].min() <= sampled[column].min() and sampled[column].max() <= own[column].max()
    assert not sampled.merge(rows, how="inner").shape[0]  # no row is a copy
    report = sampler.target_report("y1")
    assert report["acceptance"] == 1.0 and report["sampling_rows_per_s"] > 0


def test_a_smote_variant_that_adds_nothing_on_a_balanced_seed_set_says_why(craft_seed):
    dataset, rows, targets = craft_seed
    sampler = make_sampler("smote_variants.SMOTE_TomekLinks", GeneratorConfig()).fit(
        rows, targets, dataset.schema
    )
    with pytest.raises(SynthscaleError, match=r"smote_variants\.SMOTE_TomekLinks made no rows of target \(Target=1\) "
                       r"from 40 rows against 40 .*the same count.*data_access=train"):  # fmt: skip
        sampler.sample(10, "y1", generator_seed=0)


def test_a_smote_variant_that_rejects_the_rows_is_named_with_the_librarys_reason(craft_seed_sets):
    dataset, index = craft_seed_sets(n_rows=8000, craft_seed=0, seed_size=200)
    sampler = make_sampler("smote_variants.NEATER", GeneratorConfig()).fit(
        dataset.features.iloc[index], row_targets(dataset, "imbalance", index), dataset.schema
    )
    with pytest.raises(SamplerFailure, match=r"smote_variants\.NEATER rejected the rows of target \(Target=0\) "
                       r"\(100 rows against 100\): ValueError: Found array with 0 sample"):  # fmt: skip
        sampler.sample(1000, "y0", generator_seed=0)


def test_smote_variants_refuses_a_target_larger_than_the_rest(craft_seed):
    dataset, rows, targets = craft_seed
    keep = np.r_[np.flatnonzero(targets == "y0"), np.flatnonzero(targets == "y1")[:10]]
    sampler = make_sampler("smote_variants.ProWSyn", GeneratorConfig())
    sampler.fit(rows.iloc[keep], targets[keep], dataset.schema)
    with pytest.raises(
        SynthscaleError, match=r"target \(Target=0\) has 40 of the 50 visible rows; smote_variants"
    ):
        sampler.sample(10, "y0", generator_seed=0)
    assert len(sampler.sample(10, "y1", generator_seed=0)) == 10
