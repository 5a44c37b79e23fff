"""The `great` peer (be_great's GReaT): which of its free-text rows it keeps, the bound on a
target it never writes validly, and rows of the requested class and group from a briefly
trained model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.config import GeneratorConfig, PeersConfig
from synthscale.data import prepare_dataset
from synthscale.data.schema import TARGET_COLUMN
from synthscale.errors import SynthscaleError
from synthscale.samplers import make_sampler
from synthscale.samplers.great import format_great_value, great_texts, valid_great_rows
from synthscale.splits import row_targets

pytest.importorskip("be_great")


@pytest.fixture(scope="module")
def craft(craft_seed_sets):
    return craft_seed_sets(n_rows=600, craft_seed=3, seed_size=120)


def trained(dataset, index, task: str, steps: int = 250):
    config = GeneratorConfig(peers=PeersConfig(great_steps=steps, great_batch_size=16, great_float_digits=2))
    targets = row_targets(dataset, task, index)
    return make_sampler("great", config).fit(dataset.features.iloc[index], targets, dataset.schema)


def test_rows_are_written_as_great_writes_them_with_floats_rounded():
    table = pd.DataFrame({"X1": [0.12345, 2.0], "X6": [-1, 1], "colour": ["red", "blue"]})
    assert great_texts(table, 3) == [
        "X1 is 0.123, X6 is -1, colour is red",
        "X1 is 2, X6 is 1, colour is blue",
    ]
    assert format_great_value(0.5, None) == "0.5" and format_great_value(7, 2) == "7"


def test_only_rows_with_every_column_readable_and_the_target_asked_are_kept(craft):
    dataset, _ = craft
    schema = dataset.schema
    good = {c.name: "1" for c in schema.columns}
    good.update({"X1": "0.25", TARGET_COLUMN: "y1"})
    drawn = pd.DataFrame(
        [
            good,
            {**good, "X2": "placeholder"},  # a column its text never wrote
            {**good, "X1": "0.2.5"},  # a number that does not parse
            {**good, TARGET_COLUMN: "y0"},  # another class
            {**good, "X3": " -3.5 "},
        ]
    )
    kept = valid_great_rows(drawn, schema, "y1")
    assert len(kept) == 2
    assert kept["X1"].tolist() == [0.25, 0.25] and kept["X3"].tolist() == [1.0, -3.5]
    assert TARGET_COLUMN not in kept.columns


def test_a_category_outside_the_columns_domain_is_dropped():
    table = pd.DataFrame({"age": [30, 40, 50, 60], "sex": [" F", " M", " F", " M"], "y": [0, 1, 0, 1]})
    schema = prepare_dataset(table, label="y", minority=1).schema
    drawn = pd.DataFrame({"age": ["31", "33"], "sex": ["F", "Male"], TARGET_COLUMN: ["y1", "y1"]})
    assert valid_great_rows(drawn, schema, "y1")["sex"].tolist() == [" F"]  # as the table writes it


def test_great_reports_each_training_step_with_the_logged_loss(craft):
    dataset, index = craft
    config = GeneratorConfig(peers=PeersConfig(great_steps=12, great_batch_size=8))
    sampler = make_sampler("great", config)
    heard = []
    sampler.on_training_step = lambda done, total, loss: heard.append((done, total, loss))
    sampler.fit(dataset.features.iloc[index], row_targets(dataset, "imbalance", index), dataset.schema)
    assert [(done, total) for done, total, _ in heard] == [(step, 12) for step in range(13)]
    assert all(np.isnan(loss) for *_, loss in heard[:10]) and np.isfinite(heard[-1][2])  # logged every 10
    assert sampler._great.model is not None


def test_a_target_never_written_validly_fails_with_its_acceptance_and_the_setting(craft, monkeypatch):
    dataset, index = craft
    config = GeneratorConfig(peers=PeersConfig(great_steps=2, great_batch_size=8, max_rounds=3))
    sampler = make_sampler("great", config).fit(
        dataset.features.iloc[index], row_targets(dataset, "imbalance", index), dataset.schema
    )
    draws = []

    def unreadable(n: int, target: str) -> pd.DataFrame:
        draws.append(n)
        return pd.DataFrame({c: ["placeholder"] * n for c in sampler._great.columns})

    monkeypatch.setattr(sampler, "_draw", unreadable)
    with pytest.raises(SynthscaleError, match=r"great: 0 of the 10 rows asked for target \(Target=1\) kept "
                       r"in 256 rows drawn \(0\.00% acceptance\); at that rate the rest needs more than the 768 "
                       r"draws of generator\.peers\.max_rounds=3 .*train longer \(generator\.peers\.great_steps\)"):  # fmt: skip
        sampler.sample(10, "y1", generator_seed=0)
    assert draws == [256]  # none readable in 256: the budget left (512) cannot make 10


def test_a_briefly_trained_great_samples_the_class_asked_with_the_tables_dtypes(craft, capfd):
    dataset, index = craft
    sampler = trained(dataset, index, "imbalance")
    assert "[Training]" not in capfd.readouterr().err  # its progress bar is muted: the sweep's shows
    rows = sampler.sample(40, "y1", generator_seed=1)
    assert len(rows) == 40 and list(rows.columns) == dataset.schema.feature_names
    assert (rows.dtypes == dataset.features.dtypes).all()
    report = sampler.target_report("y1")
    assert 0 < report["acceptance"] <= 1 and report["rows_generated"] >= 40
    assert report["sampling_rows_per_s"] > 0 and report["training_seconds"] > 0
    assert sampler.sample(40, "y1", generator_seed=1).equals(rows)  # a seed fixes the rows
    assert not sampler.sample(40, "y1", generator_seed=2).equals(rows)
    empty = sampler.sample(0, "y0", generator_seed=0)
    assert len(empty) == 0 and (empty.dtypes == dataset.features.dtypes).all()


def test_a_group_targets_rows_carry_the_groups_attribute(craft):
    dataset, index = craft
    sampler = trained(dataset, index, "spurious")
    rows = sampler.sample(20, "a0_y1", generator_seed=0)
    assert len(rows) == 20
    assert np.all(rows["X6"] == dataset.schema.spurious_values[0])
