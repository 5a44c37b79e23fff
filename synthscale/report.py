"""Figures, exported tables and the HTML report, all written atomically.

Figures follow the paper: losses against n_maj/n_min for every method (Figures 1-2), and
log-log losses against N with the fitted law, the no-augmentation level and the all-real-data
line (Figures 3-4), with the paper's published curves in grey where it has the dataset. Each
method keeps one colour in every figure. Tables go out as CSV, JSON, Markdown and LaTeX.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from synthscale._io import atomic_write
from synthscale.data.published import published_ratio_curves, published_results
from synthscale.experiments import CALIBRATED_SUFFIX, Method, is_oracle
from synthscale.fit import FittedLaw, failed_fits, fit_results, is_true
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

# Columns of the compact table for papers and the README; the CSV and JSON keep every column.
SUMMARY_COLUMNS = [
    "dataset", "task", "method", "classifier", "data_access", "metric", "law", "alpha", "alpha_ci_low",
    "alpha_ci_high", "alpha_boot_low", "alpha_boot_high", "theory_p_value", "theory_p_value_free", "L_inf", "C",
    "N0", "n_ref", "decades", "preferred_model", "verdict",
]  # fmt: skip
LATEX_PREAMBLE = "% needs \\usepackage{booktabs}; C is the excess loss over L_inf at N = n_ref (rows)\n"
# one colour per method in every figure: a sampler and its +aug variant share a hue (tab20 pairs)
METHOD_ORDER = ["llm", "smote", "ros", "adasyn", "independent", "gaussian_copula", "independent_unconditional",
                "be_great", "ctgan", "tvae"]  # fmt: skip
FIXED_COLORS = {"raw": "black", "all_real": "dimgray", "oracle": "darkgoldenrod", "oracle_aug": "goldenrod"}
REAL_ROWS_LABEL = " (real rows)"  # the oracle is real rows, never to be read as a generator
PUBLISHED_LABEL = "published llm, every training row seen (Nakada et al.)"
PUBLISHED_ACCESS = "train"  # the setting of the published curves: the generator saw every training row
PUBLISHED_COLOR = "darkgray"
ACCESS_MARKERS = {"": "o", "train": "o", "seed": "s", "none": "o"}
EXPORT_FORMATS = ("csv", "json", "md", "tex")
FIGURE_FORMATS = ("png", "svg")
FIGURE_SIZE, FIGURE_DPI = (6.4, 4.2), 150
CD_METRICS = ("auc", "balanced_ce")  # the leaderboard's critical-difference figures


def export_table(
    table: pd.DataFrame,
    out_dir: str | Path,
    stem: str,
    summary_columns: list[str] | None = None,
    formats: tuple[str, ...] = EXPORT_FORMATS,
) -> list[Path]:
    """Write `stem`.csv/.json (all columns) and .md/.tex (`summary_columns`, default all), in
    the chosen `formats`."""
    out_dir = Path(out_dir)
    summary = table if summary_columns is None else table[[c for c in summary_columns if c in table.columns]]
    writers = {
        "csv": lambda handle: table.to_csv(handle, index=False),
        "json": lambda handle: json.dump(json.loads(table.to_json(orient="records")), handle, indent=2),
        "md": lambda handle: handle.write(markdown_table(summary)),
        "tex": lambda handle: handle.write(latex_table(summary)),
    }
    paths = []
    for suffix in formats:
        path = out_dir / f"{stem}.{suffix}"
        with atomic_write(path) as handle:
            writers[suffix](handle)
        paths.append(path)
    return paths


def _cell(value: object) -> str:
    """Numbers to 3 significant digits, missing values as '–'."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return "–" if not np.isfinite(value) else f"{value:.3g}"
    return str(value)


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub Markdown table; numbers to 3 significant digits, missing values as '–'."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "–": "--"}  # fmt: skip


def latex_escape(text: str) -> str:
    """Text as pdflatex typesets it literally (names like minority_ce, verdicts like N^-0.3)."""
    return "".join(LATEX_SPECIALS.get(char, char) for char in text)


