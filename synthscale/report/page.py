"""The HTML report: the figures, the exponents beside the published ones, the leaderboard,
the oracle gain shares, the generators' costs and the sweep's configuration, in one
self-contained page."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from synthscale._io import atomic_write
from synthscale.data.published import published_results
from synthscale.experiments import CALIBRATED_SUFFIX, protocol_fits
from synthscale.fit import failed_fits, fit_results, model_formulas
from synthscale.gains import SHARE_SUFFIX, largest_points, oracle_gain_shares
from synthscale.leaderboard import (
    MIN_DATASETS,
    dataset_scores,
    friedman_table,
    leaderboard,
    left_out,
    plot_critical_difference,
    ranked_metrics,
)
from synthscale.report.figures import (
    PUBLISHED_ACCESS,
    figure_html,
    plot_augment_curves,
    plot_ratio_curves,
    save_figure,
)
from synthscale.report.tables import SUMMARY_COLUMNS, export_table
from synthscale.report.worth import worth_section

CD_METRICS = ("auc", "balanced_ce")  # the leaderboard's critical-difference figures


def published_comparison(exponents: pd.DataFrame, metric: str, theory_alpha: float = 1.0) -> pd.DataFrame:
    """This sweep's llm exponents beside the published ones (same dataset, task and metric)."""
    published = published_results()
    if metric not in published.columns:
        return pd.DataFrame()
    reference = fit_results(published[published[metric].notna()], metric, theory_alpha)
    ours = exponents[exponents["method"] == "llm"]
    if "data_access" in ours:  # theirs saw every training row: compare like with like
        ours = ours[ours["data_access"] == PUBLISHED_ACCESS]
    if ours.empty:
        return pd.DataFrame()
    columns = ["law", "alpha", "alpha_ci_low", "alpha_ci_high", "verdict"]
    keys = [k for k in ("dataset", "task") if k in ours.columns]
    extra = [k for k in ("classifier", "data_access") if k in ours.columns]
    merged = ours[[*keys, *extra, *columns]].merge(
        reference[[*keys, *columns]], on=keys, how="inner", suffixes=("", "_published")
    )
    return merged


def write_report(
    results: pd.DataFrame,
    exponents: pd.DataFrame,
    out_dir: str | Path,
    metric: str,
    config_text: str = "",
    seed_size: int | None = None,
    theory_alpha: float = 1.0,
    pools: pd.DataFrame | None = None,
    worth: pd.DataFrame | None = None,
) -> Path:
    """The paper's figures for every dataset and task (embedded, and as SVG and PNG files
    beside it), the exponents beside the published ones, and the config, in one index.html;
    with the sweep's `pools` (pools.csv), what each generator's rows cost."""
    out_dir = Path(out_dir)
    lead, sections = [], []
    datasets = sorted(results["dataset"].unique())
    for dataset in datasets:  # one dataset per figure, named in it when the sweep has several
        rows = results[results["dataset"] == dataset]
        fitted = exponents[exponents["dataset"] == dataset] if "dataset" in exponents else exponents
        prefix = f"{dataset}_" if len(datasets) > 1 else ""
        priced = None if worth is None or worth.empty else worth[worth["dataset"] == dataset]
        lead += worth_section(rows, out_dir, prefix, priced)
        sections += _dataset_figures(protocol_fits(rows), fitted, out_dir, metric, prefix, seed_size)
    results = protocol_fits(results)
    sections += gains_section(results, out_dir)
    sections += failures_section(results, out_dir) + leaderboard_sections(results, out_dir)
    sections += generators_section(pools, out_dir)
    summary = exponents[[c for c in SUMMARY_COLUMNS + ["notes"] if c in exponents.columns]]
    comparison = published_comparison(exponents, metric, theory_alpha)
    page = HTML_PAGE.format(
        metric=html.escape(metric),
        caption=html.escape(
            FIGURE_CAPTION.format(s=f"s = {seed_size} rows" if seed_size else "s: the seed size")
        ),
        lead="\n".join(lead),
        figures="\n".join(sections),
        models=html.escape(model_formulas()),
        table=summary.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="–"),
        published=comparison.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="–")
        if len(comparison)
        else "<p>No llm curve of this sweep has a published counterpart (craft, adult, gender; "
        "generator.data_access train, as theirs).</p>",
        source=html.escape(PUBLISHED_SOURCE_NOTE),
        config=html.escape(config_text or "(no config.resolved.yaml beside the results)"),
    )
    index = out_dir / "index.html"
    with atomic_write(index) as handle:
        handle.write(scrollable_tables(page))
    return index


