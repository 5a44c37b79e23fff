"""A curve's class against curves of known shape: flat with noise is flat, a known power law
decays with its exponent recovered, a rising curve rises, and too few seeds say how many more."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.fit import CurveClass, classify, decade_trend, fit_results
from synthscale.fit.design import Curve

N_GRID = np.array([2, 4, 6, 8, 10, 12, 14, 16, 18]) * 200.0


def curve_of(loss_of_n, seeds: int, noise: float, rng_seed: int = 0) -> Curve:
    rng = np.random.default_rng(rng_seed)
    n, loss, seed = [], [], []
    for s in range(seeds):
        level = rng.normal(0, 0.02)  # a seed's split moves its whole curve
        n += list(N_GRID)
        loss += list(loss_of_n(N_GRID) + level + rng.normal(0, noise, len(N_GRID)))
        seed += [s] * len(N_GRID)
    return Curve(np.array(n), np.array(loss), np.array(seed))


def results_of(curve: Curve, method: str = "llm") -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": "craft", "task": "imbalance", "method": method, "classifier": "xgboost",
        "experiment": "augment", "n_aug": curve.n, "seed": curve.seed, "balanced_ce_cal": curve.loss,
    })  # fmt: skip


def test_a_flat_curve_with_noise_is_flat_not_unidentified():
    flats = [classify(decade_trend(curve_of(lambda n: 0.55 + 0 * n, 5, 0.005, s))) for s in range(20)]
    assert flats.count(CurveClass.FLAT) >= 18  # two one-sided tests at 5 %, and a slope clear of 0 at 5 %
    row = fit_results(results_of(curve_of(lambda n: 0.55 + 0 * n, 5, 0.005)), "balanced_ce_cal").iloc[0]
    assert row["curve_class"] == "flat"
    assert np.isnan(row["alpha"])  # no exponent is quoted for a flat curve
    assert row["verdict"].startswith("flat: more rows change balanced_ce_cal by at most ")
    assert row["flat_bound"] < 0.015


def test_a_known_power_law_decays_with_its_exponent_recovered():
    row = fit_results(
        results_of(curve_of(lambda n: 0.40 + 0.15 * (n / 3600) ** -0.5, 5, 0.003)), "balanced_ce_cal"
    ).iloc[0]
    assert row["curve_class"] == "decays"
    assert row["slope_ci_high"] < 0
    assert row["alpha_ci_low"] <= 0.5 <= row["alpha_ci_high"]
    assert row["verdict"].startswith("falls with N, more rows help:")


def test_a_rising_loss_rises_and_a_rising_auc_helps():
    curve = curve_of(lambda n: 0.50 + 0.02 * np.log10(n), 5, 0.003)
    assert classify(decade_trend(curve)) is CurveClass.RISES
    loss = fit_results(results_of(curve), "balanced_ce_cal").iloc[0]
    assert loss["verdict"].startswith("rises with N, more rows hurt")
    auc = fit_results(results_of(curve).rename(columns={"balanced_ce_cal": "auc"}), "auc").iloc[0]
    assert auc["verdict"].startswith("rises with N, more rows help")


def test_too_few_seeds_say_how_many_would_settle_it():
    curve = curve_of(lambda n: 0.55 + 0 * n, 2, 0.03, rng_seed=3)  # too noisy to tell
    row = fit_results(results_of(curve), "balanced_ce_cal", bootstrap_replicates=0).iloc[0]
    assert row["curve_class"] == "not_identified"
    assert row["seeds_to_settle"] > 2
    assert f"about {row['seeds_to_settle']} seeds (now 2) would settle it" in row["verdict"]


def test_the_tolerance_is_the_users():
    curve = curve_of(lambda n: 0.55 + 0.004 * np.log10(n), 5, 0.004, rng_seed=1)
    assert classify(decade_trend(curve), tolerance=0.05) is not CurveClass.NOT_IDENTIFIED
    tight = classify(decade_trend(curve), tolerance=0.0001)
    assert tight in (CurveClass.NOT_IDENTIFIED, CurveClass.RISES)
    with pytest.raises(AssertionError):
        assert tight is CurveClass.FLAT
