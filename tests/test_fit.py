"""The scaling-law fitter recovers known exponents, covers them, and refuses what it cannot fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthscale.errors import SynthscaleError
from synthscale.fit import (
    ALPHA_BOUNDS,
    CATALOGUE,
    Curve,
    FitStatus,
    FittedLaw,
    curve_design,
    curve_levels,
    fit_curve,
    fit_metrics,
    fit_results,
    l_inf_ceiling,
    law_fit,
    ratio_gaps,
    residual_table,
    seed_levels,
    shifted_optimum,
    shifted_rss_grid,
    solve_given_alpha,
)

N_GRID = np.arange(2, 20, 2) * 200.0  # the default augment grid with s = 200
SEEDS = 5


def simulated_curve(
    alpha: float, noise: float, rng: np.random.Generator, l_inf=0.8, c=0.5, seed_sd=0.0
) -> Curve:
    """The power law at every N for each seed, plus a level per seed (sd `seed_sd`, shared by
    the seed's points as a shared split would) and independent noise per point."""
    n = np.repeat(N_GRID, SEEDS)
    seed = np.tile(np.arange(SEEDS), len(N_GRID))
    level = rng.normal(0.0, seed_sd, SEEDS)[seed]
    loss = l_inf + level + c * (n / N_GRID.max()) ** (-alpha) + rng.normal(0.0, noise, len(n))
    return Curve(n, loss, seed)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_noise_free_curves_give_back_alpha(alpha):
    row = fit_curve(simulated_curve(alpha, 0.0, np.random.default_rng(0)), bootstrap_replicates=0)
    assert row["alpha"] == pytest.approx(alpha, abs=0.05)
    assert row["L_inf"] == pytest.approx(0.8, abs=1e-3) and row["C"] == pytest.approx(0.5, abs=1e-3)
    assert row["notes"] == "" and row["status"] == FitStatus.IDENTIFIED == "identified"


def test_profile_intervals_cover_the_true_alpha():
    rng = np.random.default_rng(1)
    covered = [
        row["alpha_ci_low"] <= 1.0 <= row["alpha_ci_high"]
        for row in (fit_curve(simulated_curve(1.0, 0.03, rng), bootstrap_replicates=0) for _ in range(60))
    ]
    assert np.mean(covered) >= 0.88  # nominal 0.95; bench/fit_coverage.py runs 200 sweeps per alpha


def test_the_theory_test_rejects_a_wrong_alpha_and_keeps_the_right_one():
    rng = np.random.default_rng(2)
    curve = simulated_curve(2.0, 0.01, rng)
    assert fit_curve(curve, theory_alpha=1.0, bootstrap_replicates=0)["theory_p_value"] < 1e-3
    assert fit_curve(curve, theory_alpha=2.0, bootstrap_replicates=0)["theory_p_value"] > 0.05


WIDE_GRID = np.geomspace(200, 51_200, 12)  # 2.4 decades, the span of sweeps/scaling.yaml
FAMILIES = {  # generating law of each model, as a function of N in rows
    "saturating": lambda n: 0.5 + 0.6 * (n / 51_200) ** -0.5,
    "power": lambda n: 0.5 * (n / 51_200) ** -0.3,
    "theory": lambda n: 0.6 + 0.4 * (n / 51_200) ** -1.0,
    "loglinear": lambda n: 1.2 - 0.08 * np.log(n / 200),
    "shifted": lambda n: 0.5 + 0.6 * ((3_000 + n) / (3_000 + 51_200)) ** -1.0,
}


def family_curve(law, rng: np.random.Generator, noise=0.01, seed_sd=0.02) -> Curve:
    n = np.repeat(WIDE_GRID, SEEDS)
    seed = np.tile(np.arange(SEEDS), len(WIDE_GRID))
    loss = law(n) + rng.normal(0.0, seed_sd, SEEDS)[seed] + rng.normal(0.0, noise, len(n))
    return Curve(n, loss, seed)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_model_selection_picks_the_generating_family(family):
    rng = np.random.default_rng(30)
    picked = [fit_curve(family_curve(FAMILIES[family], rng), bootstrap_replicates=0)["preferred_model"]
              for _ in range(15)]  # fmt: skip
    # theory vs saturating: nested with one parameter, AIC keeps the simpler one ~84 % of the time
    assert picked.count(family) >= 11, picked


def test_l_inf_is_held_in_zero_to_the_smallest_loss():
    """A slow pure power law on a short grid: unbounded, L_inf runs far below 0 (the fitter
    used to return L_inf = -23 with alpha at its lower edge); bounded, it is the pure law."""
    rng = np.random.default_rng(31)
    n = np.repeat(N_GRID, SEEDS)
    curve = Curve(n, 0.6 * (n / 3600) ** -0.08 + rng.normal(0, 0.004, len(n)), np.tile(np.arange(SEEDS), 9))
    row = fit_curve(curve, bootstrap_replicates=0)
    assert row["law"] == "power" and row["L_inf"] == 0.0 and row["L_inf_at_bound"]
    assert row["alpha"] == pytest.approx(0.08, abs=0.02) and row["identified"]
    assert row["alpha_ci_low"] < 0.08 < row["alpha_ci_high"] < 0.2
    assert "alpha = 1 rejected, p < 0.001" in row["verdict"]


def test_the_ceiling_on_l_inf_allows_for_noise_on_a_curve_that_has_levelled_off():
    """Points scatter below a flat tail: the ceiling is the smallest mean over seeds plus two
    standard errors, above the smallest single point, and a steep law's alpha is not dragged
    down by a ceiling under its true asymptote."""
    rng = np.random.default_rng(9)
    law = lambda n: 0.5 + 0.6 * ((3_000 + n) / (3_000 + 51_200)) ** -2.0 / (3_048 / 54_200) ** -2.0  # noqa: E731
    curve = family_curve(law, rng, noise=0.02, seed_sd=0.02)
    by_n = pd.DataFrame({"n": curve.n, "loss": curve.loss}).groupby("n")["loss"]
    expected = (by_n.mean() + 2 * by_n.std() / np.sqrt(by_n.count())).min()
    assert l_inf_ceiling(curve) == pytest.approx(expected)
    assert l_inf_ceiling(curve) > curve.loss.min() + 0.02
    with_sd = Curve(curve.n, curve.loss, curve.seed, sd=np.full(len(curve.n), 0.01))
    assert l_inf_ceiling(with_sd) == pytest.approx((by_n.mean() + 0.02).min())
    row = fit_curve(curve, bootstrap_replicates=0)
    assert row["law"] == "shifted" and row["alpha_ci_low"] < 2.0 < row["alpha_ci_high"]  # at the
    # smallest single point it was 0.80 [0.69, 0.95]


def test_the_bounded_solve_matches_scipy_lsq_linear():
    from scipy.optimize import lsq_linear

    rng = np.random.default_rng(32)
    for trial in range(20):
        curve = family_curve(FAMILIES["saturating"], rng, noise=0.05)
        loss = curve.loss if trial % 2 else 11.0 - curve.loss  # a rising loss pushes L_inf to its upper bound
        design = curve_design(Curve(curve.n, loss, curve.seed))
        alpha = rng.uniform(0.1, 2.0)
        coef, rss = solve_given_alpha(design, alpha, "saturating")
        root_w = np.sqrt(design.weights)
        matrix = np.column_stack([np.ones_like(design.x), design.x**-alpha, design.levels]) * root_w[:, None]
        lower = [0.0] + [-np.inf] * (matrix.shape[1] - 1)
        upper = [design.l_inf_max] + [np.inf] * (matrix.shape[1] - 1)
        reference = lsq_linear(matrix, loss * root_w, bounds=(lower, upper), tol=1e-12)
        assert 0.0 <= coef[0] <= design.l_inf_max
        assert rss == pytest.approx(2 * reference.cost, rel=1e-6, abs=1e-10)
        assert coef[0] == pytest.approx(reference.x[0], abs=1e-6)


def test_n_eps_and_the_next_block_follow_the_fitted_curve():
    row = fit_curve(simulated_curve(1.0, 0.0, np.random.default_rng(0)), epsilon=0.05, bootstrap_replicates=0)
    # C * (N / 3600)^-1 = 0.05  ->  N = 3600 * 0.5 / 0.05
    assert row["n_eps"] == pytest.approx(36000, rel=1e-3)
    # one more block of 400 rows: 0.5 * (1 - 3600 / 4000)
    assert row["next_block_gain"] == pytest.approx(0.05, rel=1e-3)


def test_cluster_bootstrap_interval_brackets_the_estimate_and_one_seed_is_noted():
    rng = np.random.default_rng(4)
    row = fit_curve(simulated_curve(1.0, 0.02, rng), bootstrap_replicates=50)
    assert row["alpha_boot_low"] <= row["alpha"] <= row["alpha_boot_high"]
    curve = simulated_curve(1.0, 0.02, rng)
    one_seed = Curve(curve.n[curve.seed == 0], curve.loss[curve.seed == 0], curve.seed[curve.seed == 0])
    row = fit_curve(one_seed, bootstrap_replicates=50)
    assert np.isnan(row["alpha_boot_low"]) and "1 seed(s): no bootstrap interval" in row["notes"]


def test_a_flat_curve_is_flagged_not_quoted():
    n = np.repeat(N_GRID, SEEDS)
    flat = Curve(
        n, 2.0 + np.random.default_rng(5).normal(0, 0.05, len(n)), np.tile(np.arange(SEEDS), len(N_GRID))
    )
    assert (
        "not identified" in fit_curve(flat, bootstrap_replicates=0)["notes"]
        or "no decay" in fit_curve(flat, bootstrap_replicates=0)["notes"]
    )


def results_table(alpha: float = 1.0, n_units=(2, 4, 6, 8), seeds=2) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        for units in (0, *n_units):
            n = units * 200
            loss = 0.8 + 0.5 * (n / 1600) ** -alpha if n else 3.0
            rows.append(
                dict(dataset="craft", task="imbalance", experiment="augment", method="smote",
                     classifier="xgboost", n_aug=n, seed=seed, ratio=9.0, minority_ce=loss + 0.001 * seed)
            )  # fmt: skip
        for ratio, gap in ((1, 0.0), (5, 0.4), (10, 0.9)):
            for method, loss in (("raw", 1.0 + gap), ("smote", 1.0)):
                rows.append(dict(dataset="craft", task="imbalance", experiment="ratio", method=method,
                                 classifier="xgboost", n_aug=0, seed=seed, ratio=ratio, minority_ce=loss))  # fmt: skip
    return pd.DataFrame(rows)


def test_fit_results_fits_each_augment_curve_on_n_above_zero():
    table = fit_results(results_table(), "minority_ce")
    assert table[["task", "method"]].values.tolist() == [["imbalance", "smote"]]
    assert table["n_points"].iloc[0] == 4 * 2
    assert table["alpha"].iloc[0] == pytest.approx(1.0, abs=0.05)


def test_ratio_gaps_by_hand():
    gaps = ratio_gaps(results_table(), "minority_ce")
    row = gaps.iloc[0]
    assert row["method"] == "smote" and row["gap_at_max_ratio"] == pytest.approx(0.9)
    assert row["gap_slope_per_ratio"] == pytest.approx(np.polyfit([1, 5, 10], [0.0, 0.4, 0.9], 1)[0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t[t["n_aug"] <= 600], "at least 4 distinct N > 0"),
        (
            lambda t: t.assign(minority_ce=t["minority_ce"].where(t["n_aug"] != 400, -1.0)),
            "non-positive or not finite",
        ),
        (
            lambda t: t.assign(minority_ce=t["minority_ce"].where(t["n_aug"] != 400, np.inf)),
            "non-positive or not finite",
        ),
        (lambda t: t.drop(columns="seed"), "lacks column"),
    ],
)
def test_bad_results_are_refused_by_name(change, message):
    with pytest.raises(SynthscaleError, match=message):
        fit_results(change(results_table()), "minority_ce")