def scrollable_tables(page: str) -> str:
    """Every table in a box of the page's width that scrolls sideways when the table is wider
    (the exponents table has 20-odd columns), so the page itself never does."""
    return page.replace("<table", '<div class="wide"><table').replace("</table>", "</table></div>")


def leaderboard_sections(results: pd.DataFrame, out_dir: Path) -> list[str]:
    """With several datasets: per classifier, the methods' mean ranks (leaderboard*.csv), the
    Friedman tests (friedman*.csv), the per-dataset scores (dataset_scores*.csv) and a
    critical-difference figure per ranked metric, as HTML."""
    if results["dataset"].nunique() < MIN_DATASETS:
        return []
    sections = ["<h2>Leaderboard: mean rank of each method across datasets (1 = best)</h2>"]
    classifiers = sorted(results["classifier"].unique())
    for classifier in classifiers:
        rows = results[results["classifier"] == classifier]
        suffix = "" if len(classifiers) == 1 else f"_{classifier}"
        board, tests = leaderboard(rows), friedman_table(rows)
        export_table(board, out_dir, f"leaderboard{suffix}", formats=("csv", "md"))
        export_table(tests, out_dir, f"friedman{suffix}", formats=("csv", "md"))
        per_metric = {m: dataset_scores(rows, m) for m in ranked_metrics(rows)}
        if per_metric:
            scores = pd.concat(per_metric, names=["metric"]).reset_index()
            export_table(scores, out_dir, f"dataset_scores{suffix}", formats=("csv",))
        sections.append(f"<h3>{html.escape(classifier)}</h3>" + board.to_html(index=False, float_format=_fmt))
        sections.append(_left_out_note(rows, ranked_metrics(rows)))
        if len(tests):
            sections.append(tests.to_html(index=False, float_format=_fmt))
        for test in tests.itertuples():
            if test.metric not in CD_METRICS:
                continue
            ranks = board.set_index("method")[f"{test.metric}_mean_rank"]
            figure = plot_critical_difference(ranks, test.critical_difference, test.metric)
            sections.append(figure_html(*save_figure(figure, out_dir, f"cd_{test.metric}{suffix}")))
    return sections


def failures_section(results: pd.DataFrame, out_dir: Path) -> list[str]:
    """The fits whose sampler could not make the rows (failures.csv), as HTML; none: []."""
    failures = failed_fits(results)
    if failures.empty:
        return []
    export_table(failures, out_dir, "failures", formats=("csv",))
    heading = "<h2>Failed fits: the sampler could not make the rows (generator.on_failure: record)</h2>"
    return [heading + failures.to_html(index=False)]


GENERATOR_COLUMNS = {  # pools.csv column -> generators.csv column (a sampler lacking one: empty)
    "kept_share": "kept_share_mean",
    "sampling_rows_per_s": "rows_per_s_median",
    "training_seconds": "training_seconds_median",
    "detection_auc": "detection_auc_mean",
    "tstr_balanced_accuracy": "tstr_balanced_accuracy_mean",
}


