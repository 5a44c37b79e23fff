"""Samplers: every oversampler behind one interface, picked by name from the sweep YAML."""

from synthscale.samplers import classic  # noqa: F401  (registers ros, smote, adasyn)
from synthscale.samplers.base import Sampler
from synthscale.samplers.registry import make_sampler, register, sampler_names

__all__ = ["Sampler", "make_sampler", "register", "sampler_names"]