def latex_table(table: pd.DataFrame) -> str:
    """A booktabs tabular (the preamble comment says so); every name and cell escaped."""
    align = "".join("r" if pd.api.types.is_numeric_dtype(table[c]) else "l" for c in table.columns)
    lines = [LATEX_PREAMBLE.rstrip("\n"), f"\\begin{{tabular}}{{{align}}}", "\\toprule"]
    lines.append(" & ".join(latex_escape(str(c)) for c in table.columns) + r" \\")
    lines.append("\\midrule")
    for row in table.itertuples(index=False):
        lines.append(" & ".join(latex_escape(_cell(v)) for v in row) + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def method_color(method: str) -> str:
    """The method's colour in every figure: raw black, all_real grey, each sampler a tab20
    hue (its +aug variant the light shade of the same hue)."""
    if method in FIXED_COLORS:
        return FIXED_COLORS[method]
    base, aug = Method.of(method).base, Method.of(method).augmented
    index = METHOD_ORDER.index(base) if base in METHOD_ORDER else len(METHOD_ORDER) + sum(map(ord, base))
    return matplotlib.colormaps["tab20"]((2 * index + aug) % 20)


def plot_ratio_curves(
    results: pd.DataFrame, task: str, metric: str = "minority_ce", classifier: str | None = None
) -> Figure:
    """Figures 1-2: the loss against n_maj/n_min for every method, mean and sd over seeds;
    the paper's published llm curve in grey where it has this dataset, task and metric."""
    rows = results[(results["experiment"] == "ratio") & (results["task"] == task)]
    rows = rows if classifier is None else rows[rows["classifier"] == classifier]
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    groups = list(_method_groups(rows))
    several = len({access for (_, access), _ in groups if access not in ("", "none")}) > 1
    for (method, access), group in groups:
        stats = group.groupby("ratio")[metric].agg(["mean", "std"]).fillna(0.0)
        axes.errorbar(stats.index, stats["mean"], yerr=stats["std"], marker=ACCESS_MARKERS.get(access, "o"),
                      ms=3, capsize=2, color=method_color(method), label=_label(method, access, several))  # fmt: skip
    published = _published_ratio(rows, task, metric)
    if len(published):
        axes.plot(published["ratio"], published["mean"], color=PUBLISHED_COLOR, linestyle="--", marker="x",
                  ms=4, label=PUBLISHED_LABEL)  # fmt: skip
    axes.set(xlabel="n_maj / n_min", ylabel=metric, title=f"{task}: {metric} vs imbalance ratio")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="small", ncol=2)
    return figure


def _method_groups(rows: pd.DataFrame):
    """((method, data access), rows) in a stable order; access '' when the results lack it."""
    access = (
        rows["data_access"].fillna("").astype(str) if "data_access" in rows else pd.Series("", rows.index)
    )
    return rows.assign(_access=access).groupby(["method", "_access"], sort=True)


def _label(method: str, access: str, several: bool = True) -> str:
    if is_oracle(method):
        return method + REAL_ROWS_LABEL
    return f"{method} ({access})" if access not in ("", "none") and several else method


def _compares_with_published(rows: pd.DataFrame) -> bool:
    """The published curves come from a generator that saw every training row: drawn only
    beside results of that setting."""
    return "data_access" in rows and (rows["data_access"] == PUBLISHED_ACCESS).any()