def test_an_unknown_metric_gets_a_suggestion():
    with pytest.raises(
        SynthscaleError, match="--metric minority_cee: no such column; did you mean 'minority_ce'"
    ):
        fit_results(results_table(), "minority_cee")


def test_cli_fit_writes_every_format(tmp_path, capsys):
    from synthscale.cli import main

    path = tmp_path / "results.csv"
    results_table().to_csv(path, index=False)
    assert main(["fit", str(path), "-o", str(tmp_path / "fit")]) == 0
    names = sorted(p.name for p in (tmp_path / "fit").iterdir())
    assert names == sorted(
        [f"{stem}.{ext}" for stem in ("exponents", "ratio_gaps") for ext in ("csv", "json", "md", "tex")]
        + ["residuals.csv", "residuals.json"]
    )
    residuals = pd.read_csv(tmp_path / "fit" / "residuals.csv")
    assert len(residuals) == 2 * 4 and {"fitted", "residual", "standardized_residual"} <= set(
        residuals.columns
    )
    assert "\\begin{tabular}" in (tmp_path / "fit" / "exponents.tex").read_text()
    markdown = (tmp_path / "fit" / "exponents.md").read_text()
    assert markdown.startswith("| dataset | task | method |") and "| craft | imbalance | smote |" in markdown
    assert "| verdict |" in markdown.splitlines()[0] and "decays like N^-1 " in markdown
    tex = (tmp_path / "fit" / "exponents.tex").read_text()
    assert "minority\\_ce" in tex and "minority_ce" not in tex and "booktabs" in tex.splitlines()[0]
    out = capsys.readouterr().out
    assert "| craft | imbalance | smote | xgboost | decays | " in out  # its class first, then alpha
    assert "craft/imbalance/smote/xgboost: falls with N, more rows help: " in out
    assert "; decays like N^-1 [" in out


