"""YAML name -> sampler factory; unknown names fail with the valid ones and a suggestion."""

from __future__ import annotations

from collections.abc import Callable

from synthscale.config import GeneratorConfig
from synthscale.errors import SynthscaleError, did_you_mean
from synthscale.samplers.base import Sampler

SamplerFactory = Callable[[GeneratorConfig], Sampler]
_FACTORIES: dict[str, SamplerFactory] = {}
_TRAINS_MODEL: dict[str, bool] = {}


def register(name: str, trains_model: bool | None = None) -> Callable[[SamplerFactory], SamplerFactory]:
    """Decorator: make a sampler available to sweeps under `name`. `trains_model` (default: the
    class's own flag) is known without building the sampler, whose module may load torch."""

    def add(factory: SamplerFactory) -> SamplerFactory:
        if name in _FACTORIES:
            raise ValueError(f"sampler '{name}' registered twice")
        _FACTORIES[name] = factory
        _TRAINS_MODEL[name] = bool(
            getattr(factory, "trains_model", False) if trains_model is None else trains_model
        )
        return factory

    return add


def sampler_trains_model(name: str) -> bool:
    """Whether the sampler trains a model: worth sharing across tasks, and worth a GPU."""
    return _TRAINS_MODEL[name]


def sampler_names() -> list[str]:
    return sorted(_FACTORIES)


def make_sampler(name: str, config: GeneratorConfig) -> Sampler:
    if name not in _FACTORIES:
        raise SynthscaleError(
            f"unknown sampler '{name}'{did_you_mean(name, _FACTORIES)}; "
            f"available: {', '.join(sampler_names())}"
        )
    return _FACTORIES[name](config)
