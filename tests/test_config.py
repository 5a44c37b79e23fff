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


def test_both_dataset_name_and_path_fail(tmp_path):
    """Both in the sweep file, or both with --set (a --set path alone replaces the file's name)."""
    both = write_yaml(tmp_path / "sweep.yaml", {"dataset": {"name": "craft", "path": "data.csv"}})
    match = r"dataset: set exactly one of dataset\.name .* and dataset\.path"
    with pytest.raises(SynthscaleError, match=match):
        load_config(both)
    with pytest.raises(SynthscaleError, match=match):
        load_config(None, ["dataset.name=adult", "dataset.path=data.csv"])
    assert load_config(None, ["dataset.path=data.csv", "dataset.label=y"]).dataset.name is None


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


def geometric(**grid) -> dict:
    return {"experiment": {"augment": {"n_aug": {"geometric": grid}}}}


def test_geometric_n_aug_resolves_to_sorted_units_with_n_zero():
    # 1 .. 256 in 12 points: ratio 256^(1/11) = 1.6563; N*s rounded to multiples of 4 rows
    n_aug = validate_config(geometric(start=1, stop=256, points=12)).experiment.augment.n_aug
    rows = [round(n * 200) for n in n_aug]
    assert rows[:4] == [0, 200, 332, 548]  # 331.3 -> 332, 548.7 -> 548
    assert rows[-1] == 51200
    assert len(rows) == 13 and rows == sorted(set(rows))
    assert all(r % 4 == 0 for r in rows)
    exact = [200 * 256 ** (i / 11) for i in range(12)]
    assert all(abs(r - e) <= 2 for r, e in zip(rows[1:], exact, strict=True))
    assert [type(n) for n in n_aug[:3]] == [int, int, float]  # 0, 1 (N=1s), 1.66


def test_geometric_n_aug_without_zero_and_rounding_with_a_small_seed_set():
    config = validate_config(
        {"split": {"seed_size": 40}, **geometric(start=0.5, stop=8, points=5, include_zero=False)}
    )
    # 0.5, 1, 2, 4, 8 units of s = 20, 40, 80, 160, 320 rows (all multiples of 4 already)
    assert config.experiment.augment.n_aug == [0.5, 1, 2, 4, 8]
    # 0.3 s = 12 rows exactly at s = 40, but 0.47 s = 18.8 rows rounds to 20 (0.5)
    config = validate_config({"split": {"seed_size": 40}, **geometric(start=0.3, stop=0.47, points=2)})
    assert config.experiment.augment.n_aug == [0, 0.3, 0.5]


def test_geometric_points_that_collapse_after_rounding_are_kept_once():
    # 1, 1.19, 1.41, 1.68, 2 units at s = 8: 8, 9.5, 11.3, 13.5, 16 rows -> 8, 8, 12, 12, 16
    config = validate_config({"split": {"seed_size": 8}, **geometric(start=1, stop=2, points=5)})
    assert config.experiment.augment.n_aug == [0, 1, 1.5, 2]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"start": 0, "stop": 256, "points": 12}, r"\.geometric\.start: .*greater than 0"),
        ({"start": 8, "stop": 2, "points": 12}, r"\.geometric: start=8 must be below stop=2"),
        ({"start": 1, "stop": 256, "points": 1}, r"\.geometric\.points: .*greater than or equal to 2"),
        ({"start": 1, "stop": 256}, r"\.geometric\.points: Field required"),
        ({"start": 1, "stop": 1.01, "points": 3}, r": geometric start=1, stop=1\.01 give a single N"),
        (
            {"start": 0.005, "stop": 1, "points": 3},
            r": geometric start=0\.005 is under 2 rows .* start >= 0\.02",
        ),
        ({"start": 1, "stop": 4, "points": 3, "include_zero": "maybe"}, r"\.geometric\.include_zero: "),
    ],
    ids=[
        "start-zero",
        "start-above-stop",
        "one-point",
        "no-points",
        "collapses",
        "under-2-rows",
        "zero-flag",
    ],
)
def test_bad_geometric_grids_name_the_key(grid, message):
    with pytest.raises(SynthscaleError, match=r"^invalid sweep config: experiment\.augment\.n_aug" + message):
        validate_config(geometric(**grid))