def test_a_steep_exponent_on_a_wide_grid_is_recovered():
    """x^-alpha spans 1e12 here: the profile's solve must not drop the intercept."""
    n = np.repeat(np.geomspace(10, 10_000, 8), 3)
    loss = 0.8 + 0.5 * (n / n.max()) ** -4.0
    row = fit_curve(Curve(n, loss, np.tile(np.arange(3), 8)), bootstrap_replicates=0)
    assert row["alpha"] == pytest.approx(4.0, abs=0.05)


def test_a_constant_loss_reports_no_exponent():
    n = np.repeat(N_GRID, SEEDS)
    row = fit_curve(Curve(n, np.full(len(n), 1.5), np.tile(np.arange(SEEDS), len(N_GRID))))
    assert np.isnan(row["alpha"]) and np.isnan(row["theory_p_value"]) and np.isnan(row["n_eps"])
    assert "constant" in row["notes"] and row["status"] == "no_decay"
    assert row["curve_class"] == "flat" and row["verdict"] == "flat: loss is the same at every N"


def test_a_non_numeric_metric_and_skipped_curves_are_reported():
    with pytest.raises(SynthscaleError, match="--metric method: not a numeric column"):
        fit_results(results_table(), "method")
    two_curves = pd.concat([results_table(), results_table(n_units=(2, 4)).assign(method="ros")])
    table = fit_results(two_curves, "minority_ce")
    assert table["method"].tolist() == ["smote"]
    assert table.attrs["skipped"] == [
        "craft/imbalance/ros/xgboost: 2 distinct N > 0, needs 4; add values to experiment.augment.n_aug"
    ]


