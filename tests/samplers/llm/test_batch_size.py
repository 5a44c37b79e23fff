"""llm.max_rows_per_batch: auto is 512 rows on a CPU (the rows of before) and, on a GPU, the
largest power of two of rows that a fifth of the free memory holds, up to 16384; a number wins."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from synthscale.config import LLMConfig
from synthscale.samplers import make_sampler
from synthscale.samplers.llm import sample as sample_module
from synthscale.samplers.llm.sample import (
    CPU_ROWS_PER_BATCH,
    GPU_ROWS_PER_BATCH_CEILING,
    bytes_per_row,
    gpu_rows_per_batch,
    rows_per_batch,
)
from synthscale.splits import row_targets

GIB = 1 << 30


def on_gpu(layers: int, width: int, vocab: int) -> SimpleNamespace:
    """A generator whose model says it lives on a GPU (nothing runs on it)."""
    config = SimpleNamespace(num_hidden_layers=layers, hidden_size=width)
    model = SimpleNamespace(device=torch.device("cuda", 0), config=config)
    return SimpleNamespace(model=model, vocab_size=vocab)


def free_memory(monkeypatch, free_bytes: int) -> None:
    monkeypatch.setattr(sample_module.torch.cuda, "mem_get_info", lambda device: (free_bytes, 80 * GIB))


def test_auto_is_the_default_and_a_number_or_auto_only():
    assert LLMConfig().max_rows_per_batch == "auto"
    assert LLMConfig(max_rows_per_batch=100).max_rows_per_batch == 100
    for bad in (0, "many"):
        with pytest.raises(ValueError, match="max_rows_per_batch"):
            LLMConfig(max_rows_per_batch=bad)


@pytest.mark.parametrize(
    ("free", "row", "expected"),
    [
        (80 * GIB, 60_000, GPU_ROWS_PER_BATCH_CEILING),  # the tiny model: the ceiling binds
        (10 * GIB, 2_000_000, 1024),  # a fifth of 10 GiB is 1073 rows of 2 MB: 1024
        (10 * GIB + 1, 2_000_000, 1024),  # a little more memory: the same size
        (1000, 2_000_000, 1),  # never none
    ],
)
def test_gpu_rows_are_a_power_of_two_within_the_memory_share(free, row, expected):
    rows = gpu_rows_per_batch(free, row)
    assert rows == expected and rows & (rows - 1) == 0
    assert rows == 1 or rows * row <= free * sample_module.GPU_MEMORY_SHARE


def test_a_row_holds_every_layers_keys_and_values_and_guidance_doubles_it():
    gpt2 = on_gpu(layers=12, width=768, vocab=50_257)
    plain = bytes_per_row(gpt2, row_length=60, guided=False, half=False)
    assert plain >= 2 * 12 * 768 * 60 * 4  # keys and values, fp32
    assert bytes_per_row(gpt2, 60, guided=True, half=False) == 2 * plain
    assert bytes_per_row(gpt2, 60, guided=False, half=True) < plain


@pytest.mark.parametrize(
    ("settings", "free", "expected"),
    [
        ({}, 80 * GIB, GPU_ROWS_PER_BATCH_CEILING),  # tiny on a free H100: 16384
        ({}, 128 << 20, 256),  # tiny on a GPU with 128 MiB free: fewer rows
        ({"max_rows_per_batch": 512}, 80 * GIB, 512),  # a number wins
        ({"guidance": 1.5}, 128 << 20, 128),  # guidance runs two prompts: half the rows
    ],
)
def test_auto_on_a_gpu_follows_its_free_memory(monkeypatch, settings, free, expected):
    free_memory(monkeypatch, free)
    codec = SimpleNamespace(row_length=40)
    tiny = on_gpu(layers=2, width=96, vocab=300)
    assert rows_per_batch(tiny, codec, LLMConfig(cache_dir="unused", **settings)) == expected


def test_auto_on_a_cpu_samples_the_rows_of_512(craft, small_config):
    """A CPU keeps 512 rows per batch: auto draws the very rows an explicit 512 draws, and the
    target report says which size ran."""
    targets = row_targets(craft, "imbalance")
    auto = make_sampler("llm", small_config(max_rows_per_batch="auto")).fit(
        craft.features, targets, craft.schema
    )
    fixed = make_sampler("llm", small_config(max_rows_per_batch=512)).fit(
        craft.features, targets, craft.schema
    )
    assert rows_per_batch(auto._generator, auto._codec, auto.resolved) == CPU_ROWS_PER_BATCH
    n = CPU_ROWS_PER_BATCH + 40  # two batches, so the batch size shows in the rows
    rows = auto.sample(n, "y1", generator_seed=2)
    np.testing.assert_array_equal(rows.to_numpy(), fixed.sample(n, "y1", generator_seed=2).to_numpy())
    assert auto.target_report("y1")["rows_per_batch"] == CPU_ROWS_PER_BATCH
    other = make_sampler("llm", small_config(max_rows_per_batch=64)).fit(
        craft.features, targets, craft.schema
    )
    assert not np.array_equal(other.sample(n, "y1", generator_seed=2).to_numpy(), rows.to_numpy())
