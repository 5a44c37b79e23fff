"""YAML name -> sampler factory; unknown names fail with the valid ones and a suggestion.

A family of samplers (smote_variants' 85 oversamplers) registers once and is named
`<family>.<variant>` (`smote_variants.ProWSyn`); its factory gets the variant."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from synthscale.config import GeneratorConfig
from synthscale.errors import SynthscaleError, did_you_mean
from synthscale.samplers.base import Sampler

SamplerFactory = Callable[..., Sampler]  # (config) or, for a family, (config, variant)
VARIANT_SEPARATOR = "."


@dataclass(frozen=True)
class Entry:
    """What the registry knows of one sampler without building it (its module may load torch):
    how to build it, whether it trains a model, the optional package it needs and the command
    that installs it, and, for a family, how to list its variants (which imports the package)."""

    factory: SamplerFactory
    trains_model: bool
    requires: tuple[str, str] | None = None
    variants: Callable[[], list[str]] | None = None


_ENTRIES: dict[str, Entry] = {}


def register(
    name: str,
    trains_model: bool | None = None,
    requires: tuple[str, str] | None = None,
    variants: Callable[[], list[str]] | None = None,
) -> Callable[[SamplerFactory], SamplerFactory]:
    """Decorator: make a sampler available to sweeps under `name`. `trains_model` defaults to
    the class's own flag; `requires` is (module, install command); `variants` makes it a
    family, named `name.<variant>`, and lists the variants."""

    def add(factory: SamplerFactory) -> SamplerFactory:
        if name in _ENTRIES:
            raise ValueError(f"sampler '{name}' registered twice")
        trains = getattr(factory, "trains_model", False) if trains_model is None else trains_model
        _ENTRIES[name] = Entry(factory, bool(trains), requires, variants)
        return factory

    return add


def family_of(name: str) -> str:
    """'smote_variants.ProWSyn' -> 'smote_variants'; a plain sampler's name is its own."""
    return name.partition(VARIANT_SEPARATOR)[0]


def is_family(name: str) -> bool:
    return name in _ENTRIES and _ENTRIES[name].variants is not None


def sampler_trains_model(name: str) -> bool:
    """Whether the sampler trains a model: worth sharing across tasks, and worth a GPU."""
    return _ENTRIES[family_of(name)].trains_model


def check_installed(name: str) -> None:
    """A sampler whose optional package is missing fails before anything runs, naming the
    package and the command that installs it."""
    entry = _ENTRIES.get(family_of(name))
    requires = entry.requires if entry else None
    if requires is None:
        return
    module, install = requires
    if importlib.util.find_spec(module) is None:
        raise SynthscaleError(
            f"method '{name}' needs the {module} package, which is not installed; install it with: {install}"
        )


def check_sampler(name: str) -> None:
    """The sampler exists, its package is installed and, in a family, the variant exists."""
    family, _, variant = name.partition(VARIANT_SEPARATOR)
    if family not in _ENTRIES:
        raise SynthscaleError(
            f"unknown sampler '{name}'{did_you_mean(name, _ENTRIES)}; available: {', '.join(sampler_names())}"
        )
    list_variants = _ENTRIES[family].variants
    if list_variants is None:
        if variant:
            raise SynthscaleError(f"sampler '{family}' has no variants: write '{family}', not '{name}'")
        return
    check_installed(name)
    known = list_variants()
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
    return sorted(_ENTRIES)


def make_sampler(name: str, config: GeneratorConfig) -> Sampler:
    check_sampler(name)
    family, _, variant = name.partition(VARIANT_SEPARATOR)
    factory = _ENTRIES[family].factory
    return factory(config, variant) if variant else factory(config)