def test_seed_levels_are_sum_to_zero_coded():
    design = seed_levels(np.array([3, 3, 7, 7, 9, 9]))
    assert design.shape == (6, 2)
    assert np.allclose(design[[0, 2, 4]], [[1, 0], [0, 1], [-1, -1]])
    assert seed_levels(np.array([1, 1, 1])).shape == (3, 0)


def test_seed_levels_need_two_points_per_seed():
    one_point_seed = Curve(np.array([1.0, 2.0, 3.0, 1.0]), np.ones(4), np.array([0, 0, 0, 1]))
    assert curve_levels(one_point_seed, seed_effects=True).shape == (4, 0)
    assert curve_levels(simulated_curve(1.0, 0.0, np.random.default_rng(0)), True).shape == (45, 4)
    assert curve_levels(simulated_curve(1.0, 0.0, np.random.default_rng(0)), False).shape == (45, 0)


def test_seed_levels_absorb_a_shared_split_and_sharpen_alpha():
    """Per-seed offsets much larger than the noise: treating the points as independent widens
    the interval several times; with a level per seed alpha is pinned by the curves' shape."""
    rng = np.random.default_rng(11)
    curve = simulated_curve(1.0, 0.01, rng, seed_sd=0.1)
    with_levels = fit_curve(curve, bootstrap_replicates=0)
    without = fit_curve(curve, bootstrap_replicates=0, seed_effects=False)
    assert with_levels["seed_effects"] and not without["seed_effects"]
    assert with_levels["alpha"] == pytest.approx(1.0, abs=0.05)
    assert with_levels["alpha_ci_low"] <= 1.0 <= with_levels["alpha_ci_high"]
    width = with_levels["alpha_ci_high"] - with_levels["alpha_ci_low"]
    assert 3 * width < without["alpha_ci_high"] - without["alpha_ci_low"]


