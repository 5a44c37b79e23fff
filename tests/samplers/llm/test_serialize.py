"""Rows <-> token sequences: exact round trip, fixed layout, readable rendering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthscale.data.schema import Column, Schema
from synthscale.samplers.llm.serialize import build_codec, column_decimals

TRICKY_CATEGORIES = ["a, b", " is ", "x is y, z", "", "-1.5", "Male", "é"]


@st.composite
def tables(draw):
    """Rows with an int, a float of fixed precision, a category, a binary attribute and labels."""
    n = draw(st.integers(1, 30))
    decimals = draw(st.integers(0, 5))
    ints = draw(st.lists(st.integers(-(10**6), 10**6), min_size=n, max_size=n))
    scaled = draw(st.lists(st.integers(-(10**8), 10**8), min_size=n, max_size=n))
    category = st.one_of(st.sampled_from(TRICKY_CATEGORIES), st.text(max_size=6))
    categories = draw(st.lists(category, min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from(["g0", "g1"]), min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    features = pd.DataFrame(
        {
            "count": pd.Series(ints, dtype=np.int64),
            "amount": pd.Series([v / 10**decimals for v in scaled], dtype=np.float64),
            "kind": pd.Categorical(categories, categories=sorted(set(categories))),
            "grp": pd.Categorical(groups, categories=["g0", "g1"]),
        }
    )
    schema = Schema(
        columns=(
            Column("count", "int", int_values=tuple(sorted(set(ints)))),
            Column("amount", "float"),
            Column("kind", "category", categories=tuple(sorted(set(categories)))),
            Column("grp", "category", categories=("g0", "g1")),
        ),
        label="label",
        majority_value="no",
        minority_value="yes",
        spurious="grp",
        spurious_values=("g0", "g1"),
    )
    return features, np.array(labels), schema


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), enum_max_values=st.sampled_from([0, 64]), order_seed=st.integers(0, 2**32 - 1))
def test_round_trip_restores_values_and_dtypes(table, enum_max_values, order_seed):
    features, y, schema = table
    codec = build_codec(features, schema, enum_max_values=enum_max_values)
    sequences = codec.encode(features, y, np.random.default_rng(order_seed))
    decoded, labels, valid = codec.decode(sequences)
    assert valid.all()
    np.testing.assert_array_equal(labels, y)
    pd.testing.assert_frame_equal(decoded, features)


def test_every_row_has_the_same_length_and_starts_with_label_then_attribute(mixed_dataset):
    codec = build_codec(mixed_dataset.features, mixed_dataset.schema)
    sequences = codec.encode(mixed_dataset.features, mixed_dataset.y, np.random.default_rng(0))
    assert sequences.shape == (12, codec.row_length)
    assert (sequences[:, 0] == codec.bos_id).all() and (sequences[:, -1] == codec.eos_id).all()
    assert (sequences[:, 1] == codec.name_ids[0]).all()  # the label's name
    assert (sequences[:, 3] == codec.name_ids[1]).all()  # then the spurious attribute's


def test_feature_order_is_permuted_per_row(craft):
    codec = build_codec(craft.features, craft.schema)
    sequences = codec.encode(craft.features, craft.y, np.random.default_rng(0))
    name_ids = set(codec.name_ids[2:])
    orders = {tuple(t for t in row if t in name_ids) for row in sequences.tolist()}
    assert len(orders) > 300  # 400 rows, 8! orders of the free columns


def test_without_an_rng_every_row_keeps_the_table_column_order(craft):
    codec = build_codec(craft.features, craft.schema)
    sequences = codec.assemble(codec.value_blocks(craft.features, craft.y), None)
    names = sequences[np.isin(sequences, codec.name_ids)].reshape(len(sequences), -1)
    assert (names == np.array(codec.name_ids)).all()  # label, attribute, then X1 ... X9 as in the table
    decoded, labels, valid = codec.decode(sequences)
    assert valid.all()
    pd.testing.assert_frame_equal(decoded, craft.features)


def test_render_reads_like_the_paper(mixed_dataset):
    codec = build_codec(mixed_dataset.features, mixed_dataset.schema, enum_max_values=0)
    sequence = codec.encode(mixed_dataset.features.iloc[[1]], mixed_dataset.y[[1]], np.random.default_rng(3))
    text = codec.render(sequence[0])
    assert text.startswith("income is high, sex is M, ")
    parts = set(text.split(", ")[2:])
    assert parts == {"age is 45", "score is 2.25", "job is b"}


def test_prompt_fixes_the_label_and_the_group_attribute(mixed_dataset):
    codec = build_codec(mixed_dataset.features, mixed_dataset.schema)
    prompt = codec.prompt(1, 0)
    sequence = prompt + [codec.eos_id]
    assert codec.render(sequence).startswith(codec.tokens[prompt[0]])  # not a full row: shown as tokens
    assert codec.texts[prompt[2]] == "high" and codec.texts[prompt[4]] == "F"


def test_decode_marks_broken_rows_invalid(mixed_dataset):
    codec = build_codec(mixed_dataset.features, mixed_dataset.schema)
    sequences = codec.encode(mixed_dataset.features, mixed_dataset.y, np.random.default_rng(0))
    broken = sequences.copy()
    broken[0, 5] = broken[0, 1]  # a second label name in place of a column
    broken[1, -1] = codec.pad_id  # no <eos>
    _, _, valid = codec.decode(broken)
    assert valid.tolist() == [False, False] + [True] * 10


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1.0, 2.0], 0), ([0.5, 1.25], 2), ([-4.2, 3.9], 1), ([0.1 + 0.2], 1), ([1 / 3], 6)],
)
def test_column_decimals(values, expected):
    assert column_decimals(np.array(values)) == expected
