"""Shared set-up of the llm sampler tests: a 1-layer model, a per-test cache, no memo."""

from __future__ import annotations

import pytest

from synthscale.config import GeneratorConfig, LLMConfig
from synthscale.samplers.llm import sampler as llm_sampler

SMALL = dict(tiny_layers=1, tiny_width=32, tiny_heads=2, max_rows_per_batch=64)


@pytest.fixture(autouse=True)
def forget_loaded_models(monkeypatch):
    """Every test starts with an empty in-process model memo (the disk cache is per test)."""
    monkeypatch.setattr(llm_sampler, "_LOADED", {})


@pytest.fixture
def small_settings():
    """LLM settings of a 1-layer, width-32 model, with `changes` on top."""
    return lambda **changes: LLMConfig(**{**SMALL, **changes})


@pytest.fixture
def small_config(tmp_path, small_settings):
    """A generator config of the small model, 10 training steps, caching under this test's tmp_path."""
    return lambda **changes: GeneratorConfig(
        llm=small_settings(**{"max_steps": 10, "cache_dir": str(tmp_path / "models"), **changes})
    )
