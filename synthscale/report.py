"""Figures, exported tables and the HTML report, all written atomically.

Figures follow the paper: losses against n_maj/n_min for every method (Figures 1-2), and
log-log losses against N with the fitted power law, the no-augmentation level and the
all-real-data line (Figures 3-4). Tables go out as CSV, JSON, Markdown and LaTeX.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from synthscale._io import atomic_write

# Columns of the compact table for papers and the README; the CSV and JSON keep every column.
SUMMARY_COLUMNS = [
    "dataset", "task", "method", "classifier", "metric", "alpha", "alpha_ci_low", "alpha_ci_high",
    "alpha_boot_low", "alpha_boot_high", "theory_p_value", "L_inf", "C", "r2", "n_eps",
]  # fmt: skip
EXPORT_FORMATS = ("csv", "json", "md", "tex")
FIGURE_FORMATS = ("png", "svg")
FIGURE_SIZE, FIGURE_DPI = (6.4, 4.2), 150


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
        "tex": lambda handle: handle.write(summary.to_latex(index=False, float_format="%.3g", na_rep="--")),
    }
    paths = []
    for suffix in formats:
        path = out_dir / f"{stem}.{suffix}"
        with atomic_write(path) as handle:
            writers[suffix](handle)
        paths.append(path)
    return paths


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub Markdown table; numbers to 3 significant digits, missing values as '–'."""

    def cell(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "–" if not np.isfinite(value) else f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def plot_ratio_curves(
    results: pd.DataFrame, task: str, metric: str = "minority_ce", classifier: str | None = None
) -> Figure:
    """Figures 1-2: the loss against n_maj/n_min for every method, mean and sd over seeds."""
    rows = results[(results["experiment"] == "ratio") & (results["task"] == task)]
    rows = rows if classifier is None else rows[rows["classifier"] == classifier]
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    for method, group in rows.groupby("method", sort=True):
        stats = group.groupby("ratio")[metric].agg(["mean", "std"]).fillna(0.0)
        axes.errorbar(
            stats.index, stats["mean"], yerr=stats["std"], marker="o", ms=3, capsize=2, label=method
        )
    axes.set(xlabel="n_maj / n_min", ylabel=metric, title=f"{task}: {metric} vs imbalance ratio")
    axes.legend(fontsize="small", ncol=2)
    return figure


def plot_augment_curves(
    results: pd.DataFrame,
    exponents: pd.DataFrame,
    task: str,
    metric: str = "minority_ce",
    classifier: str | None = None,
) -> Figure:
    """Figures 3-4: log-log loss against N with the fitted power law, each method's
    no-augmentation level (N = 0, dotted), raw and the all-real-data reference."""
    rows = results[(results["experiment"] == "augment") & (results["task"] == task)]
    if classifier is not None:
        rows = rows[rows["classifier"] == classifier]
        exponents = exponents[exponents["classifier"] == classifier]
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    curves = rows[~rows["method"].isin(["raw", "all_real"])]
    for index, (method, group) in enumerate(curves.groupby("method", sort=True)):
        color = f"C{index}"
        stats = group.groupby("n_aug")[metric].agg(["mean", "std"]).fillna(0.0)
        positive = stats[stats.index > 0]
        axes.errorbar(positive.index, positive["mean"], yerr=positive["std"], fmt="o", ms=3, capsize=2,
                      color=color, label=method)  # fmt: skip
        if 0 in stats.index:
            axes.axhline(stats.loc[0, "mean"], color=color, linestyle=":", linewidth=1)
        fitted = exponents[(exponents["task"] == task) & (exponents["method"] == method)]
        if len(fitted) == 1 and len(positive) > 1:
            fit = fitted.iloc[0]
            grid = np.geomspace(positive.index.min(), positive.index.max(), 100)
            axes.plot(
                grid, fit["L_inf"] + fit["C"] * (grid / positive.index.max()) ** (-fit["alpha"]), color=color
            )
    for method, style in (("raw", "--"), ("all_real", "-.")):
        level = rows.loc[rows["method"] == method, metric]
        if len(level):
            label = "raw (no oversampling)" if method == "raw" else "all real training rows"
            axes.axhline(level.mean(), color="black", linestyle=style, linewidth=1, label=label)
    axes.set(xscale="log", yscale="log", xlabel="synthetic rows added, N", ylabel=metric,
             title=f"{task}: {metric} vs augmentation size")  # fmt: skip
    axes.legend(fontsize="small", ncol=2)
    return figure


def save_figure(figure: Figure, out_dir: str | Path, stem: str) -> list[Path]:
    """PNG and SVG side by side, each written atomically."""
    paths = [Path(out_dir) / f"{stem}.{suffix}" for suffix in FIGURE_FORMATS]
    for path in paths:
        with atomic_write(path, "wb") as handle:
            figure.savefig(handle, format=path.suffix[1:], dpi=FIGURE_DPI, bbox_inches="tight")
    return paths


def write_report(
    results: pd.DataFrame, exponents: pd.DataFrame, out_dir: str | Path, metric: str, config_text: str = ""
) -> Path:
    """The paper's figures for every dataset and task, the exponents and the config, in one
    index.html."""
    out_dir = Path(out_dir)
    sections = []
    datasets = sorted(results["dataset"].unique())
    for dataset in datasets:  # one dataset per figure, named in it when the sweep has several
        rows = results[results["dataset"] == dataset]
        fitted = exponents[exponents["dataset"] == dataset] if "dataset" in exponents else exponents
        prefix = f"{dataset}_" if len(datasets) > 1 else ""
        sections += _dataset_figures(rows, fitted, out_dir, metric, prefix)
    summary = exponents[[c for c in SUMMARY_COLUMNS + ["notes"] if c in exponents.columns]]
    page = HTML_PAGE.format(
        metric=html.escape(metric),
        figures="\n".join(sections),
        table=summary.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="–"),
        config=html.escape(config_text or "(no config.resolved.yaml beside the results)"),
    )
    index = out_dir / "index.html"
    with atomic_write(index) as handle:
        handle.write(page)
    return index


