"""load_config: YAML files, typed `--set` overrides, unknown keys, reworded validation errors."""

from __future__ import annotations

import re

import pytest
import yaml

from synthscale.config import (
    DatasetConfig,
    SweepConfig,
    describe_config,
    load_config,
    save_config,
    validate_config,
)
from synthscale.errors import SynthscaleError


def write_yaml(path, content: dict) -> str:
    path.write_text(yaml.safe_dump(content))
    return str(path)


def test_load_config_without_a_file_gives_the_defaults():
    assert load_config(None) == SweepConfig()
    assert load_config(None).split.seed_size == 200


def test_load_config_reads_nested_sections_from_yaml(tmp_path):
    path = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "name": "adult_small",
            "dataset": {"name": None, "path": "adult.csv", "label": "income", "spurious": "sex"},
            "split": {"seed_size": 100, "test_fraction": 0.25},
            "experiment": {"seeds": [3, 4], "ratio": {"ks": [0, 2]}},
        },
    )
    cfg = load_config(path)
    assert cfg.name == "adult_small"
    assert cfg.dataset.name is None
    assert cfg.dataset.path == "adult.csv"
    assert (cfg.dataset.label, cfg.dataset.spurious) == ("income", "sex")
    assert (cfg.split.seed_size, cfg.split.test_fraction) == (100, 0.25)
    assert cfg.experiment.seeds == [3, 4]
    assert cfg.experiment.ratio.ks == [0, 2]
    # untouched fields of a touched section keep their defaults
    assert cfg.experiment.ratio.aug_size == 3


def test_empty_yaml_file_gives_the_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path) == SweepConfig()


def test_overrides_win_over_the_file(tmp_path):
    path = write_yaml(tmp_path / "sweep.yaml", {"split": {"seed_size": 100}})
    cfg = load_config(path, ["split.seed_size=40"])
    assert cfg.split.seed_size == 40


def test_override_values_get_yaml_types():
    cfg = load_config(
        None,
        [
            "experiment.seeds=[0, 1]",
            "dataset.minority=1",
            "dataset.name=null",
            "dataset.path=data.csv",
            "experiment.augment.reference=false",
            "split.test_fraction=0.2",
        ],
    )
    assert cfg.experiment.seeds == [0, 1]
    assert all(type(seed) is int for seed in cfg.experiment.seeds)
    assert cfg.dataset.minority == 1
    assert type(cfg.dataset.minority) is int
    assert cfg.dataset.name is None
    assert cfg.experiment.augment.reference is False
    assert cfg.split.test_fraction == 0.2


def test_quoted_override_stays_a_string():
    cfg = load_config(None, ["dataset.minority='1'"])
    assert cfg.dataset.minority == "1"


def test_unknown_nested_key_suggests_the_close_match():
    with pytest.raises(
        SynthscaleError, match=re.escape("unknown key 'dataset.lable'; did you mean 'dataset.label'?")
    ):
        load_config(None, ["dataset.lable=income"])


def test_unknown_key_two_levels_deep_suggests_the_close_match(tmp_path):
    path = write_yaml(tmp_path / "sweep.yaml", {"experiment": {"ratio": {"kss": [1]}}})
    with pytest.raises(SynthscaleError, match=re.escape("did you mean 'experiment.ratio.ks'?")):
        load_config(path)


def test_unknown_top_level_key_suggests_the_close_match(tmp_path):
    path = write_yaml(tmp_path / "sweep.yaml", {"splt": {"seed_size": 40}})
    with pytest.raises(SynthscaleError, match=re.escape("unknown key 'splt'; did you mean 'split'?")):
        load_config(path)


def test_unknown_key_without_a_close_match_lists_the_valid_keys():
    with pytest.raises(
        SynthscaleError, match=r"unknown key 'zzz'; valid keys: name, dataset, datasets, split"
    ):
        load_config(None, ["zzz=1"])


def test_seed_size_not_divisible_by_four_is_reworded():
    with pytest.raises(
        SynthscaleError,
        match=r"^invalid sweep config: split: split\.seed_size=201 must be divisible by 4",
    ):
        load_config(None, ["split.seed_size=201"])


def test_field_error_names_the_dotted_location_and_the_value():
    with pytest.raises(
        SynthscaleError,
        match=r"invalid sweep config: split\.test_fraction: .*less than 1 \(got 1\.5\)",
    ):
        load_config(None, ["split.test_fraction=1.5"])


