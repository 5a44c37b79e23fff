"""Figures, exports and the HTML report from a results table."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from synthscale.fit import fit_results
from synthscale.report import (
    latex_table,
    markdown_table,
    method_color,
    plot_augment_curves,
    plot_ratio_curves,
    save_figure,
    write_report,
)


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    rows = []
    for seed in range(2):
        for task in ("imbalance", "spurious"):
            for units in range(0, 10, 2):
                n = units * 200
                rows.append(dict(task=task, experiment="augment", method="smote", n_aug=n, ratio=9.0, seed=seed,
                                 minority_ce=(0.8 + 0.5 * (n / 1600) ** -1.0 if n else 2.5) + 0.01 * seed))  # fmt: skip
            for method, level in (("raw", 3.0), ("all_real", 0.5)):
                rows.append(dict(task=task, experiment="augment", method=method, n_aug=0, ratio=9.0, seed=seed,
                                 minority_ce=level))  # fmt: skip
            for ratio in (1, 5, 10):
                for method, slope in (("raw", 0.2), ("smote", 0.1)):
                    rows.append(dict(task=task, experiment="ratio", method=method, n_aug=0, ratio=ratio, seed=seed,
                                     minority_ce=0.8 + slope * ratio))  # fmt: skip
    table = pd.DataFrame(rows).assign(dataset="craft", classifier="xgboost")
    # the generator saw every training row, as the published curves' did
    return table.assign(data_access=np.where(table["method"].isin(["raw", "all_real"]), "none", "train"))


def test_ratio_figure_has_one_line_per_method(results):
    axes = plot_ratio_curves(results, "imbalance").axes[0]
    assert sorted(t.get_text() for t in axes.get_legend().get_texts()) == [
        "published llm, every training row seen (Nakada et al.)",  # craft is one of the paper's datasets
        "raw",
        "smote",
    ]
    mine = plot_ratio_curves(results.assign(dataset="mine"), "imbalance").axes[0]
    assert [t.get_text() for t in mine.get_legend().get_texts()] == ["raw", "smote"]
    raw = next(container for container in axes.containers if container.get_label() == "raw")
    line = raw.lines[0]
    assert list(line.get_xdata()) == [1, 5, 10] and np.allclose(line.get_ydata(), [1.0, 1.8, 2.8])


def test_augment_figure_draws_the_fit_and_both_reference_lines(results):
    exponents = fit_results(results, "minority_ce")
    figure = plot_augment_curves(results, exponents, "imbalance")
    axes = figure.axes[0]
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert {"smote", "raw (no oversampling)", "all real training rows"} <= set(legend)
    assert axes.get_xscale() == "log" and axes.get_yscale() == "log"
    fitted = [line for line in axes.get_lines() if len(line.get_xdata()) == 100]
    assert len(fitted) == 1
    x, y = fitted[0].get_xdata(), fitted[0].get_ydata()
    assert np.allclose(y, 0.8 + 0.5 * (x / 1600) ** -1.0, rtol=0.02)


def test_figures_are_written_as_png_and_svg(results, tmp_path):
    paths = save_figure(plot_ratio_curves(results, "spurious"), tmp_path, "ratio_spurious")
    assert [p.name for p in paths] == ["ratio_spurious.png", "ratio_spurious.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in paths[1].read_text()


def test_report_page_embeds_every_figure_and_holds_the_exponents(results, tmp_path):
    index = write_report(results, fit_results(results, "minority_ce"), tmp_path, "minority_ce", "name: t\n")
    page = index.read_text()
    assert "<img" not in page and page.count("<svg") == 4  # one file to mail: no figure outside it
    for stem in ("ratio_imbalance", "ratio_spurious", "augment_imbalance", "augment_spurious"):
        figure = page[page.index(f'<figure id="{stem}">') :]
        assert figure.index("<svg") < figure.index("</figure>")  # the figure's own drawing, inline
        assert f'href="{stem}.svg"' in figure and (tmp_path / f"{stem}.png").is_file()
    assert "<table" in page and "smote" in page and "name: t" in page


def test_cli_report_on_a_results_file(results, tmp_path):
    from synthscale.cli import main

    path = tmp_path / "results.csv"
    results.to_csv(path, index=False)
    assert main(["report", str(path)]) == 0
    assert (tmp_path / "report" / "index.html").is_file() and (
        tmp_path / "report" / "exponents.tex"
    ).is_file()


def test_markdown_table_formats_numbers_and_missing_values():
    table = pd.DataFrame({"method": ["smote"], "alpha": [0.123456], "n_eps": [np.nan]})
    assert markdown_table(table) == "| method | alpha | n_eps |\n|---|---|---|\n| smote | 0.123 | – |\n"


def test_two_classifiers_get_separate_figures_not_an_average(results, tmp_path):
    both = pd.concat(
        [results, results.assign(classifier="logistic_regression", minority_ce=results["minority_ce"] + 1)]
    )
    write_report(both, fit_results(both, "minority_ce"), tmp_path, "minority_ce")
    assert (tmp_path / "ratio_imbalance_xgboost.svg").is_file()
    assert (tmp_path / "ratio_imbalance_logistic_regression.svg").is_file()
    axes = plot_ratio_curves(both, "imbalance", classifier="xgboost").axes[0]
    raw = next(container for container in axes.containers if container.get_label() == "raw")
    assert np.allclose(raw.lines[0].get_ydata(), [1.0, 1.8, 2.8])


def test_two_datasets_get_their_own_figures_each_with_its_own_fit(results, tmp_path):
    other = results.assign(dataset="adult", minority_ce=results["minority_ce"] * 2)
    both = pd.concat([results, other])
    exponents = fit_results(both, "minority_ce")
    write_report(both, exponents, tmp_path, "minority_ce")
    for dataset in ("craft", "adult"):
        assert (tmp_path / f"{dataset}_augment_imbalance.svg").is_file()
        assert (tmp_path / f"{dataset}_ratio_spurious.png").is_file()
    assert not (tmp_path / "augment_imbalance.svg").exists()
    page = (tmp_path / "index.html").read_text()
    assert "adult_augment_imbalance.svg" in page and "craft_augment_imbalance.svg" in page
    assert sorted(exponents["dataset"].unique()) == ["adult", "craft"]


def test_cli_export_from_results_or_exponents_with_chosen_formats_and_columns(results, tmp_path, capsys):
    from synthscale.cli import main

    path = tmp_path / "results.csv"
    results.to_csv(path, index=False)
    assert (
        main(
            ["export", str(path), "--formats", "tex,md", "--columns", "task,alpha", "-o", str(tmp_path / "a")]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["exponents.md", "exponents.tex"]
    markdown = (tmp_path / "a" / "exponents.md").read_text()
    assert markdown.startswith("| task | alpha |\n") and markdown.count("\n") == 4  # header, rule, 2 tasks
    fitted = fit_results(results, "minority_ce")
    fitted.to_csv(tmp_path / "exponents.csv", index=False)
    assert (
        main(["export", str(tmp_path / "exponents.csv"), "--formats", "json", "-o", str(tmp_path / "b")]) == 0
    )
    exported = pd.read_json(tmp_path / "b" / "exponents.json")
    np.testing.assert_allclose(exported["alpha"], fitted["alpha"])


def test_cli_export_residuals_from_a_results_file(results, tmp_path):
    from synthscale.cli import main

    path = tmp_path / "results.csv"
    results.to_csv(path, index=False)
    assert main(["export", str(path), "--formats", "csv,md", "--residuals", "-o", str(tmp_path / "a")]) == 0
    residuals = pd.read_csv(tmp_path / "a" / "exponents_residuals.csv")
    augment = results[
        (results["experiment"] == "augment") & (results["method"] == "smote") & (results["n_aug"] > 0)
    ]
    assert len(residuals) == len(augment)
    assert (tmp_path / "a" / "exponents_residuals.md").read_text().startswith("| dataset | task |")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--formats", "pdf"], r"--formats 'pdf': choose from csv, json, md, tex"),
        (["--columns", "task,alpah"], r"--columns: alpah not in the exponents; available: .*alpha"),
    ],
)
def test_cli_export_bad_input(results, tmp_path, capsys, args, message):
    import re

    from synthscale.cli import EXIT_USER_ERROR, main

    path = tmp_path / "results.csv"
    results.to_csv(path, index=False)
    assert main(["export", str(path), *args, "-o", str(tmp_path / "out")]) == EXIT_USER_ERROR
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_cli_export_residuals_need_the_results_not_the_exponents(results, tmp_path, capsys):
    from synthscale.cli import EXIT_USER_ERROR, main

    fit_results(results, "minority_ce").to_csv(tmp_path / "exponents.csv", index=False)
    code = main(["export", str(tmp_path / "exponents.csv"), "--residuals", "-o", str(tmp_path / "out")])
    assert code == EXIT_USER_ERROR
    assert "--residuals: pass the results.csv" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_augment_figure_legend_has_fits_levels_published_and_states_n_in_rows(results):
    exponents = fit_results(results, "minority_ce")
    axes = plot_augment_curves(results, exponents, "imbalance", seed_size=200).axes[0]
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert "smote fit: N^-1" in legend and "smote, N = 0" in legend
    assert "published llm, every training row seen (Nakada et al.)" in legend
    assert axes.get_xlabel() == "synthetic rows added, N (rows; s = 200 rows)"
    published = next(line for line in axes.get_lines() if line.get_label().startswith("published"))
    assert min(published.get_xdata()) == 401 and max(published.get_xdata()) == 3601


def test_the_published_curves_stay_off_a_sweep_whose_generators_saw_the_seed_set_alone(results):
    seed_only = results.assign(data_access=results["data_access"].replace({"train": "seed"}))
    exponents = fit_results(seed_only, "minority_ce")
    for axes in (
        plot_augment_curves(seed_only, exponents, "imbalance").axes[0],
        plot_ratio_curves(seed_only, "imbalance").axes[0],
    ):
        assert not [line for line in axes.get_lines() if line.get_label().startswith("published")]
    train = plot_ratio_curves(results, "imbalance").axes[0]
    assert [line for line in train.get_lines() if line.get_label().startswith("published")]


def test_each_figure_has_a_calibrated_twin_and_the_oracle_is_labelled_as_real_rows(results, tmp_path):
    oracle = results[results["method"] == "smote"].assign(method="oracle", data_access="none")
    both = pd.concat([results, oracle], ignore_index=True)
    both = both.assign(minority_ce_cal=both["minority_ce"] / 4, balanced_ce_cal=0.5, auc=0.8)
    both.loc[both["method"] == "oracle", ["balanced_ce_cal", "auc"]] = [0.4, 0.9]
    both.loc[both["method"] == "smote", ["balanced_ce_cal", "auc"]] = [0.45, 0.85]
    write_report(both, fit_results(both, "minority_ce"), tmp_path, "minority_ce", seed_size=200)
    for stem in ("ratio_imbalance", "augment_spurious"):
        assert (tmp_path / f"{stem}.svg").exists() and (tmp_path / f"{stem}_cal.svg").exists()
    exponents = fit_results(both, "minority_ce")
    twin = plot_augment_curves(both, exponents, "imbalance", "minority_ce_cal").axes[0]
    assert not [line for line in twin.get_lines() if " fit" in line.get_label()]  # fitted on another loss
    fitted = plot_augment_curves(both, exponents, "imbalance", "minority_ce").axes[0]
    assert [line for line in fitted.get_lines() if line.get_label().startswith("smote fit")]
    axes = plot_ratio_curves(both, "imbalance", "minority_ce_cal").axes[0]
    assert "oracle (real rows)" in [c.get_label() for c in axes.containers]
    assert not [line for line in axes.get_lines() if line.get_label().startswith("published")]  # none _cal
    gains = pd.read_csv(tmp_path / "gains.csv")
    smote = gains[(gains["method"] == "smote") & (gains["experiment"] == "augment")]
    assert np.allclose(smote["balanced_ce_cal_oracle_share"], 0.5) and np.allclose(
        smote["auc_oracle_share"], 0.5
    )
    assert "share of the oracle" in (tmp_path / "index.html").read_text()


def test_an_unidentified_fit_is_dashed_and_labelled_so(results):
    exponents = fit_results(results, "minority_ce").assign(identified=False)
    axes = plot_augment_curves(results, exponents, "imbalance").axes[0]
    fitted = next(line for line in axes.get_lines() if line.get_label().startswith("smote fit"))
    assert fitted.get_label() == "smote fit: not identified" and fitted.get_linestyle() == "--"


def test_a_method_keeps_its_colour_in_every_figure(results):
    exponents = fit_results(results, "minority_ce")
    ratio = plot_ratio_curves(results, "imbalance").axes[0]
    augment = plot_augment_curves(results, exponents, "spurious").axes[0]
    in_ratio = next(c for c in ratio.containers if c.get_label() == "smote").lines[0].get_color()
    in_augment = next(c for c in augment.containers if c.get_label() == "smote").lines[0].get_color()
    assert in_ratio == in_augment == method_color("smote")
    assert method_color("smote") != method_color("llm") and method_color("raw") == "black"


def test_report_puts_this_sweeps_llm_alpha_beside_the_published_one(results, tmp_path):
    llm = results[results["method"] == "smote"].assign(method="llm")
    both = pd.concat([results, llm], ignore_index=True)
    write_report(both, fit_results(both, "minority_ce"), tmp_path, "minority_ce", seed_size=200)
    page = (tmp_path / "index.html").read_text()
    assert "alpha_published" in page and "arXiv 2406.03628" in page
    assert "error bars: one standard deviation across seeds" in page and "s = 200 rows" in page
    seed_only = both.assign(data_access=both["data_access"].replace({"train": "seed"}))
    write_report(seed_only, fit_results(seed_only, "minority_ce"), tmp_path, "minority_ce", seed_size=200)
    page = (tmp_path / "index.html").read_text()
    assert "alpha_published" not in page and "No llm curve of this sweep has a published counterpart" in page


def test_latex_table_escapes_names_and_compiles():
    import shutil
    import subprocess

    table = pd.DataFrame({"method": ["gaussian_copula"], "metric": ["minority_ce"], "alpha": [0.31],
                          "verdict": ["decays like N^-0.31 [0.22, 0.4]; alpha = 1 rejected, p < 0.001"]})  # fmt: skip
    tex = latex_table(table)
    assert "gaussian\\_copula" in tex and "N\\textasciicircum{}-0.31" in tex and "p \\textless{} 0.001" in tex
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed: escaping checked, compilation not")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        document = (
            "\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n" + tex + "\\end{document}\n"
        )
        (Path(folder) / "t.tex").write_text(document)
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=folder,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:]


def test_the_generators_table_gives_each_samplers_kept_share_speed_and_realism(tmp_path):
    from synthscale.report import generator_costs, generators_section

    pools = pd.DataFrame(
        [  # two ctgan pools (acceptance), one llm pool with two targets (validity), smote (neither)
            {"pool": "a", "sampler": "ctgan", "acceptance": 0.2, "sampling_rows_per_s": 100.0,
             "training_seconds": 10.0, "detection_auc": 0.9},
            {"pool": "b", "sampler": "ctgan", "acceptance": 0.6, "sampling_rows_per_s": 300.0,
             "training_seconds": 30.0, "detection_auc": 0.7},
            {"pool": "c", "sampler": "llm", "validity": 1.0, "sampling_rows_per_s": 2000.0,
             "training_seconds": 40.0, "detection_auc": 0.6},
            {"pool": "c", "sampler": "llm", "validity": 0.9, "sampling_rows_per_s": 1000.0,
             "training_seconds": 40.0, "detection_auc": 0.8},
            {"pool": "d", "sampler": "smote", "detection_auc": 0.55},
        ]
    )  # fmt: skip
    costs = generator_costs(pools).set_index("sampler")
    assert costs["pools"].to_dict() == {"ctgan": 2, "llm": 1, "smote": 1}
    assert costs.loc["ctgan", "kept_share_mean"] == pytest.approx(0.4)
    assert costs.loc["ctgan", "kept_share_min"] == pytest.approx(0.2)
    assert costs.loc["llm", "kept_share_mean"] == pytest.approx(0.95)  # validity where no acceptance
    assert np.isnan(costs.loc["smote", "kept_share_mean"])
    assert (
        costs.loc["ctgan", "rows_per_s_median"] == 200.0 and costs.loc["llm", "rows_per_s_median"] == 1500.0
    )
    assert costs.loc["llm", "detection_auc_mean"] == pytest.approx(0.7)
    (section,) = generators_section(pools, tmp_path)
    assert "Generators" in section and (tmp_path / "generators.csv").is_file()
    assert generators_section(None, tmp_path) == []


def test_every_table_of_the_page_scrolls_inside_its_own_box(results, tmp_path):
    page = write_report(results, fit_results(results, "minority_ce"), tmp_path, "minority_ce").read_text()
    assert page.count("<table") >= 1 and page.count('<div class="wide"><table') == page.count("<table")
    assert re.search(r"\.wide\{[^}]*overflow-x:auto", page)


WIDE_PAGE_SCRIPT = """<script>window.onload = () => {
  document.title = "width " + document.documentElement.scrollWidth + " of " + window.innerWidth;
};</script></body>"""


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs a headless Chromium (apt install chromium)")
def test_the_page_is_no_wider_than_a_1400px_window_in_chromium(results, tmp_path):
    """The exponents table used to push the whole page sideways; the browser measures it."""
    page = write_report(results, fit_results(results, "minority_ce"), tmp_path, "minority_ce")
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", WIDE_PAGE_SCRIPT))
    dom = subprocess.run(
        ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
         "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    width, window = map(int, re.search(r"<title>width (\d+) of (\d+)</title>", dom).groups())
    assert window > 1000 and width <= window