def _dataset_figures(
    results: pd.DataFrame, exponents: pd.DataFrame, out_dir: Path, metric: str, prefix: str
) -> list[str]:
    """One dataset's figures, per task and classifier, as HTML <figure> elements."""
    sections = []
    classifiers = sorted(results["classifier"].unique())
    for task in sorted(results["task"].unique()):
        for classifier in classifiers:  # one classifier per figure: never average across them
            suffix = f"{task}" if len(classifiers) == 1 else f"{task}_{classifier}"
            for kind, figure in (
                ("ratio", plot_ratio_curves(results, task, metric, classifier)),
                ("augment", plot_augment_curves(results, exponents, task, metric, classifier)),
            ):
                if not figure.axes[0].has_data():
                    continue
                qualifiers = ([classifier] if len(classifiers) > 1 else []) + (
                    [prefix[:-1]] if prefix else []
                )
                if qualifiers:
                    figure.axes[0].set_title(f"{figure.axes[0].get_title()} ({', '.join(qualifiers)})")
                png, svg = save_figure(figure, out_dir, f"{prefix}{kind}_{suffix}")
                sections.append(f'<figure><img src="{svg.name}" alt="{kind} {task}"><figcaption>'
                                f'<a href="{png.name}">PNG</a></figcaption></figure>')  # fmt: skip
    return sections


HTML_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>synthscale report: {metric}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:12px}} td,th{{border:1px solid #ccc;padding:2px 6px}}</style>
</head><body>
<h1>synthscale report: {metric}</h1>
<h2>Figures</h2>
{figures}
<h2>Fitted exponents: L(N) = L_inf + C N^-alpha</h2>
{table}
<h2>Sweep configuration</h2>
<pre>{config}</pre>
</body></html>
"""
