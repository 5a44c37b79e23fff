"""YAML name -> sampler factory; unknown names fail with the valid ones and a suggestion."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from synthscale.config import GeneratorConfig
from synthscale.errors import SynthscaleError, did_you_mean
from synthscale.samplers.base import Sampler

SamplerFactory = Callable[[GeneratorConfig], Sampler]
_FACTORIES: dict[str, SamplerFactory] = {}
_TRAINS_MODEL: dict[str, bool] = {}
_REQUIRES: dict[str, tuple[str, str]] = {}  # sampler -> (module it imports, the command installing it)


def register(
    name: str, trains_model: bool | None = None, requires: tuple[str, str] | None = None
) -> Callable[[SamplerFactory], SamplerFactory]:
    """Decorator: make a sampler available to sweeps under `name`. `trains_model` (default: the
    class's own flag) is known without building the sampler, whose module may load torch;
    `requires` names an optional package the sampler cannot run without, and how to install it."""

    def add(factory: SamplerFactory) -> SamplerFactory:
        if name in _FACTORIES:
            raise ValueError(f"sampler '{name}' registered twice")
        _FACTORIES[name] = factory
        if requires is not None:
            _REQUIRES[name] = requires
        _TRAINS_MODEL[name] = bool(
            getattr(factory, "trains_model", False) if trains_model is None else trains_model
        )
        return factory

    return add


def sampler_trains_model(name: str) -> bool:
    """Whether the sampler trains a model: worth sharing across tasks, and worth a GPU."""
    return _TRAINS_MODEL[name]


def check_installed(name: str) -> None:
    """A sampler whose optional package is missing fails before anything runs, naming the
    package and the command that installs it."""
    if name not in _REQUIRES:
        return
    module, install = _REQUIRES[name]
    if importlib.util.find_spec(module) is None:
        raise SynthscaleError(
            f"method '{name}' needs the {module} package, which is not installed; install it with: {install}"
        )


def sampler_names() -> list[str]:
    return sorted(_FACTORIES)


def make_sampler(name: str, config: GeneratorConfig) -> Sampler:
    if name not in _FACTORIES:
        raise SynthscaleError(
            f"unknown sampler '{name}'{did_you_mean(name, _FACTORIES)}; "
            f"available: {', '.join(sampler_names())}"
        )
    return _FACTORIES[name](config)