def generator_costs(pools: pd.DataFrame) -> pd.DataFrame:
    """One row per sampler over a sweep's pools: how many; the share of rows kept (a peer's
    acceptance, the LLM's validity) as mean and minimum over pool targets; the median rows/s
    and training seconds; and the mean detection AUC and train-on-synthetic accuracy."""
    table = pools.assign(kept_share=pools.get("acceptance", pd.Series(np.nan, pools.index)))
    if "validity" in pools:
        table["kept_share"] = table["kept_share"].fillna(pools["validity"])
    grouped = table.groupby("sampler", sort=True)
    out = pd.DataFrame({"pools": grouped["pool"].nunique()})
    for column, name in GENERATOR_COLUMNS.items():
        if column not in table.columns:
            continue
        how = "median" if name.endswith("median") else "mean"
        out[name] = grouped[column].agg(how)
        if column == "kept_share":
            out["kept_share_min"] = grouped[column].min()
    return out.reset_index()


def generators_section(pools: pd.DataFrame | None, out_dir: Path) -> list[str]:
    """generators.csv and its HTML table, from the sweep's pools.csv; none without it."""
    if pools is None or pools.empty or "sampler" not in pools:
        return []
    costs = generator_costs(pools)
    export_table(costs, out_dir, "generators", formats=("csv", "md"))
    return [
        "<h2>Generators: the share of rows kept, speed and realism, over the sweep's pools</h2>"
        "<p>kept_share: of the rows drawn, those of the target and readable (a peer's acceptance, the "
        "LLM's validity; empty for a sampler that keeps every row); rows_per_s: rows sampled per second "
        "of sampling; detection_auc: how well a classifier tells the rows from real ones (0.5: not at "
        "all).</p>" + costs.to_html(index=False, float_format=_fmt, na_rep="–")
    ]


def _left_out_note(rows: pd.DataFrame, metrics: list[str]) -> str:
    """Which datasets and methods the ranks leave out (a failed or missing score), or ''."""
    if not metrics:
        return ""
    out = left_out(rows, metrics[0])
    if not out["methods"] and not out["datasets"]:
        return ""
    parts = []
    if out["datasets"]:
        parts.append(f"datasets where a method has no score ({', '.join(out['datasets'])})")
    if out["methods"]:
        parts.append(f"methods scored on fewer than half the datasets ({', '.join(out['methods'])})")
    kept = rows["dataset"].nunique() - len(out["datasets"])
    return (
        f"<p>Ranked over {kept} of {rows['dataset'].nunique()} datasets; left out: "
        f"{html.escape('; '.join(parts))}. The Friedman test needs every method on every dataset.</p>"
    )


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _dataset_figures(
    results: pd.DataFrame,
    exponents: pd.DataFrame,
    out_dir: Path,
    metric: str,
    prefix: str,
    seed_size: int | None = None,
) -> list[str]:
    """One dataset's figures, per task and classifier, as HTML <figure> elements."""
    sections = []
    classifiers = sorted(results["classifier"].unique())
    twin = calibrated_twin(results, metric)
    for task in sorted(results["task"].unique()):
        for classifier in classifiers:  # one classifier per figure: never average across them
            suffix = f"{task}" if len(classifiers) == 1 else f"{task}_{classifier}"
            for kind in ("ratio", "augment"):
                pair = []
                for shown, stem in ((metric, ""), *(((twin, "_cal"),) if twin else ())):
                    figure = (
                        plot_ratio_curves(results, task, shown, classifier)
                        if kind == "ratio"
                        else plot_augment_curves(results, exponents, task, shown, classifier, seed_size)
                    )
                    if not figure.axes[0].has_data():
                        continue
                    qualifiers = ([classifier] if len(classifiers) > 1 else []) + (
                        [prefix[:-1]] if prefix else []
                    )
                    if qualifiers:
                        figure.axes[0].set_title(f"{figure.axes[0].get_title()} ({', '.join(qualifiers)})")
                    pair.append(figure_html(*save_figure(figure, out_dir, f"{prefix}{kind}_{suffix}{stem}")))
                if pair:
                    sections.append(f'<div class="pair">{"".join(pair)}</div>')
    return sections


def calibrated_twin(results: pd.DataFrame, metric: str) -> str | None:
    """The metric after recalibration (balanced_ce -> balanced_ce_cal) when the results have it."""
    twin = metric + CALIBRATED_SUFFIX
    return (
        twin
        if not metric.endswith(CALIBRATED_SUFFIX) and twin in results and results[twin].notna().any()
        else None
    )


