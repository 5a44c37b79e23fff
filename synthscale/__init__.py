"""synthscale: does LLM synthetic data fix an imbalanced table, and how does the gain scale?"""

from synthscale._version import __version__
from synthscale.config import SweepConfig, load_config
from synthscale.errors import SynthscaleError

__all__ = ["LLMOverSampler", "SweepConfig", "SynthscaleError", "__version__", "load_config"]


def __getattr__(name: str):
    """`synthscale.LLMOverSampler` loads imbalanced-learn only when asked for."""
    if name == "LLMOverSampler":
        from synthscale.samplers.imblearn_api import LLMOverSampler

        return LLMOverSampler
    raise AttributeError(f"module 'synthscale' has no attribute {name!r}")
