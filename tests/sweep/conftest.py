"""A planned sweep with its pools built, shared by the tests of the trials and their tables."""

from __future__ import annotations

import pytest

from synthscale.config import validate_config
from synthscale.sweep.build import build_pools
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.trials import SweepInputs

SWEEP = {
    "dataset": {"name": "craft", "craft_rows": 1000},
    "split": {"seed_size": 40},
    "experiment": {
        "tasks": ["imbalance", "spurious"],
        "protocols": ["ratio"],
        "seeds": [0],
        "ratio": {"ks": [0, 2]},
    },
    "methods": ["raw", "smote"],
    "downstream": {"classifiers": ["xgboost", "logistic_regression"]},
    "resources": {"fits_per_trial": 4},
}


@pytest.fixture
def small_sweep() -> dict:
    return {**SWEEP}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """(plan, SweepInputs): craft, both tasks, raw and smote at k = 0 and 2, two classifiers."""
    plan = plan_sweep(validate_config(SWEEP))
    return plan, SweepInputs.of(plan, build_pools(plan, tmp_path_factory.mktemp("pools")))
