"""YAML name -> sampler factory; unknown names fail with the valid ones and a suggestion."""

from __future__ import annotations

from collections.abc import Callable

from synthscale.config import GeneratorConfig
from synthscale.errors import SynthscaleError, did_you_mean
from synthscale.samplers.base import Sampler

SamplerFactory = Callable[[GeneratorConfig], Sampler]
_FACTORIES: dict[str, SamplerFactory] = {}


def register(name: str) -> Callable[[SamplerFactory], SamplerFactory]:
    """Decorator: make a sampler available to sweeps under `name`."""

    def add(factory: SamplerFactory) -> SamplerFactory:
        if name in _FACTORIES:
            raise ValueError(f"sampler '{name}' registered twice")
        _FACTORIES[name] = factory
        return factory

    return add


def sampler_names() -> list[str]:
    return sorted(_FACTORIES)


def make_sampler(name: str, config: GeneratorConfig) -> Sampler:
    if name not in _FACTORIES:
        raise SynthscaleError(
            f"unknown sampler '{name}'{did_you_mean(name, _FACTORIES)}; "
            f"available: {', '.join(sampler_names())}"
        )
    return _FACTORIES[name](config)