def gains_section(results: pd.DataFrame, out_dir: Path) -> list[str]:
    """gains.csv (every point) and, as HTML, each curve's oracle gain share at its largest k or N;
    none without an oracle in the sweep."""
    shares = oracle_gain_shares(results)
    if shares.empty:
        return []
    export_table(shares, out_dir, "gains", formats=("csv", "md"))
    largest = largest_points(shares)
    columns = [c for c in largest.columns if not c.endswith(("_raw", "_oracle")) and c != "reference"]
    return [
        "<h2>Information: the share of the oracle's gain each method's rows recover</h2>"
        f"<p>{html.escape(GAINS_NOTE)}</p>"
        + largest[columns].to_html(index=False, float_format=_fmt, na_rep="–")
    ]


FIGURE_CAPTION = (
    "Points: mean over seeds; error bars: one standard deviation across seeds. N is counted in rows "
    "({s}). Solid lines: the fitted law of each method (dashed: alpha not identified, do not quote); "
    "dotted: the method's loss without augmentation (N = 0); black dashed: raw (no oversampling); "
    "grey dash-dot: all real training rows; gold: the oracle, as many real unseen rows as a method adds "
    "(an upper bound, not a generator); grey crosses: the paper's published llm curve (mean of 5 seeds), "
    "only beside a sweep whose generators saw every training row, as theirs did. Each figure's twin "
    "(_cal) shows the same fits recalibrated on held-out real rows (downstream.calibration): what is "
    "left of a gain there is information, not confidence."
)


GAINS_NOTE = (
    "share = (raw - method) / (raw - oracle) on seed means at the same k or N: 1 means the method's rows "
    "are worth as many real rows, 0 that they add nothing, below 0 that they hurt. Read on the calibrated "
    "balanced CE (balanced_ce_cal" + SHARE_SUFFIX + ") and on AUC (auc" + SHARE_SUFFIX + "), which a change "
    "in confidence does not move. Every point: gains.csv."
)


PUBLISHED_SOURCE_NOTE = (
    "Published: Nakada, Xu, Li, Zhang, arXiv 2406.03628, from the authors' experiment code (GReaT with "
    "GPT-2 fine-tuned on every training row, XGBoost, 5 seeds); fitted with the same models."
)


HTML_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>synthscale report: {metric}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} svg{{max-width:100%;height:auto}}
table{{border-collapse:collapse;font-size:12px}} td,th{{border:1px solid #ccc;padding:2px 6px}}
.pair{{display:flex;flex-wrap:wrap;gap:8px}} .pair figure{{flex:1 1 480px;margin:0}}
.wide{{max-width:100%;overflow-x:auto;margin:4px 0}} pre{{white-space:pre-wrap}}</style>
</head><body>
<h1>synthscale report: {metric}</h1>
{lead}
<h2>The paper's metric: figures</h2>
<p>{caption}</p>
{figures}
<h2>Fitted laws</h2>
<p>The models: {models}. L_inf lies in [0, the smallest mean loss + 2 se].</p>
<p>curve_class: what more rows do, decided first from the change of the metric per decade of N
(slope_per_decade, with its 95% interval): decays, flat (its 90% interval within +-the tolerance),
rises, or not_identified (the verdict says how many seeds would settle it); only a curve that decays
gets a law and an alpha.</p>
<p>law: shifted, saturating or power, the best by AIC (on under two decades of N, the best whose alpha is identified; a
verdict "at least like" quotes a lower bound on alpha); C is the excess loss at N = n_ref rows;
theory_p_value tests alpha = alpha_theory in that law, theory_p_value_free with L_inf and N0
free; decades: log10 of the span of N; preferred_model: lowest AIC of all five models (with
theory, alpha fixed, and loglinear).</p>
{table}
<h2>This sweep's llm beside the published curves</h2>
<p>{source}</p>
{published}
<h2>Sweep configuration</h2>
<pre>{config}</pre>
</body></html>
"""