def test_intervals_with_seed_levels_cover_the_true_alpha():
    rng = np.random.default_rng(12)
    covered = [
        row["alpha_ci_low"] <= 1.0 <= row["alpha_ci_high"]
        for row in (
            fit_curve(simulated_curve(1.0, 0.03, rng, seed_sd=0.05), bootstrap_replicates=0)
            for _ in range(60)
        )
    ]
    assert np.mean(covered) >= 0.88  # nominal 0.95; bench/fit_coverage.py runs 200 sweeps per alpha


def test_residuals_are_loss_minus_fit_and_skip_curves_without_an_exponent():
    table = results_table(alpha=1.0, n_units=(2, 4, 6, 8, 10), seeds=3)
    flat = table[table["method"] == "smote"].assign(method="flat", minority_ce=1.0)
    both = pd.concat([table, flat], ignore_index=True)
    exponents = fit_results(both, "minority_ce")
    residuals = residual_table(both, exponents)
    assert set(residuals["method"]) == {"smote"}
    smote = both[(both["method"] == "smote") & (both["experiment"] == "augment") & (both["n_aug"] > 0)]
    assert len(residuals) == len(smote)
    assert np.allclose(residuals["loss"] - residuals["fitted"], residuals["residual"])
    assert np.allclose(residuals["residual"], 0.0, atol=1e-6)  # the table is an exact power law


def test_the_fitted_law_is_the_curve_the_residuals_and_the_figures_use():
    """One seed, so no seed levels: the residual table's fitted values are the exponents row's
    law evaluated at N, which is what the report draws."""
    curve_table = results_table(alpha=0.7, n_units=tuple(range(2, 20, 2)), seeds=1)
    exponents = fit_results(curve_table, "minority_ce", bootstrap_replicates=0)
    residuals = residual_table(curve_table, exponents)
    for row in exponents.to_dict("records"):
        law = FittedLaw.from_row(row)
        points = residuals[residuals["method"] == row["method"]]
        assert np.allclose(points["fitted"], law.predict(points["n_aug"].to_numpy(float)))
    shifted = FittedLaw(l_inf=0.2, c=0.5, alpha=1.0, n_ref=1_000.0, shift=1_000.0)
    assert shifted.predict(np.array([1_000.0]))[0] == pytest.approx(0.7)  # C is the excess at N_ref
    assert shifted.predict(np.array([0.0]))[0] == pytest.approx(0.2 + 0.5 * 2)  # finite at N = 0
    assert FittedLaw.from_row({"L_inf": 0.1, "C": 1, "alpha": 1, "N0": np.nan}, n_ref=10).shift == 0.0


