"""Every sweep file in sweeps/ loads, expands, and states its true number of fits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synthscale.config import load_config
from synthscale.sweep.grid import expand_grid

SWEEPS = sorted((Path(__file__).resolve().parents[1] / "sweeps").glob("*.yaml"))


def dataset_names(config) -> list[str]:
    """The names results and keys use, without loading the data (as data/loaders.py names them)."""
    return [
        d.alias or (d.name or "").removeprefix("keel/") or Path(d.path).stem for d in config.dataset_configs()
    ]


def test_the_sweep_files_are_the_documented_ones():
    assert [p.name for p in SWEEPS] == [
        "benchmark.yaml",
        "paper_augment.yaml",
        "paper_ratio.yaml",
        "peer_scaling.yaml",
        "quickstart.yaml",
        "scaling.yaml",
    ]


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_sweep_file_loads_expands_and_its_header_counts_its_fits(path):
    config = load_config(path)
    grid = [g for name in dataset_names(config) for g in expand_grid(config, name)]
    assert len({g.key for g in grid}) == len(grid)
    stated = re.search(r"^# .*?([\d,]+) fits", path.read_text(), re.MULTILINE)
    if stated is not None:
        assert int(stated.group(1).replace(",", "")) == len(grid)
    assert "../shared" not in path.read_text()  # users have no such folder


@pytest.mark.parametrize("name", ["paper_ratio", "paper_augment"])
def test_paper_sweeps_run_the_llm_with_both_accesses_on_craft_and_adult(name):
    config = load_config(SWEEPS[0].parent / f"{name}.yaml")
    assert dataset_names(config) == ["craft", "adult"]
    assert config.generator.data_accesses() == ["train", "seed"]
    methods = {g.point.method for g in expand_grid(config, "craft")}
    expected = {"raw", "llm", "ros", "smote", "adasyn", "independent", "gaussian_copula"}
    if name == "paper_ratio":
        expected |= {"llm_aug", "ros_aug", "smote_aug", "adasyn_aug"}
    else:
        expected |= {"all_real", "oracle"}  # the oracle prices every method's rows in real rows
        assert config.experiment.augment.n_aug == list(range(0, 20, 2))
    assert methods == expected


def test_scaling_sweep_spans_three_decades_of_n_up_to_fifty_thousand_rows():
    config = load_config(SWEEPS[0].parent / "scaling.yaml")
    rows = [n * config.split.seed_size for n in config.experiment.augment.n_aug]
    assert rows[0] == 0 and rows[-1] == 51_200
    assert rows[-1] / rows[1] >= 10**2.5
    assert config.generator.data_accesses() == ["train"]
    assert config.experiment.protocols == ["augment"] and len(config.experiment.seeds) == 5


def test_every_smote_variant_of_the_peer_scaling_sweep_makes_both_tasks_rows_on_its_seed_set():
    """On the balanced seed set some oversamplers add nothing for a class (equal counts): the
    sweep names only those that make every target's rows."""
    pytest.importorskip("smote_variants")
    from synthscale.data import load_dataset
    from synthscale.samplers import make_sampler
    from synthscale.splits import make_split, row_targets

    config = load_config(SWEEPS[0].parent / "peer_scaling.yaml")
    variants = [m for m in config.methods if m.startswith("smote_variants.")]
    assert len(variants) >= 2
    dataset = load_dataset(config.dataset)
    seed_set = make_split(dataset, config.split, split_seed=0).balanced_index
    for task in config.experiment.tasks:
        targets = row_targets(dataset, task, seed_set)
        for name in variants:
            sampler = make_sampler(name, config.generator).fit(
                dataset.features.iloc[seed_set], targets, dataset.schema
            )
            for target in sorted(set(targets)):
                assert len(sampler.sample(300, target, generator_seed=0)) == 300, (name, task, target)
