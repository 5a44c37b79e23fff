"""The reference samplers keep what they promise to keep and break what they promise to break."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.config import GeneratorConfig
from synthscale.data import make_craft, prepare_dataset
from synthscale.errors import SynthscaleError
from synthscale.samplers import make_sampler
from synthscale.splits import row_targets

SPEARMAN_TOLERANCE = 0.08  # max |real - copula| Spearman correlation over column pairs, 6000 rows


@pytest.fixture(scope="module")
def craft_full():
    return prepare_dataset(
        make_craft(8000, 5), label="Target", spurious="X6", minority=1, spurious_positive=1
    )


def fitted(name, dataset, task="imbalance"):
    targets = row_targets(dataset, task)
    return make_sampler(name, GeneratorConfig()).fit(dataset.features, targets, dataset.schema), targets


def test_independent_keeps_marginals_and_breaks_the_product_structure(craft_full):
    sampler, targets = fitted("independent", craft_full)
    real = craft_full.features[targets == "y1"]
    drawn = sampler.sample(6000, "y1", generator_seed=1)
    assert np.corrcoef(real["X9"], real["X1"] * real["X2"])[0, 1] > 0.95
    assert abs(np.corrcoef(drawn["X9"], drawn["X1"] * drawn["X2"])[0, 1]) < 0.05
    for column in ("X1", "X6", "X9"):
        assert drawn[column].mean() == pytest.approx(real[column].mean(), abs=0.05)
        assert set(drawn[column]) <= set(real[column])


def test_independent_unconditional_ignores_the_label_but_fixes_the_group_attribute(craft_full):
    sampler, targets = fitted("independent_unconditional", craft_full, task="spurious")
    minority = craft_full.features[craft_full.y == 1]
    drawn = sampler.sample(6000, "a0_y1", generator_seed=2)
    assert (drawn["X6"] == -1).all()
    # X1 is shifted up in the minority class; drawn from all rows its mean stays near the overall one
    assert drawn["X1"].mean() == pytest.approx(craft_full.features["X1"].mean(), abs=0.05)
    assert minority["X1"].mean() - drawn["X1"].mean() > 0.3


def test_gaussian_copula_keeps_spearman_correlations_and_only_observed_values(craft_full):
    sampler, targets = fitted("gaussian_copula", craft_full)
    real = craft_full.features[targets == "y1"]
    drawn = sampler.sample(6000, "y1", generator_seed=3)
    gap = (real.corr(method="spearman") - drawn.corr(method="spearman")).abs().to_numpy()
    assert gap.max() < SPEARMAN_TOLERANCE
    for column in real.columns:
        assert set(drawn[column]) <= set(real[column])


def test_gaussian_copula_with_categories_constant_and_one_level_columns(mixed_table):
    table = mixed_table.assign(constant=7, one_level="only")
    dataset = prepare_dataset(table, label="income", minority="high")
    sampler = make_sampler("gaussian_copula", GeneratorConfig()).fit(
        dataset.features, row_targets(dataset, "imbalance"), dataset.schema
    )
    drawn = sampler.sample(200, "y1", generator_seed=0)
    assert (drawn["constant"] == 7).all() and (drawn["one_level"] == "only").all()
    assert set(drawn["job"]) <= set(dataset.features.loc[dataset.y == 1, "job"])
    assert drawn["job"].dtype == dataset.features["job"].dtype
    assert not drawn.isna().any().any()


def test_gaussian_copula_refuses_a_group_with_one_row(mixed_table):
    table = pd.concat([mixed_table, mixed_table.iloc[[1]].assign(sex="X")], ignore_index=True)
    table = table[table["sex"] != "M"]  # sex is now F (6 rows) or X (1 row, income high)
    dataset = prepare_dataset(table, label="income", spurious="sex", spurious_positive="X")
    sampler = make_sampler("gaussian_copula", GeneratorConfig()).fit(
        dataset.features, row_targets(dataset, "spurious"), dataset.schema
    )
    with pytest.raises(
        SynthscaleError, match=r"gaussian_copula: \(sex=X, income=high\) has 1 rows .* at least 2"
    ):
        sampler.sample(10, "a1_y1", generator_seed=0)