def test_the_catalogue_counts_each_laws_coefficients_and_names_it_for_the_verdict():
    assert [law for law, spec in CATALOGUE.items() if spec.free_alpha] == ["shifted", "saturating", "power"]
    assert {law: spec.coefficients for law, spec in CATALOGUE.items()} == {
        "shifted": 4, "saturating": 3, "power": 2, "theory": 2, "loglinear": 2
    }  # fmt: skip


def test_fit_metrics_name_the_dataset():
    table = results_table()
    both = pd.concat([table, table.assign(dataset="other")], ignore_index=True)
    metrics = fit_metrics(fit_results(both, "minority_ce"))
    assert any("/other/" in name for name in metrics) and any("/craft/" in name for name in metrics)


def test_cli_fit_without_seed_levels_says_so_in_the_table(tmp_path):
    from synthscale.cli import main

    path = tmp_path / "results.csv"
    results_table().to_csv(path, index=False)
    assert main(["fit", str(path), "--no-seed-levels", "-o", str(tmp_path / "fit")]) == 0
    assert not pd.read_csv(tmp_path / "fit" / "exponents.csv")["seed_effects"].any()


def test_the_published_curves_all_get_a_finite_alpha_off_the_bounds_and_a_verdict_on_alpha_1():
    from synthscale.data.published import published_results

    published = published_results()
    for metric in ("minority_ce", "balanced_ce"):
        table = fit_results(published[published[metric].notna()], metric, bootstrap_replicates=0)
        assert len(table) == (5 if metric == "minority_ce" else 6)
        assert np.isfinite(table["alpha"]).all() and (table["L_inf"] >= 0).all()
        assert (table["alpha_ci_low"] > ALPHA_BOUNDS[0]).all() and (
            table["alpha_ci_high"] < ALPHA_BOUNDS[1]
        ).all()
        assert table["identified"].all()
        assert table["verdict"].str.contains("alpha = 1 rejected|consistent with alpha = 1").all()
        assert (table["decades"] < 1).all()  # N = 401 ... 3601: under one decade
        assert "means over seeds: no bootstrap interval" in table["notes"].iloc[0]


def test_cli_fit_published_prints_a_verdict_per_curve(tmp_path, capsys):
    from synthscale.cli import main

    assert main(["fit", "--published", "--metric", "balanced_ce", "-o", str(tmp_path / "pub")]) == 0
    out = capsys.readouterr().out
    assert "arXiv 2406.03628" in out and out.count("; decays like N^-") == 6
    table = pd.read_csv(tmp_path / "pub" / "exponents.csv")
    assert set(table["dataset"]) == {"adult", "craft", "gender"}
    assert main(["fit", "--published", str(tmp_path / "x.csv")]) == 2
    assert "one of the two" in capsys.readouterr().err


def test_a_short_grid_is_not_identified_and_says_to_widen_it():
    """A shallow decay on the paper's grid (under one decade), buried in noise: the profile
    interval runs to a search bound, and the verdict says so instead of quoting alpha."""
    rng = np.random.default_rng(34)
    row = fit_curve(simulated_curve(0.5, 0.03, rng, l_inf=0.6, c=0.01), bootstrap_replicates=0)
    assert not row["identified"] and row["curve_class"] == "not_identified"
    assert row["verdict"].startswith("not identified: ") and "widen the N grid" in row["verdict"]