def _published_ratio(rows: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    datasets = rows["dataset"].unique() if "dataset" in rows else []
    if len(datasets) != 1 or not _compares_with_published(rows):
        return pd.DataFrame(columns=["ratio", "mean"])
    table = published_ratio_curves()
    keep = (table["dataset"] == datasets[0]) & (table["task"] == task) & (table["metric"] == metric)
    return table[keep & (table["method"] == "llm")].sort_values("ratio")


def plot_augment_curves(
    results: pd.DataFrame,
    exponents: pd.DataFrame,
    task: str,
    metric: str = "minority_ce",
    classifier: str | None = None,
    seed_size: int | None = None,
) -> Figure:
    """Figures 3-4: log-log loss against N (rows) with each method's fitted law (dashed and
    labelled when alpha is not identified), its no-augmentation level (N = 0, dotted), raw,
    the all-real-data reference, and the paper's published llm curve in grey."""
    rows = results[(results["experiment"] == "augment") & (results["task"] == task)]
    if classifier is not None:
        rows = rows[rows["classifier"] == classifier]
        exponents = exponents[exponents["classifier"] == classifier]
    figure = Figure(figsize=(FIGURE_SIZE[0] * 1.35, FIGURE_SIZE[1]))
    axes = figure.subplots()
    curves = rows[~rows["method"].isin(["raw", "all_real"])]
    groups = list(_method_groups(curves))
    several = len({access for (_, access), _ in groups if access not in ("", "none")}) > 1
    for (method, access), group in groups:
        color, label = method_color(method), _label(method, access, several)
        stats = group.groupby("n_aug")[metric].agg(["mean", "std"]).fillna(0.0)
        positive = stats[stats.index > 0]
        axes.errorbar(positive.index, positive["mean"], yerr=positive["std"], fmt=ACCESS_MARKERS.get(access, "o"),
                      ms=3, capsize=2, color=color, label=label)  # fmt: skip
        if 0 in stats.index:
            axes.axhline(
                stats.loc[0, "mean"], color=color, linestyle=":", linewidth=1, label=f"{label}, N = 0"
            )
        fit = _fit_of(exponents, task, method, access, metric)
        if fit is not None and len(positive) > 1 and np.isfinite(fit["alpha"]):
            grid = np.geomspace(positive.index.min(), positive.index.max(), 100)
            law = FittedLaw.from_row(fit, n_ref=positive.index.max())
            bounded_below = is_true(fit.get("bounded_below", False))
            identified = bool(fit.get("identified", True)) or bounded_below
            exponent = f"{fit['alpha_ci_low']:.2g} or more" if bounded_below else f"{fit['alpha']:.2g}"
            power = f"(N0 + N)^-{exponent}, N0 = {law.shift:.3g}" if law.shift > 0 else f"N^-{exponent}"
            text = f"{label} fit: {power}" if identified else f"{label} fit: not identified"
            axes.plot(grid, law.predict(grid), color=color, linestyle="-" if identified else "--", label=text)
    for method, style in (("raw", "--"), ("all_real", "-.")):
        level = rows.loc[rows["method"] == method, metric]
        if len(level):
            label = "raw (no oversampling)" if method == "raw" else "all real training rows"
            axes.axhline(level.mean(), color=method_color(method), linestyle=style, linewidth=1, label=label)
    published = _published_augment(rows, task, metric)
    if len(published):
        axes.plot(published["n_aug"], published[metric], color=PUBLISHED_COLOR, linestyle="--", marker="x", ms=4,
                  label=PUBLISHED_LABEL)  # fmt: skip
    unit = f"; s = {seed_size} rows" if seed_size else ""
    axes.set(xscale="log", yscale="log", xlabel=f"synthetic rows added, N (rows{unit})", ylabel=metric,
             title=f"{task}: {metric} vs augmentation size")  # fmt: skip
    axes.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return figure


def _fit_of(exponents: pd.DataFrame, task: str, method: str, access: str, metric: str | None = None):
    """The exponents row of one curve, or None."""
    keep = (exponents["task"] == task) & (exponents["method"] == method)
    if (
        "metric" in exponents.columns and metric is not None
    ):  # a law fitted on another loss is not this curve's
        keep &= exponents["metric"] == metric
    if "data_access" in exponents.columns:
        keep &= exponents["data_access"].fillna("").astype(str) == access
    fitted = exponents[keep]
    return fitted.iloc[0] if len(fitted) == 1 else None


def _published_augment(rows: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    datasets = rows["dataset"].unique() if "dataset" in rows else []
    table = published_results()
    if len(datasets) != 1 or metric not in table.columns or not _compares_with_published(rows):
        return pd.DataFrame(columns=["n_aug", metric])
    keep = (table["dataset"] == datasets[0]) & (table["task"] == task) & (table["method"] == "llm")
    return table[keep & (table["n_aug"] > 0) & table[metric].notna()].sort_values("n_aug")


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


def save_figure(figure: Figure, out_dir: str | Path, stem: str) -> list[Path]:
    """PNG and SVG side by side, each written atomically."""
    paths = [Path(out_dir) / f"{stem}.{suffix}" for suffix in FIGURE_FORMATS]
    for path in paths:
        with atomic_write(path, "wb") as handle:
            figure.savefig(handle, format=path.suffix[1:], dpi=FIGURE_DPI, bbox_inches="tight")
    return paths


def inline_svg(path: Path) -> str:
    """The figure's <svg> element, to embed in the page (the page is then one file to mail)."""
    text = path.read_text(encoding="utf-8")
    return text[text.index("<svg") :]


def write_report(
    results: pd.DataFrame,
    exponents: pd.DataFrame,
    out_dir: str | Path,
    metric: str,
    config_text: str = "",
    seed_size: int | None = None,
    theory_alpha: float = 1.0,
    pools: pd.DataFrame | None = None,
) -> Path:
    """The paper's figures for every dataset and task (embedded, and as SVG and PNG files
    beside it), the exponents beside the published ones, and the config, in one index.html;
    with the sweep's `pools` (pools.csv), what each generator's rows cost."""
    out_dir = Path(out_dir)
    sections = []
    datasets = sorted(results["dataset"].unique())
    for dataset in datasets:  # one dataset per figure, named in it when the sweep has several
        rows = results[results["dataset"] == dataset]
        fitted = exponents[exponents["dataset"] == dataset] if "dataset" in exponents else exponents
        prefix = f"{dataset}_" if len(datasets) > 1 else ""
        sections += _dataset_figures(rows, fitted, out_dir, metric, prefix, seed_size)
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
        figures="\n".join(sections),
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


def figure_html(png: Path, svg: Path) -> str:
    """A saved figure as an HTML <figure>: the SVG inline, links to both files."""
    return (
        f'<figure id="{svg.stem}">{inline_svg(svg)}<figcaption>{svg.stem}: '
        f'<a href="{svg.name}">SVG</a> · <a href="{png.name}">PNG</a></figcaption></figure>'
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
<h2>Figures</h2>
<p>{caption}</p>
{figures}
<h2>Fitted laws: L(N) = L_inf + C ((N0 + N) / (N0 + n_ref))^-alpha</h2>
<p>law: shifted (N0 free), saturating (N0 = 0, L_inf in [0, smallest mean loss + 2 se]) or power (N0 = 0,
L_inf = 0): the best by AIC (on under two decades of N, the best whose alpha is identified; a
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