def test_nested_field_error_has_the_full_dotted_location():
    with pytest.raises(SynthscaleError, match=r"downstream\.xgboost\.max_depth: .*greater than 0 \(got 0\)"):
        load_config(None, ["downstream.xgboost.max_depth=0"])


def test_both_dataset_name_and_path_fail():
    with pytest.raises(
        SynthscaleError, match=r"dataset: set exactly one of dataset\.name .* and dataset\.path"
    ):
        load_config(None, ["dataset.path=data.csv"])


def test_neither_dataset_name_nor_path_fails():
    with pytest.raises(SynthscaleError, match=r"set exactly one of dataset\.name"):
        load_config(None, ["dataset.name=null"])


def test_override_without_equals_sign_fails():
    with pytest.raises(SynthscaleError, match=re.escape("--set 'split.seed_size': expected KEY=VALUE")):
        load_config(None, ["split.seed_size"])


def test_override_into_a_value_fails():
    with pytest.raises(SynthscaleError, match=re.escape("'split' is a value, not a section")):
        load_config(None, ["split=5", "split.seed_size=8"])


def test_missing_sweep_file_fails(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SynthscaleError, match=re.escape(f"sweep file {str(missing)!r} not found")):
        load_config(missing)


def test_invalid_yaml_file_fails(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("split: [1, 2\n")
    with pytest.raises(SynthscaleError, match="not valid YAML"):
        load_config(path)


def test_yaml_file_that_is_not_a_mapping_fails(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(SynthscaleError, match="expected a mapping of sections at the top level"):
        load_config(path)


def test_save_then_load_round_trips(tmp_path):
    cfg = load_config(
        None,
        [
            "name=roundtrip",
            "dataset.name=null",
            "dataset.path=data.csv",
            "dataset.label=income",
            "dataset.minority='>50K'",
            "split.seed_size=40",
            "experiment.seeds=[7]",
            "downstream.random_forest.max_depth=4",
        ],
    )
    path = tmp_path / "out" / "config.resolved.yaml"
    save_config(cfg, path)
    loaded = load_config(path)
    assert loaded == cfg
    assert loaded.config_hash() == cfg.config_hash()
    assert loaded.dataset.minority == ">50K"
    assert loaded.downstream.random_forest.max_depth == 4


def test_config_hash_changes_with_a_setting():
    assert load_config(None).config_hash() != load_config(None, ["split.seed_size=40"]).config_hash()


def test_describe_config_has_one_line_per_leaf_field():
    lines = describe_config()
    label_lines = [line for line in lines if line.startswith("dataset.label:")]
    assert label_lines == [f"dataset.label: None - {DatasetConfig.model_fields['label'].description}"]
    assert any(line.startswith("experiment.ratio.ks: ") for line in lines)
    # sections expand into their fields instead of getting a line of their own
    assert not any(line.startswith(("dataset:", "experiment:", "experiment.ratio:")) for line in lines)
    assert len(lines) == len({line.split(":")[0] for line in lines})


def test_an_empty_section_means_its_defaults(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("dataset:\nsplit:\n  seed_size: 40\n")
    config = load_config(path, ["dataset.label=Target"])
    assert config.dataset.name == "craft" and config.dataset.label == "Target"
    assert config.split.seed_size == 40


def test_datasets_list_replaces_the_single_dataset(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "datasets:\n  - {name: craft}\n  - {name: null, path: data.csv, label: income, alias: census}\n"
    )
    config = load_config(path)
    names = [(d.name, d.path, d.alias) for d in config.dataset_configs()]
    assert names == [("craft", None, None), (None, "data.csv", "census")]
    assert load_config(None).dataset_configs() == [DatasetConfig()]


def test_unknown_key_inside_a_datasets_entry_names_its_index():
    with pytest.raises(SynthscaleError, match=r"unknown key 'datasets\.1\.lable'.*datasets\.1\.label"):
        validate_config({"datasets": [{"name": "craft"}, {"name": None, "path": "d.csv", "lable": "y"}]})


def test_dataset_and_datasets_together_are_refused():
    with pytest.raises(SynthscaleError, match="either dataset .* or datasets"):
        validate_config({"dataset": {"craft_rows": 500}, "datasets": [{"name": "craft"}]})


def test_saved_config_with_datasets_loads_again(tmp_path):
    config = validate_config({"datasets": [{"name": "craft"}, {"name": "craft", "alias": "craft_b"}]})
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == config
