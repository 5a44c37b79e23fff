"""Training stops when the held-out rows stop improving, and keeps the best step's weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthscale.config import LLMConfig
from synthscale.samplers.llm.model import build_model
from synthscale.samplers.llm.serialize import build_codec
from synthscale.samplers.llm.train import holdout_loss, holdout_split, make_optimizer, train_generator

TINY = {"tiny_layers": 1, "tiny_width": 32, "tiny_heads": 2, "batch_size": 16}


def fitted(craft, **settings):
    rows = craft.features.iloc[:60].reset_index(drop=True)
    y = craft.y[:60].astype(np.int64)
    config = LLMConfig(**{**TINY, **settings})
    codec = build_codec(rows, craft.schema)
    generator = build_model(codec, config, 0)
    report = train_generator(generator, codec, rows, y, config, train_seed=0)
    return generator, codec, rows, y, config, report


def test_the_held_out_slice_is_per_class_disjoint_and_the_same_every_time():
    y = np.array([0] * 80 + [1] * 20)
    train, held = holdout_split(y, 0.1, seed=3)
    assert np.bincount(y[held]).tolist() == [8, 2] and not np.intersect1d(train, held).size
    assert len(train) + len(held) == 100
    assert np.array_equal(held, holdout_split(y, 0.1, seed=3)[1])
    assert holdout_split(y, 0.0, seed=3)[1].size == 0  # off
    assert holdout_split(np.array([0] * 20 + [1] * 5), 0.1, seed=3)[1].size == 0  # too few to judge


def test_an_overfitting_run_stops_early_and_keeps_its_best_weights(craft):
    """60 rows, a high learning rate: the held-out loss turns up long before 400 steps."""
    generator, codec, rows, y, config, report = fitted(
        craft, max_steps=400, learning_rate=3e-3, holdout_share=0.2, eval_every=10, patience=3
    )
    assert report.steps < 400 and len(report.losses) == report.steps
    steps, losses = zip(*report.holdout_losses, strict=True)
    assert report.best_step == steps[int(np.argmin(losses))]
    assert report.steps == steps[-1] and report.steps - report.best_step == 3 * 10  # three misses
    # the weights kept are the best step's: the held-out loss measured again is its loss
    _, held = holdout_split(y, 0.2, 0)
    blocks = codec.value_blocks(rows, y)
    fixed = codec.assemble([block[held] for block in blocks], np.random.default_rng(0))
    again = holdout_loss(generator.model, generator.token_ids[torch.from_numpy(fixed)])
    assert again == pytest.approx(min(losses), rel=1e-5)


def test_without_held_out_rows_every_step_is_trained(craft):
    *_, report = fitted(craft, max_steps=30, holdout_share=0.0)
    assert report.steps == 30 and report.holdout_losses == [] and report.best_step is None


@pytest.mark.parametrize("gpu", [False, True])
def test_adamw_is_fused_on_gpu_only(monkeypatch, gpu):
    """The fused kernel was faster on an H200 and no faster on 2 CPU cores (bench/train_speed.py)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    optimizer = make_optimizer(torch.nn.Linear(3, 2), 1e-3)
    assert optimizer.defaults["fused"] is (True if gpu else None)
    assert optimizer.defaults["lr"] == 1e-3
