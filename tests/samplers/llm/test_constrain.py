"""Constrained decoding: even an untrained model only writes rows the schema allows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthscale.config import LLMConfig
from synthscale.data.schema import Column, Schema
from synthscale.samplers.llm.model import build_tiny_model
from synthscale.samplers.llm.sample import generate_batch
from synthscale.samplers.llm.serialize import build_codec

UNTRAINED = LLMConfig(tiny_layers=1, tiny_width=32, tiny_heads=2)


@pytest.fixture
def narrow_table():
    """Ranges that digits can easily overshoot: [-3, 250], [0.05, 0.4] and [-12.5, -0.5]."""
    features = pd.DataFrame(
        {
            "count": np.array([-3, 5, 17, 250, 99, 0], dtype=np.int64),
            "share": [0.05, 0.4, 0.1, 0.25, 0.3, 0.15],
            "debt": [-12.5, -0.5, -3.0, -7.25, -1.0, -2.0],
            "city": pd.Categorical(
                ["a, b", "c is d", "e", "a, b", "e", "e"], categories=["a, b", "c is d", "e"]
            ),
            "grp": pd.Categorical(["g0", "g1"] * 3, categories=["g0", "g1"]),
        }
    )
    schema = Schema(
        columns=(
            Column("count", "int", int_values=tuple(sorted(features["count"].tolist()))),
            Column("share", "float"),
            Column("debt", "float"),
            Column("city", "category", categories=("a, b", "c is d", "e")),
            Column("grp", "category", categories=("g0", "g1")),
        ),
        label="label",
        majority_value="no",
        minority_value="yes",
        spurious="grp",
        spurious_values=("g0", "g1"),
    )
    return features, np.array([0, 1, 0, 1, 0, 1]), schema


@pytest.mark.parametrize("enum_max_values", [0, 64])
@pytest.mark.parametrize(("y", "a"), [(1, None), (0, 1), (1, 0)])
def test_untrained_model_writes_only_valid_rows_in_range(narrow_table, enum_max_values, y, a):
    features, labels, schema = narrow_table
    codec = build_codec(features, schema, enum_max_values=enum_max_values)
    generator = build_tiny_model(codec, UNTRAINED, train_seed=0)
    sequences = generate_batch(generator, codec, codec.prompt(y, a), 400, UNTRAINED, seed=1)
    rows, sampled_labels, valid = codec.decode(sequences)
    assert valid.all()
    assert (sampled_labels == y).all()
    if a is not None:
        assert (rows["grp"] == schema.spurious_values[a]).all()
    for column in ("count", "share", "debt"):
        assert rows[column].between(features[column].min(), features[column].max()).all(), column
    assert rows["city"].isin(features["city"]).all()
    if enum_max_values == 0:  # digits: values between the observed ones are reachable
        assert rows["count"].nunique() > 50


def test_without_the_constraint_an_untrained_model_breaks_rows(narrow_table):
    """The control: the same model, unconstrained, rarely writes a valid row."""
    features, labels, schema = narrow_table
    codec = build_codec(features, schema, enum_max_values=0)
    generator = build_tiny_model(codec, UNTRAINED, train_seed=0)
    prompt = torch.tensor([codec.prompt(1)] * 200)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        output = generator.model.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            do_sample=True,
            top_k=0,
            max_new_tokens=codec.row_length - prompt.shape[1],
            pad_token_id=codec.pad_id,
            eos_token_id=codec.eos_id,
        )
    padded = np.full((200, codec.row_length), codec.pad_id)
    padded[:, : output.shape[1]] = output.numpy()
    _, _, valid = codec.decode(padded)
    assert valid.mean() < 0.05


def test_same_seed_same_rows(narrow_table):
    features, labels, schema = narrow_table
    codec = build_codec(features, schema)
    generator = build_tiny_model(codec, UNTRAINED, train_seed=0)
    first = generate_batch(generator, codec, codec.prompt(1), 50, UNTRAINED, seed=7)
    np.testing.assert_array_equal(
        generate_batch(generator, codec, codec.prompt(1), 50, UNTRAINED, seed=7), first
    )
    assert not np.array_equal(generate_batch(generator, codec, codec.prompt(1), 50, UNTRAINED, seed=8), first)


@pytest.mark.parametrize("column_order", ["random", "fixed"])
def test_a_fixed_order_model_writes_the_columns_in_the_tables_order(narrow_table, column_order):
    """An untrained model picks column names at random; the constraint of a model trained in the
    table's order allows only the next column, so every row keeps that order and stays valid."""
    features, labels, schema = narrow_table
    codec = build_codec(features, schema)
    settings = UNTRAINED.model_copy(update={"column_order": column_order})
    generator = build_tiny_model(codec, settings, train_seed=0)
    sequences = generate_batch(generator, codec, codec.prompt(1, 0), 200, settings, seed=3)
    names = sequences[np.isin(sequences, codec.name_ids)].reshape(len(sequences), -1)
    orders = {tuple(row) for row in names.tolist()}
    if column_order == "fixed":
        assert orders == {tuple(codec.name_ids)}
    else:
        assert len(orders) > 12  # of the 4! orders of the free columns count, share, debt, city
    assert codec.decode(sequences)[2].all()
