"""The generator's quality levers: feature-conditioned prompts, label guidance, and training
rows enriched with interpolated ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.config import LLMConfig
from synthscale.data.loaders import prepare_dataset
from synthscale.errors import SynthscaleError
from synthscale.samplers import make_sampler
from synthscale.samplers.llm.model import build_tiny_model
from synthscale.samplers.llm.sample import Prompts, generate_batch
from synthscale.samplers.llm.sampler import resolve_auto, training_settings
from synthscale.samplers.llm.serialize import build_codec
from synthscale.splits import row_targets


def most_shared_values(rows: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
    """Per sampled row, the most feature values it shares with any one real row."""
    same = rows.to_numpy()[:, None, :] == real.to_numpy()[None, :, :]
    return same.sum(axis=2).max(axis=1)


@pytest.mark.parametrize("k", [0, 6])
def test_feature_conditioned_rows_copy_k_values_of_one_real_row_of_the_target(craft, k, small_config):
    targets = row_targets(craft, "imbalance")
    sampler = make_sampler("llm", small_config(condition_features=k))
    rows = sampler.fit(craft.features, targets, craft.schema).sample(80, "y1", generator_seed=0)
    minority = craft.features[targets == "y1"]
    shared = most_shared_values(rows, minority)
    if k:  # the label, the attribute X6 and k features copied: X6 plus k values shared
        assert (shared >= k + 1).all()
    else:  # a 10-step model copies nothing: the same check fails for most rows
        assert (shared >= 7).mean() < 0.2


def test_feature_conditioning_keeps_the_group(craft, small_config):
    """A group's prompt copies rows of that group only: the attribute stays the group's."""
    targets = row_targets(craft, "spurious")
    sampler = make_sampler("llm", small_config(condition_features=3))
    sampler.fit(craft.features, targets, craft.schema)
    for target in sorted(set(targets)):
        rows = sampler.sample(30, target, generator_seed=1)
        group_rows = craft.features[targets == target]
        assert rows["X6"].nunique() == 1 and rows["X6"].iloc[0] == group_rows["X6"].iloc[0]
        assert (most_shared_values(rows, group_rows) >= 4).all()


def test_copying_every_feature_is_refused_with_the_most_allowed(craft, small_config):
    targets = row_targets(craft, "imbalance")
    sampler = make_sampler("llm", small_config(condition_features=8))
    sampler.fit(craft.features, targets, craft.schema)
    with pytest.raises(SynthscaleError, match=r"llm.condition_features=8 .* 8 feature columns .* at most 7"):
        sampler.sample(5, "y1", generator_seed=0)


def test_prompts_of_mixed_lengths_cover_the_batch_once_in_groups_of_one_length(craft, small_settings):
    # X3 and X8 enumerated (one value token), the other columns in digits: prompts of several lengths
    codec = build_codec(craft.features, craft.schema, enum_max_values=45)
    minority = craft.features[craft.y == 1]
    prompts = Prompts.conditioned(codec, codec.prompt(1), minority, 1, k=2)
    groups = prompts.draw(200, np.random.default_rng(0))
    positions = np.concatenate([where for where, _ in groups])
    assert sorted(positions.tolist()) == list(range(200))
    assert len(groups) > 1  # digit and enumerated fields differ in length
    for _, ids in groups:
        assert (ids[:, :3] == codec.prompt(1)).all()  # <bos>, the label's name, the minority value
        names = np.isin(ids, codec.name_ids).sum(axis=1)
        assert (names == codec.n_conditioning + 2).all()
    generator = build_tiny_model(codec, small_settings(), train_seed=0)
    sequences = generate_batch(generator, codec, prompts, 100, small_settings(), seed=0)
    rows, labels, valid = codec.decode(sequences)
    assert valid.all() and (labels == 1).all()
    assert (most_shared_values(rows, minority) >= 3).all()  # X6 and the two copied values


def test_label_guidance_keeps_rows_valid_and_seeded(craft, small_settings):
    codec = build_codec(craft.features, craft.schema)
    generator = build_tiny_model(codec, small_settings(), train_seed=0)
    guided = small_settings(guidance=2.0)
    first = generate_batch(generator, codec, codec.prompt(1), 64, guided, seed=5)
    np.testing.assert_array_equal(
        generate_batch(generator, codec, codec.prompt(1), 64, guided, seed=5), first
    )
    plain = generate_batch(generator, codec, codec.prompt(1), 64, small_settings(), seed=5)
    assert not np.array_equal(plain, first)
    rows, labels, valid = codec.decode(first)
    assert valid.all() and (labels == 1).all()


def test_label_guidance_moves_rows_toward_their_class(small_config):
    """`kind` agrees with the label in 70 % of rows; a model that learned p(kind | label) writes
    kind 'a' in about 70 % of minority rows, and guidance (scale 3) in far more."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 200)
    agrees = rng.random(400) < 0.7
    table = pd.DataFrame(
        {"kind": np.where(agrees == (y == 1), "a", "b"), "z": np.round(rng.normal(size=400), 1), "label": y}
    )
    data = prepare_dataset(table, label="label", minority=1)
    targets = row_targets(data, "imbalance")
    trained = dict(tiny_layers=4, tiny_width=128, tiny_heads=4, max_steps=150, max_rows_per_batch=400)
    plain = make_sampler("llm", small_config(**trained)).fit(data.features, targets, data.schema)
    guided = make_sampler("llm", small_config(guidance=3.0, **trained))
    guided.fit(data.features, targets, data.schema)
    assert guided.model_source == "memory"  # guidance is a sampling setting: no retraining
    share_plain = (plain.sample(400, "y1", 0)["kind"] == "a").mean()
    share_guided = (guided.sample(400, "y1", 0)["kind"] == "a").mean()
    assert share_plain > 0.5  # the model learned the dependence (else guidance has nothing to push)
    assert share_guided > share_plain + 0.15


