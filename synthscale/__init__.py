"""synthscale: does LLM synthetic data fix an imbalanced table, and how does the gain scale?"""

from synthscale.config import SweepConfig, load_config
from synthscale.errors import SynthscaleError

__version__ = "0.1.0"

__all__ = ["SweepConfig", "SynthscaleError", "__version__", "load_config"]
