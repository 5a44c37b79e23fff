"""The paper's figures: losses against n_maj/n_min for every method (Figures 1-2), and log-log
losses against N with the fitted law, the no-augmentation level and the all-real-data line
(Figures 3-4), with the paper's published curves in grey where it has the dataset. Each method
keeps one colour in every figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from synthscale._io import atomic_write
from synthscale.data.published import published_ratio_curves, published_results
from synthscale.experiments import Method, is_oracle, protocol_fits
from synthscale.fit import FittedLaw, is_true

# one colour per method in every figure: a sampler and its +aug variant share a hue (tab20 pairs)
METHOD_ORDER = ["llm", "smote", "ros", "adasyn", "independent", "gaussian_copula", "independent_unconditional",
                "great", "ctgan", "tvae"]  # fmt: skip


FIXED_COLORS = {"raw": "black", "all_real": "dimgray", "oracle": "darkgoldenrod", "oracle_aug": "goldenrod"}


REAL_ROWS_LABEL = " (real rows)"  # the oracle is real rows, never to be read as a generator


PUBLISHED_LABEL = "published llm, every training row seen (Nakada et al.)"


PUBLISHED_ACCESS = "train"  # the setting of the published curves: the generator saw every training row


PUBLISHED_COLOR = "darkgray"


ACCESS_MARKERS = {"": "o", "train": "o", "seed": "s", "none": "o"}


FIGURE_FORMATS = ("png", "svg")


FIGURE_SIZE, FIGURE_DPI = (6.4, 4.2), 150


def method_color(method: str) -> str:
    """The method's colour in every figure: raw black, all_real grey, each sampler a tab20
    hue (its +aug variant the light shade of the same hue)."""
    if method in FIXED_COLORS:
        return FIXED_COLORS[method]
    parsed = Method.of(method)
    base, aug = parsed.base, parsed.augmented
    index = METHOD_ORDER.index(base) if base in METHOD_ORDER else len(METHOD_ORDER) + sum(map(ord, base))
    return matplotlib.colormaps["tab20"]((2 * index + aug) % 20)


def plot_ratio_curves(
    results: pd.DataFrame, task: str, metric: str = "minority_ce", classifier: str | None = None
) -> Figure:
    """Figures 1-2: the loss against n_maj/n_min for every method, mean and sd over seeds;
    the paper's published llm curve in grey where it has this dataset, task and metric."""
    results = protocol_fits(results)
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
    results = protocol_fits(results)
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
            text = f"{label} fit: {law.shape(exponent)}" if identified else f"{label} fit: not identified"
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


def inline_svg(path: Path) -> str:
    """The figure's <svg> element, to embed in the page (the page is then one file to mail)."""
    text = path.read_text(encoding="utf-8")
    return text[text.index("<svg") :]


def figure_html(png: Path, svg: Path) -> str:
    """A saved figure as an HTML <figure>: the SVG inline, links to both files."""
    return (
        f'<figure id="{svg.stem}">{inline_svg(svg)}<figcaption>{svg.stem}: '
        f'<a href="{svg.name}">SVG</a> · <a href="{png.name}">PNG</a></figcaption></figure>'
    )


def save_figure(figure: Figure, out_dir: str | Path, stem: str) -> list[Path]:
    """PNG and SVG side by side, each written atomically."""
    paths = [Path(out_dir) / f"{stem}.{suffix}" for suffix in FIGURE_FORMATS]
    for path in paths:
        with atomic_write(path, "wb") as handle:
            figure.savefig(handle, format=path.suffix[1:], dpi=FIGURE_DPI, bbox_inches="tight")
    return paths