def test_the_published_craft_curve_is_a_pure_law_rejecting_1_over_n_unless_n0_is_free():
    """On under one decade the pure law is the best law whose alpha is identified; the verdict
    tests alpha = 1 in it and again with L_inf and N0 free, where 1/(N0 + N) cannot be
    rejected, and says that the (N0 + N) law fits better but is not identified there."""
    from synthscale.data.published import published_results

    published = published_results()
    craft = published[(published["dataset"] == "craft") & (published["task"] == "imbalance")]
    row = fit_results(craft, "minority_ce", bootstrap_replicates=0).iloc[0]
    assert row["law"] == "power" and row["identified"] and row["preferred_model"] == "shifted"
    assert row["theory_p_value"] < 0.01 and row["theory_p_value_free"] > 0.05
    assert row["alpha_ci_low"] < row["alpha"] < row["alpha_ci_high"] < 1  # L_inf free in its bounds
    assert row["alpha_free_ci_high"] == ALPHA_BOUNDS[1]
    assert (
        f"alpha = 1 rejected, p = {row['theory_p_value']:.2g}; with L_inf and N0 free: alpha in ["
        in row["verdict"]
    )
    assert "no upper bound], consistent with alpha = 1" in row["verdict"]
    assert "the (N0 + N) law fits better" in row["verdict"] and "widen the N grid" in row["verdict"]


def test_a_curve_flat_until_n_passes_the_base_is_the_shifted_law():
    """L = L_inf + C ((N0 + N)/(N0 + N_ref))^-1: flat while N << N0 = 3,000 rows, as the
    scaling sweep's curves are (the base's rows dominate the training set)."""
    rng = np.random.default_rng(36)
    row = fit_curve(
        family_curve(FAMILIES["shifted"], rng, noise=0.005, seed_sd=0.02), bootstrap_replicates=50
    )
    assert row["law"] == row["preferred_model"] == "shifted" and row["identified"]
    assert row["alpha_ci_low"] < 1.0 < row["alpha_ci_high"] < 3
    assert 1_000 < row["N0"] < 9_000
    assert row["verdict"].startswith("falls with N")
    assert (
        row["verdict"].split("; ", 1)[1].startswith("decays like (N0 + N)^-")
        and "bootstrap" not in row["notes"]
    )
    # the cluster bootstrap refits N0 too, so its interval holds the estimate and stays finite
    assert row["alpha_boot_low"] <= row["alpha"] <= row["alpha_boot_high"] < 3


def test_the_joint_search_of_the_shifted_law_reaches_the_optimum_of_its_profile():
    """The (alpha, N0) of the joint grid + Nelder-Mead has an RSS no worse than the best point
    of a fine alpha grid with N0 profiled at each, and the batched grid RSS equals the
    one-at-a-time bounded solve."""
    rng = np.random.default_rng(5)
    design = curve_design(family_curve(FAMILIES["shifted"], rng, noise=0.02, seed_sd=0.02))
    alphas, shifts = np.array([0.05, 0.7, 3.0]), np.array([1.0, 800.0, 40_000.0])
    batched = shifted_rss_grid(design, alphas, shifts)
    single = [[solve_given_alpha(design.shifted(s), a, "saturating")[1] for s in shifts] for a in alphas]
    np.testing.assert_allclose(batched, single, rtol=1e-9)
    alpha, shift = shifted_optimum(design, 30, 16)
    joint = solve_given_alpha(design.shifted(shift), alpha, "saturating")[1]
    fine = min(law_fit(design, a, "shifted")[1] for a in np.geomspace(0.2, 5, 200))
    assert joint <= fine * (1 + 1e-6)


