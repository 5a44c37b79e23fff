"""The LLM generator: registered as `llm`; torch and transformers load on first use."""

from __future__ import annotations

from synthscale.config import GeneratorConfig
from synthscale.samplers.registry import register


@register("llm", trains_model=True)
def make_llm_sampler(config: GeneratorConfig):
    """Imported lazily so that the classic samplers never pay for importing torch."""
    from synthscale.samplers.llm.sampler import LLMSampler

    return LLMSampler(config)
