"""YAML name -> sampler factory; unknown names fail with the valid ones and a suggestion.

A family of samplers (smote_variants' 85 oversamplers) registers once and is named
`<family>.<variant>` (`smote_variants.ProWSyn`); its factory gets the variant."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from synthscale.config import GeneratorConfig
from synthscale.errors import SynthscaleError, did_you_mean
from synthscale.samplers.base import Sampler

SamplerFactory = Callable[..., Sampler]  # (config) or, for a family, (config, variant)
VARIANT_SEPARATOR = "."
_FACTORIES: dict[str, SamplerFactory] = {}
_TRAINS_MODEL: dict[str, bool] = {}
_REQUIRES: dict[str, tuple[str, str]] = {}  # sampler -> (module it imports, the command installing it)
_VARIANTS: dict[str, Callable[[], list[str]]] = {}  # family -> its variants' names (imports the package)


def register(
    name: str,
    trains_model: bool | None = None,
    requires: tuple[str, str] | None = None,
    variants: Callable[[], list[str]] | None = None,
) -> Callable[[SamplerFactory], SamplerFactory]:
    """Decorator: make a sampler available to sweeps under `name`. `trains_model` (default: the
    class's own flag) is known without building the sampler, whose module may load torch;
    `requires` names an optional package the sampler cannot run without, and how to install it;
    `variants` makes it a family, named `name.<variant>`, and lists the variants."""

    def add(factory: SamplerFactory) -> SamplerFactory:
        if name in _FACTORIES:
            raise ValueError(f"sampler '{name}' registered twice")
        _FACTORIES[name] = factory
        if requires is not None:
            _REQUIRES[name] = requires
        if variants is not None:
            _VARIANTS[name] = variants
        _TRAINS_MODEL[name] = bool(
            getattr(factory, "trains_model", False) if trains_model is None else trains_model
        )
        return factory

    return add


def family_of(name: str) -> str:
    """'smote_variants.ProWSyn' -> 'smote_variants'; a plain sampler's name is its own."""
    return name.partition(VARIANT_SEPARATOR)[0]


def is_family(name: str) -> bool:
    return name in _VARIANTS


def sampler_trains_model(name: str) -> bool:
    """Whether the sampler trains a model: worth sharing across tasks, and worth a GPU."""
    return _TRAINS_MODEL[family_of(name)]


def check_installed(name: str) -> None:
    """A sampler whose optional package is missing fails before anything runs, naming the
    package and the command that installs it."""
    family = family_of(name)
    if family not in _REQUIRES:
        return
    module, install = _REQUIRES[family]
    if importlib.util.find_spec(module) is None:
        raise SynthscaleError(
            f"method '{name}' needs the {module} package, which is not installed; install it with: {install}"
        )


def check_sampler(name: str) -> None:
    """The sampler exists, its package is installed and, in a family, the variant exists."""
    family, _, variant = name.partition(VARIANT_SEPARATOR)
    if family not in _FACTORIES:
        raise SynthscaleError(
            f"unknown sampler '{name}'{did_you_mean(name, _FACTORIES)}; "
            f"available: {', '.join(sampler_names())}"
        )
    if family not in _VARIANTS:
        if variant:
            raise SynthscaleError(f"sampler '{family}' has no variants: write '{family}', not '{name}'")
        return
    check_installed(name)
    known = _VARIANTS[family]()
    if not variant:
        raise SynthscaleError(
            f"name one of the {len(known)} {family} oversamplers: {family}{VARIANT_SEPARATOR}<name>, "
            f"e.g. {family}{VARIANT_SEPARATOR}{known[0]}; they are: {', '.join(known)}"
        )
    if variant not in known:
        raise SynthscaleError(
            f"{family} has no oversampler '{variant}'{did_you_mean(variant, known)}; "
            f"they are: {', '.join(known)}"
        )


def sampler_names() -> list[str]:
    """The registered names; a family is listed as itself (its members are family.<variant>)."""
    return sorted(_FACTORIES)


def make_sampler(name: str, config: GeneratorConfig) -> Sampler:
    check_sampler(name)
    family, _, variant = name.partition(VARIANT_SEPARATOR)
    return _FACTORIES[family](config, variant) if variant else _FACTORIES[family](config)
