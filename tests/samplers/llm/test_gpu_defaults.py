"""llm.bf16: auto stands for fp32 with the tiny model and bf16 with any other, on a GPU; on a
CPU neither trains in bf16, whatever the setting."""

from __future__ import annotations

import pytest

from synthscale.config import LLMConfig
from synthscale.samplers.llm import train as train_module


@pytest.mark.parametrize(
    ("settings", "on_gpu"),
    [
        ({}, False),  # the tiny model: fp32 was the faster on a GPU
        ({"model": "gpt2"}, True),
        ({"bf16": True}, True),  # explicit wins
        ({"model": "gpt2", "bf16": False}, False),
    ],
)
def test_auto_precision_by_the_model_and_none_on_cpu(monkeypatch, settings, on_gpu):
    llm = LLMConfig(cache_dir="unused", **settings)
    assert llm.bf16_on_gpu() is on_gpu
    monkeypatch.setattr(train_module.torch.cuda, "is_available", lambda: True)  # a GPU node
    assert train_module._precision(llm) == ("bf16" if on_gpu else "no")
    monkeypatch.setattr(train_module.torch.cuda, "is_available", lambda: False)
    assert train_module._precision(llm) == "no"
