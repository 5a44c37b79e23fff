"""Fixtures shared by the peer samplers' tests."""

from __future__ import annotations

import pytest

from synthscale.config import SplitConfig
from synthscale.data import Dataset, make_craft, prepare_dataset
from synthscale.splits import make_split


def craft_seed_set(n_rows: int, craft_seed: int, seed_size: int) -> tuple[Dataset, object]:
    """A small craft table and the row index of its balanced seed set (split seed 0)."""
    dataset = prepare_dataset(
        make_craft(n_rows=n_rows, craft_seed=craft_seed),
        label="Target",
        spurious="X6",
        minority=1,
        spurious_positive=1,
    )
    return dataset, make_split(dataset, SplitConfig(seed_size=seed_size), split_seed=0).balanced_index


@pytest.fixture(scope="module")
def craft_seed_sets():
    return craft_seed_set
