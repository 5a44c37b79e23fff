"""The paper's simulated `craft` table (Nakada et al., simulation section)."""

from __future__ import annotations

import numpy as np
import pandas as pd

CRAFT_LABEL = "Target"
CRAFT_SPURIOUS = "X6"
CRAFT_DECIMALS = 1


def make_craft(n_rows: int = 8000, craft_seed: int = 0) -> pd.DataFrame:
    """Draw the craft table: nine features with products and a noisy linear label.

    Target is 1 when the latent score exceeds its median, so the classes are balanced;
    the protocols create the imbalance. X6 is independent of Target, which makes it the
    attribute the spurious-correlation task correlates artificially.
    """
    rng = np.random.default_rng(craft_seed)
    x1 = rng.standard_normal(n_rows)
    x2 = rng.standard_normal(n_rows)
    x3 = 0.5 * x1 + 0.3 * x2 + rng.normal(0.0, 0.5, n_rows)
    x4 = rng.standard_normal(n_rows) * x1
    x5 = rng.standard_normal(n_rows) + 0.5 * x3
    x6 = rng.choice(np.array([-1, 1]), size=n_rows)
    x7 = rng.standard_normal(n_rows)
    x8 = x2 * x3
    x9 = x1 * x2
    score = 1.5 + 0.7 * x1 - 0.6 * x2 + 0.8 * x3 + 0.4 * x9 + rng.standard_normal(n_rows)
    continuous = {"X1": x1, "X2": x2, "X3": x3, "X4": x4, "X5": x5, "X7": x7, "X8": x8, "X9": x9}
    table = pd.DataFrame({name: np.round(v, CRAFT_DECIMALS) for name, v in continuous.items()})
    table.insert(5, CRAFT_SPURIOUS, x6.astype(np.int64))
    table[CRAFT_LABEL] = (score > np.median(score)).astype(np.int64)
    return table
