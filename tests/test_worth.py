"""Worth in real rows against known answers: a dose curve with a known shape, methods whose
rows are known mixes of real and inert rows, censoring at both ends, and the oracle's own rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.errors import SynthscaleError
from synthscale.worth import Worth, largest_worth, price, worth_ceiling, worth_metrics, worth_table

BALANCING = 800  # the augment base's balancing rows (4s, s = 200)
SEED_NOISE = 0.004


def real_rows_risk(m: float) -> float:
    """The calibrated balanced CE m real rows buy: falls from 0.55 toward 0.45."""
    return 0.45 + 0.10 * np.exp(-m / 1500)


def row(method, seed, m, risk, n_aug_units=0.0, access="none", dose=1.0, experiment="augment", ratio=9.0):
    return dict(dataset="craft", task="imbalance", experiment=experiment, classifier="xgboost", method=method,
                data_access=access, seed=seed, ratio=ratio, n_aug_units=n_aug_units, dose=dose, n_added=m,
                balanced_ce_cal=risk, auc=1 - risk)  # fmt: skip


def augment_results(seeds: int = 8, real_share: float = 0.5, rng_seed: int = 0) -> pd.DataFrame:
    """An augment sweep on a known dose curve: raw, the oracle with its ladder, and a method
    'mix' whose rows are `real_share` real rows and inert rows otherwise (its risk is that of
    real_share * rows real rows), 'junk' worse than raw and 'gold' beyond the largest dose."""
    rng = np.random.default_rng(rng_seed)
    grid = [0, 2, 6, 10, 18]
    rows = []
    for seed in range(seeds):
        level = rng.normal(0, 0.01)  # a seed's split: shared by every method of that seed

        def noisy(m: float, level: float = level) -> float:
            return real_rows_risk(m) + level + rng.normal(0, SEED_NOISE)

        rows.append(row("raw", seed, 0, noisy(0)))
        for dose in (0.25, 0.5):
            rows.append(row("oracle", seed, dose * BALANCING, noisy(dose * BALANCING), dose=dose))
        for n in grid:
            added = BALANCING + n * 200
            rows.append(row("oracle", seed, added, noisy(added), n_aug_units=n))
            rows.append(row("mix", seed, added, noisy(real_share * added), n_aug_units=n, access="seed"))
            rows.append(
                row("junk", seed, added, real_rows_risk(0) + level + 0.05, n_aug_units=n, access="seed")
            )
            rows.append(row("gold", seed, added, 0.30 + level, n_aug_units=n, access="seed"))
    return pd.DataFrame(rows)


def at(worth: pd.DataFrame, method: str, n: float, metric: str = "balanced_ce_cal") -> pd.Series:
    (index,) = worth.index[
        (worth["method"] == method) & (worth["n_aug_units"] == n) & (worth["metric"] == metric)
    ]
    return worth.loc[index]


def test_price_reads_a_monotone_curve_between_its_rungs_and_censors_past_its_ends():
    m = np.array([0.0, 100.0, 300.0])
    curve = np.array([0.0, 1.0, 2.0])  # goodness: larger is better
    assert price(m, curve, np.array([0.5, 1.5, 2.0, 0.0])).tolist() == [50.0, 200.0, 300.0, 0.0]
    assert price(m, curve, np.array([-0.1]))[0] == -np.inf  # worse than raw
    assert price(m, curve, np.array([2.1]))[0] == np.inf  # better than the largest dose
    assert np.isnan(price(m, np.zeros(3), np.array([0.0]))[0])  # real rows buy nothing


def test_a_mix_of_real_and_inert_rows_is_worth_its_real_rows():
    worth = worth_table(augment_results(real_share=0.5))
    for n in (6, 10, 18):
        mix = at(worth, "mix", n)
        truth = 0.5 * (BALANCING + n * 200)
        assert mix["worth_status"] == Worth.MEASURED
        assert mix["m_eff_low"] <= truth <= mix["m_eff_high"]
        assert mix["exchange_rate_low"] <= 0.5 <= mix["exchange_rate_high"]
        assert mix["m_eff_high"] - mix["m_eff_low"] < truth  # an interval that says something
    # the same on AUC, whose direction is the other way round
    mix_auc = at(worth, "mix", 18, "auc")
    assert mix_auc["m_eff_low"] <= 0.5 * (BALANCING + 3600) <= mix_auc["m_eff_high"]


def test_the_oracles_own_rows_are_worth_those_rows():
    worth = worth_table(augment_results())
    oracle = worth[(worth["method"] == "oracle") & (worth["metric"] == "balanced_ce_cal")]
    assert len(oracle) == 5  # its grid points only: the doses below 1 are the ladder, not points
    inside = (oracle["m_eff_low"] <= oracle["rows_added"]) & (oracle["rows_added"] <= oracle["m_eff_high"])
    assert inside.all()


def test_censored_worth_is_said_not_extrapolated():
    worth = worth_table(augment_results())
    junk, gold = at(worth, "junk", 10), at(worth, "gold", 10)
    assert junk["worth_status"] == Worth.HURTS and junk["m_eff"] == -np.inf
    assert junk["worth"].startswith("hurts (worse than raw) [hurts, hurts]")
    largest = BALANCING + 18 * 200
    assert gold["worth_status"] == Worth.AT_LEAST and gold["m_eff"] == np.inf
    assert (
        gold["worth"]
        == f"at least {largest:,} (beyond the largest dose) [>= {largest:,}, >= {largest:,}] real rows"
    )
    # censored values never become numbers in MLflow
    logged = [name for name in worth_metrics(worth) if "/junk/" in name or "/gold/" in name]
    assert logged and all(name.endswith("/rows_added") for name in logged)


def test_the_ratio_protocol_has_a_dose_curve_per_k():
    rows = []
    for seed in range(6):
        for k, ratio in ((2, 3.0), (8, 9.0)):
            added = k * 100
            base = 0.60 + 0.01 * k  # a larger k: more majority rows, a harder base
            rows.append(row("raw", seed, 0, base + 0.001 * seed, experiment="ratio", ratio=ratio))
            for dose in (0.25, 0.5, 1.0, 2.0):
                m = dose * added
                rows.append(row("oracle", seed, m, base - 0.1 * m / 1600 + 0.001 * seed, dose=dose,
                                experiment="ratio", ratio=ratio))  # fmt: skip
            rows.append(row("smote", seed, added, base - 0.1 * 0.25 * added / 1600 + 0.001 * seed,
                            access="seed", experiment="ratio", ratio=ratio))  # fmt: skip
    worth = worth_table(pd.DataFrame(rows), metrics=("balanced_ce_cal",))
    smote = worth[worth["method"] == "smote"].set_index("ratio")
    assert smote.loc[3.0, "m_eff"] == pytest.approx(50)  # a quarter of its 200 rows, on k = 2's curve
    assert smote.loc[9.0, "m_eff"] == pytest.approx(200)  # a quarter of 800 rows, on k = 8's own
    assert largest_worth(worth[worth["method"] == "smote"])["ratio"].tolist() == [9.0]


def test_results_without_the_rows_added_are_refused_with_the_fix():
    results = augment_results(seeds=2).drop(columns="n_added")
    with pytest.raises(SynthscaleError, match="lacks column n_added.*rerun the sweep"):
        worth_table(results)


def test_the_worth_curve_has_the_ceiling_of_its_saturating_law_and_none_when_it_keeps_growing():
    rng = np.random.default_rng(0)
    rows_added = np.array([800.0, 1200, 2000, 2800, 3600, 4400])
    draws = 300 * rows_added / (rows_added + 400) + rng.normal(0, 10, (201, len(rows_added)))
    ceiling, low, high, saturates = worth_ceiling(rows_added, draws, m_max=5000)
    assert saturates and low <= 300 <= high and high - low < 60
    growing = 0.5 * rows_added + rng.normal(0, 10, (201, len(rows_added)))
    assert not worth_ceiling(rows_added, growing, m_max=5000)[3]
    # censored draws count as worth nothing (hurts) or the largest dose (beyond it)
    censored = np.full((5, len(rows_added)), -np.inf)
    assert worth_ceiling(rows_added, censored, m_max=5000)[0] == 0


def test_augment_worth_rows_carry_their_curves_ceiling():
    worth = worth_table(augment_results(real_share=0.5))
    mix = worth[(worth["method"] == "mix") & (worth["metric"] == "balanced_ce_cal")]
    assert mix["worth_ceiling"].nunique() == 1  # one curve, one ceiling
    assert mix["worth_ceiling"].iloc[0] == "no ceiling in reach: worth still grows with the rows"