def test_unknown_key_inside_geometric_suggests_the_close_match():
    with pytest.raises(
        SynthscaleError,
        match=re.escape(
            "unknown key 'experiment.augment.n_aug.geometric.pionts'; "
            "did you mean 'experiment.augment.n_aug.geometric.points'?"
        ),
    ):
        validate_config(geometric(start=1, stop=4, pionts=3))
    with pytest.raises(
        SynthscaleError, match=re.escape("did you mean 'experiment.augment.n_aug.geometric'?")
    ):
        validate_config({"experiment": {"augment": {"n_aug": {"geometrik": {}}}}})


def test_geometric_grid_with_an_invalid_seed_size_reports_the_seed_size():
    with pytest.raises(
        SynthscaleError, match=r"split\.seed_size=201 must be divisible by 4.*fix split first"
    ):
        validate_config({"split": {"seed_size": 201}, **geometric(start=1, stop=4, points=3)})


def test_geometric_grid_can_be_set_from_the_command_line():
    config = load_config(None, ["experiment.augment.n_aug={geometric: {start: 1, stop: 4, points: 3}}"])
    assert config.experiment.augment.n_aug == [0, 1, 2, 4]


def test_saved_geometric_config_loads_as_the_same_list(tmp_path):
    config = validate_config(geometric(start=0.25, stop=256, points=16))
    save_config(config, tmp_path / "config.resolved.yaml")
    loaded = load_config(tmp_path / "config.resolved.yaml")
    assert loaded == config and loaded.config_hash() == config.config_hash()


def test_explicit_n_aug_lists_keep_integers_and_accept_whole_row_fractions():
    assert load_config(None, ["experiment.augment.n_aug=[0, 2.0, 4]"]).experiment.augment.n_aug == [0, 2, 4]
    assert [type(n) for n in load_config(None).experiment.augment.n_aug] == [int] * 10
    assert load_config(None, ["experiment.augment.n_aug=[0.5, 1.66]"]).experiment.augment.n_aug == [0.5, 1.66]
    # explicit integer lists stay in the order given (their grid keys and batches do too)
    assert load_config(None, ["experiment.augment.n_aug=[4, 0, 2]"]).experiment.augment.n_aug == [4, 0, 2]


@pytest.mark.parametrize(
    ("n_aug", "message"),
    [
        ("[0, 0.33]", r"N=0\.33 is 66 rows at split\.seed_size=200; .*multiple of 4 rows.*use 0\.32"),
        ("[0, 0.001]", r"N=0\.001 is 0\.2 rows .* use 0\.02"),
        ("[0, -2]", r"must be >= 0"),
        ("[0, .inf]", r"n_aug\.1\.float: Input should be a finite number"),
    ],
)
def test_explicit_n_aug_needs_whole_rows_in_multiples_of_four(n_aug, message):
    with pytest.raises(SynthscaleError, match=message):
        load_config(None, [f"experiment.augment.n_aug={n_aug}"])


def test_data_access_is_a_string_or_a_list():
    assert load_config(None).generator.data_accesses() == ["seed"]
    assert load_config(None).model_dump()["generator"]["data_access"] == "seed"  # dump unchanged
    config = load_config(None, ["generator.data_access=[train, seed]"])
    assert config.generator.data_accesses() == ["train", "seed"]
    assert load_config(None, ["generator.data_access=train"]).generator.data_accesses() == ["train"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("trian", r"generator\.data_access: unknown data access 'trian'; did you mean 'train'\?"),
        (
            "[train, sed]",
            r"unknown data access 'sed'; did you mean 'seed'\?; use seed, train or \[train, seed\]",
        ),
        ("[train, train]", r"generator\.data_access: \['train', 'train'\] lists an access twice"),
        ("[]", r"generator\.data_access: list at least one of seed, train"),
    ],
)
def test_bad_data_access_names_the_key_and_the_fix(value, message):
    with pytest.raises(SynthscaleError, match=message):
        load_config(None, [f"generator.data_access={value}"])


def test_feature_conditioning_of_a_fixed_order_model_is_refused_with_both_fixes():
    overrides = ["generator.llm.column_order=fixed", "generator.llm.condition_features=2"]
    with pytest.raises(
        SynthscaleError, match=r"condition_features=2 .*column_order=fixed.*column_order=random"
    ):
        load_config(None, overrides)
    assert load_config(None, overrides[:1]).generator.llm.column_order == "fixed"
