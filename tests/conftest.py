"""Shared fixtures: a seeded 400-row craft, a hand-typed mixed table, one local Ray."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthscale.data import make_craft, prepare_dataset

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def craft_table() -> pd.DataFrame:
    return make_craft(n_rows=400, craft_seed=7)


@pytest.fixture(scope="session")
def craft(craft_table):
    """400 craft rows as a Dataset: label Target (minority 1), spurious X6 (positive 1)."""
    return prepare_dataset(craft_table, label="Target", spurious="X6", minority=1, spurious_positive=1)


@pytest.fixture
def mixed_table() -> pd.DataFrame:
    """12 hand-typed rows: int, float, category, a binary spurious and a binary label."""
    return pd.DataFrame(
        {
            "age": [23, 45, 31, 52, 38, 29, 61, 44, 35, 27, 48, 33],
            "score": [1.5, 2.25, 0.75, 3.0, 2.5, 1.25, 2.75, 0.5, 1.75, 2.0, 3.25, 1.0],
            "job": ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c"],
            "sex": ["F", "M", "F", "M", "F", "M", "F", "M", "F", "M", "F", "M"],
            "income": [
                "low",
                "high",
                "low",
                "low",
                "high",
                "low",
                "low",
                "high",
                "low",
                "low",
                "high",
                "low",
            ],
        }
    )


@pytest.fixture
def mixed_dataset(mixed_table):
    return prepare_dataset(mixed_table, label="income", spurious="sex", spurious_positive="M")


@pytest.fixture(scope="session")
def ray_local():
    """One shared local Ray for every test that runs trials."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture
def many_batch_sweep() -> dict:
    """72 fits in trials of 4: long enough to kill a driver or a worker in the middle of it."""
    return {
        "name": "many_batches",
        "dataset": {"name": "craft", "craft_rows": 2000},
        "split": {"seed_size": 40},
        "experiment": {
            "tasks": ["imbalance", "spurious"],
            "protocols": ["ratio"],
            "seeds": [0, 1],
            "ratio": {"ks": [0, 1, 2, 3, 4, 5]},
        },
        "methods": ["raw", "ros", "smote"],
        "generator": {"diagnostics": False},
        "resources": {"fits_per_trial": 4},
    }