def test_interpolated_rows_join_the_training_rows_at_the_codecs_precision(craft, small_config):
    targets = row_targets(craft, "imbalance")
    sampler = make_sampler("llm", small_config(interpolated_rows=1.5))
    sampler.fit(craft.features, targets, craft.schema)
    rows, y = sampler._training_rows()
    counts = {t: int((targets == t).sum()) for t in ("y0", "y1")}
    assert len(rows) == len(craft.features) + sum(round(1.5 * c) for c in counts.values())
    assert (y == 1).sum() == counts["y1"] + round(1.5 * counts["y1"])
    added = rows.iloc[len(craft.features) :]
    assert len(added.merge(craft.features.drop_duplicates(), how="inner")) < len(added) / 2  # new rows
    np.testing.assert_allclose(added["X1"], np.round(added["X1"], 1))  # craft's one decimal
    assert set(added["X6"]) <= {-1, 1}
    plain = make_sampler("llm", small_config()).fit(craft.features, targets, craft.schema)
    assert plain.model_key != sampler.model_key


def test_conform_rounds_digits_and_snaps_enumerated_values(craft):
    codec = build_codec(craft.features, craft.schema, enum_max_values=2)  # X6 enumerated, the rest digits
    off_grid = craft.features.head(3).copy()
    off_grid["X1"] = [0.04, -1.26, 99.0]
    off_grid["X6"] = [0.2, -0.7, 5]
    conformed = codec.conform(off_grid)
    x1 = codec.fields[[f.name for f in codec.fields].index("X1")]
    assert conformed["X1"].tolist() == [0.0, -1.3, x1.high / 10]  # rounded, then held in range
    assert conformed["X6"].tolist() == [1, -1, 1]
    codec.encode(conformed, np.zeros(3, dtype=np.int64), np.random.default_rng(0))  # writable


def test_a_fixed_column_order_is_a_new_model(craft, small_config):
    targets = row_targets(craft, "imbalance")
    fixed = make_sampler("llm", small_config(column_order="fixed"))
    fixed.fit(craft.features, targets, craft.schema)
    shuffled = make_sampler("llm", small_config(column_order="random"))
    shuffled.fit(craft.features, targets, craft.schema)
    assert fixed.model_source == "trained" and fixed.model_key != shuffled.model_key
    assert training_settings(shuffled.resolved)["column_order"] == "random"
    assert training_settings(fixed.resolved)["column_order"] == "fixed"
    sampled = fixed.sample(50, "y1", generator_seed=0)
    assert len(sampled) == 50 and sampled.columns.tolist() == craft.features.columns.tolist()


def test_the_activation_reaches_the_model_and_its_cache_key(craft):
    codec = build_codec(craft.features, craft.schema)
    settings = LLMConfig(tiny_layers=1, tiny_width=32, tiny_heads=2, cache_dir="unused")
    assert build_tiny_model(codec, settings, 0).model.config.activation_function == "gelu_pytorch_tanh"
    other = settings.model_copy(update={"tiny_activation": "gelu_new"})
    assert build_tiny_model(codec, other, 0).model.config.activation_function == "gelu_new"
    assert training_settings(other)["tiny_activation"] == "gelu_new"
    assert training_settings(settings)["tiny_activation"] == "gelu_pytorch_tanh"


@pytest.mark.parametrize(
    ("n_rows", "changes", "order", "guidance"),
    [
        (600, {}, "random", 1.0),  # the 200-row seed set with its SMOTE rows: 160 passes
        (16_800, {}, "fixed", 1.5),  # craft's 5,600 training rows with theirs: 5.7 passes
        (16_800, {"max_steps": 5_000}, "random", 1.0),  # 19 passes
        (16_800, {"condition_features": 2}, "random", 1.0),  # conditioning needs random orders
        (16_800, {"guidance": 1.2}, "fixed", 1.2),  # a value set is kept
        (600, {"column_order": "fixed"}, "fixed", 1.5),
    ],
)
def test_auto_settings_follow_how_often_training_sees_each_row(n_rows, changes, order, guidance):
    settings = LLMConfig(**changes)
    resolved = resolve_auto(settings, n_rows)
    assert (resolved.column_order, resolved.guidance) == (order, guidance)
    assert settings.column_order == changes.get("column_order", "auto")  # the config is untouched
