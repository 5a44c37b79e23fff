"""The seed paper's published curves (Figures 1-4), shipped with the package as a reference.

Nakada, Xu, Li, Zhang, "Synthetic Oversampling: Theory and A Practical Approach Using LLMs to
Address Data Imbalance" (arXiv 2406.03628); the numbers come from the authors' public
experiment code (repository Xyc-arch/scaling-law, data/<dataset>/*.json): XGBoost downstream,
5 seeds, their `llm` is GReaT (GPT-2) fine-tuned on every training row. `published_results`
turns the augment curves into a results table that `synthscale fit` reads like any sweep's.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

PUBLISHED_FILE = "paper_published.json"
PUBLISHED_CLASSIFIER = "xgboost"
NO_AUGMENTATION_N = 1  # the authors' N = 1 point is the balanced base with no synthetic rows (N = 0 here)


@cache
def published_data() -> dict:
    """The JSON as shipped: `source`, `ratio_curves`, `augment_curves`, `all_real`."""
    return json.loads(resources.files("synthscale.data").joinpath(PUBLISHED_FILE).read_text())


def published_source() -> str:
    return published_data()["source"]


def published_results() -> pd.DataFrame:
    """The augment curves (Figures 3-4) and their all-real lines as a results table: one row
    per (dataset, task, N), a column per metric with its mean over the 5 seeds, and
    `<metric>_sd` beside it (the points are means, so the fit weights them by that sd).

    The authors store the mean and sd of the log loss; the mean loss and its sd follow from the
    log-normal formulas they use themselves (exp(mu + sd^2/2)). N = 1 is their
    no-augmentation point and becomes N = 0, which the fit leaves out, as their analysis does."""
    data = published_data()
    curves = pd.DataFrame(data["augment_curves"]["rows"])
    curves["mean"] = np.exp(curves["log_mean"] + curves["log_sd"] ** 2 / 2)
    curves["sd"] = curves["mean"] * np.sqrt(np.expm1(curves["log_sd"] ** 2))
    curves["n_aug"] = curves["n_aug"].where(curves["n_aug"] != NO_AUGMENTATION_N, 0)
    real = pd.DataFrame(data["all_real"]["rows"]).assign(method="all_real", n_aug=0, sd=0.0)
    real["mean"] = np.exp(real["log_value"])
    both = pd.concat([curves, real], ignore_index=True)
    keys = ["dataset", "task", "method", "n_aug"]
    wide = both.pivot_table(index=keys, columns="metric", values=["mean", "sd"]).sort_index(axis=1)
    wide.columns = [metric if stat == "mean" else f"{metric}_sd" for stat, metric in wide.columns]
    table = wide.reset_index().assign(experiment="augment", classifier=PUBLISHED_CLASSIFIER, seed=0)
    return table.assign(source="published")


def published_ratio_curves() -> pd.DataFrame:
    """Figures 1-2: mean and sd over seeds of the loss against n_maj/n_min, per method."""
    return pd.DataFrame(published_data()["ratio_curves"]["rows"])
