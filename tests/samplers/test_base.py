"""The public `sample` every sampler shares: the checks and the dtypes are the base's, the rows
the subclass's `_sample`."""

from __future__ import annotations

import numpy as np
import pytest

from synthscale.data import make_craft, prepare_dataset
from synthscale.errors import SynthscaleError
from synthscale.samplers.base import VisibleRows
from synthscale.targets import Target


class CopiesFirstRows(VisibleRows):
    """Returns the first rows of the target, `short` fewer than asked; records each call."""

    name = "copies"

    def __init__(self, short: int = 0) -> None:
        super().__init__()
        self.short, self.calls = short, []

    def cache_settings(self):
        return {}

    def _sample(self, n, target, count, generator_seed):
        self.calls.append((n, target, count))
        rows = self._rows[self._targets == target]
        return rows.iloc[np.arange(n - self.short) % len(rows)].astype(float)


@pytest.fixture(scope="module")
def craft():
    dataset = prepare_dataset(make_craft(n_rows=200, craft_seed=1), label="Target", spurious="X6", minority=1)
    return dataset.features, np.where(dataset.y == 1, "y1", "y0"), dataset.schema


def test_the_subclass_is_asked_for_n_rows_of_a_checked_target_and_its_rows_come_back_typed(craft):
    rows, targets, schema = craft
    sampler = CopiesFirstRows().fit(rows, targets, schema)
    made = sampler.sample(5, "y1", generator_seed=0)
    assert sampler.calls == [(5, Target.Y1, int(np.sum(targets == "y1")))]
    assert list(made.columns) == schema.feature_names and len(made) == 5
    integer = schema.integer_names[0]
    assert made[integer].dtype == np.int64  # the float copies went back to the schema's integers


def test_n_zero_asks_the_subclass_for_nothing_and_keeps_the_columns(craft):
    rows, targets, schema = craft
    sampler = CopiesFirstRows().fit(rows, targets, schema)
    empty = sampler.sample(0, "y0", generator_seed=0)
    assert sampler.calls == [] and empty.empty and list(empty.columns) == schema.feature_names
    assert (empty.dtypes == sampler.sample(3, "y0", generator_seed=0).dtypes).all()


def test_a_short_sampler_and_an_unknown_target_are_refused(craft):
    rows, targets, schema = craft
    with pytest.raises(RuntimeError, match="copies made 3 rows of y1 where 4 were asked for"):
        CopiesFirstRows(short=1).fit(rows, targets, schema).sample(4, "y1", generator_seed=0)
    with pytest.raises(SynthscaleError, match="names no class or group"):
        CopiesFirstRows().fit(rows, targets, schema).sample(4, "y2", generator_seed=0)
    with pytest.raises(RuntimeError, match="call fit"):
        CopiesFirstRows().sample(4, "y1", generator_seed=0)


def test_a_sampler_without_sample_rows_cannot_be_made():
    class Nothing(VisibleRows):
        def cache_settings(self):
            return {}

    with pytest.raises(TypeError, match="_sample"):
        Nothing()
