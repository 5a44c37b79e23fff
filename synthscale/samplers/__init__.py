"""Samplers: every oversampler behind one interface, picked by name from the sweep YAML."""

from synthscale.samplers import classic, great, llm, peers, reference  # noqa: F401  (register the samplers)
from synthscale.samplers.base import Sampler
from synthscale.samplers.registry import (
    check_installed,
    make_sampler,
    register,
    sampler_names,
    sampler_trains_model,
)

__all__ = ["Sampler", "check_installed", "make_sampler", "register", "sampler_names", "sampler_trains_model"]