def test_verdict_wording_for_rejected_and_consistent_theory():
    rng = np.random.default_rng(34)
    steep = fit_curve(family_curve(FAMILIES["theory"], rng), bootstrap_replicates=0)
    assert "consistent with alpha = 1, p = " in steep["verdict"] and "(to L_inf = 0.6" in steep["verdict"]
    slow = fit_curve(family_curve(FAMILIES["power"], rng), bootstrap_replicates=0)
    assert "decays like N^-0.3 [" in slow["verdict"] and "pure power law, L_inf = 0" in slow["verdict"]
    assert "alpha = 1 rejected, p < 0.001" in slow["verdict"]


def test_curves_are_told_apart_by_data_access():
    table = results_table(n_units=(2, 4, 6, 8))
    both = pd.concat(
        [
            table.assign(data_access="train"),
            table.assign(data_access="seed", minority_ce=table["minority_ce"] * 1.1),
        ]
    )
    exponents = fit_results(both, "minority_ce", bootstrap_replicates=0)
    assert sorted(exponents["data_access"]) == ["seed", "train"]
    assert len(residual_table(both, exponents)) == 2 * len(
        table[(table["experiment"] == "augment") & (table["n_aug"] > 0)]
    )
    metrics = fit_metrics(exponents)
    assert any(name.endswith("/xgboost/seed/alpha") for name in metrics)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t[t["experiment"] == "ratio"], "no augment experiment.*protocols including augment"),
        (lambda t: t.assign(n_aug=t["n_aug"].astype(object).where(t["n_aug"] != 400, "many")),
         "column n_aug: 2 augment rows are not numbers \\(e.g. 'many'\\)"),
    ],
)  # fmt: skip
def test_results_without_augment_or_with_text_n_are_refused(change, message):
    with pytest.raises(SynthscaleError, match=message):
        fit_results(change(results_table()), "minority_ce")


def test_one_seed_is_fitted_and_says_it_has_no_bootstrap():
    table = fit_results(results_table(seeds=1), "minority_ce")
    assert np.isfinite(table["alpha"].iloc[0])
    assert "1 seed(s): no bootstrap interval" in table["notes"].iloc[0]


def test_ratio_gaps_keep_data_accesses_apart_against_the_one_raw():
    table = results_table()
    ratio = table[table["experiment"] == "ratio"]
    raw = ratio[ratio["method"] == "raw"].assign(data_access="none")
    smote = ratio[ratio["method"] == "smote"]
    both = pd.concat(
        [raw, smote.assign(data_access="train"), smote.assign(data_access="seed", minority_ce=1.2)]
    )
    gaps = ratio_gaps(both, "minority_ce").set_index("data_access")
    assert sorted(gaps.index) == ["seed", "train"]
    assert gaps.loc["train", "gap_at_max_ratio"] == pytest.approx(0.9)
    assert gaps.loc["seed", "gap_at_max_ratio"] == pytest.approx(0.7)


def test_a_curve_levelling_off_exponentially_quotes_a_lower_bound_on_alpha():
    """0.5 + 0.6 exp(-N / 5,000) on 2.4 decades: (N0 + N)^-alpha approaches it as alpha and N0
    grow together, so alpha has a lower bound only. The law stays the best one (not a worse
    law whose alpha happens to be identified), the verdict quotes the bound, and the figure
    draws it as a fit."""
    rng = np.random.default_rng(3)
    row = fit_curve(family_curve(lambda n: 0.5 + 0.6 * np.exp(-n / 5_000), rng), bootstrap_replicates=0)
    assert row["law"] == row["preferred_model"] == "shifted"
    assert row["bounded_below"] and not row["identified"] and row["status"] == "bounded_below"
    assert ALPHA_BOUNDS[0] < row["alpha_ci_low"] < row["alpha"] and row["alpha_ci_high"] == ALPHA_BOUNDS[1]
    law = row["verdict"].split("; ", 1)[1]
    assert law.startswith(f"decays at least like (N0 + N)^-{row['alpha_ci_low']:.2g} (alpha >= ")
    assert "levels off faster than a power law resolves" in row["verdict"]
