"""The report's lead: what each method's rows are worth in real rows, against the rows it adds,
with the oracle's real rows on the diagonal (a row worth a real row)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from synthscale.experiments import NO_DATA_ACCESS, is_oracle
from synthscale.report.figures import FIGURE_SIZE, REAL_ROWS_LABEL, figure_html, method_color, save_figure
from synthscale.report.tables import export_table
from synthscale.worth import WORTH_COLUMNS, Worth, largest_worth, unpriced_reason, worth_if_priced

LEAD_METRICS = ("balanced_ce_cal", "auc")  # the yardsticks that a shift of the prior does not move
CENSORED_MARKERS = {Worth.HURTS: "v", Worth.AT_LEAST: "^"}

WORTH_NOTE = (
    "Worth in real rows: at every k or N the oracle adds real unseen rows the way a method adds its "
    "rows, at the method's count and at other doses (experiment.oracle_doses). m_eff is the number "
    "of real rows that reach the method's seed-mean score (recalibrated balanced CE, or AUC), read on "
    "that dose curve made monotone; exchange rate = m_eff / rows added (1: a synthetic row is worth "
    "a real one, 0: nothing). Bars and brackets: 95% seed-bootstrap intervals. Log-log axes; down triangles on the "
    "floor: worse than raw (the rows hurt); up triangles: beyond the largest dose (worth at least that). "
    "Every point: worth.csv."
)


def plot_worth(worth: pd.DataFrame, experiment: str, metric: str) -> Figure:
    """m_eff against rows added, one panel per task and data access, the diagonal y = x."""
    rows = worth[(worth["experiment"] == experiment) & (worth["metric"] == metric)]
    tasks = sorted(rows["task"].unique())
    accesses = sorted(a for a in rows["data_access"].unique() if a not in ("", NO_DATA_ACCESS)) or [""]
    figure = Figure(figsize=(FIGURE_SIZE[0] * 0.75 * len(accesses) + 1.8, FIGURE_SIZE[1] * 0.85 * len(tasks)))
    panels = np.atleast_2d(figure.subplots(len(tasks), len(accesses), squeeze=False))
    for i, task in enumerate(tasks):
        for j, access in enumerate(accesses):
            shown = rows[(rows["task"] == task) & rows["data_access"].isin([access, "", NO_DATA_ACCESS])]
            _panel(panels[i, j], shown, f"{task}, generators saw: {access or 'their rows'}")
    handles, labels = panels[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    figure.suptitle(f"{experiment}: what the rows are worth in real rows ({metric})")
    figure.supxlabel("rows added")
    figure.supylabel("worth m_eff (real rows)")
    figure.tight_layout()
    return figure


def _panel(axes, rows: pd.DataFrame, title: str) -> None:
    """Log-log, so that rows worth a tenth of a real row and real rows share the panel; worth
    at or below raw's sits on the floor."""
    top = float(rows["max_dose"].max()) if len(rows) else 1.0
    floor = max(top / 1000, 1.0)
    left = max(float(rows["rows_added"].min()) / 2, floor) if len(rows) else floor
    axes.plot([left, top], [left, top], color=method_color("oracle"), linestyle="--", linewidth=1,
              label="a real row each" + REAL_ROWS_LABEL)  # fmt: skip
    for method, group in rows.groupby("method", sort=True):
        group = group.sort_values("rows_added")
        color = method_color(method)
        label = method + (REAL_ROWS_LABEL if is_oracle(method) else "")
        measured = group[group["worth_status"] == Worth.MEASURED]
        value = measured["m_eff"].clip(lower=floor)
        low = measured["m_eff_low"].replace(-np.inf, floor).clip(lower=floor, upper=value)
        high = measured["m_eff_high"].replace(np.inf, top).clip(lower=value, upper=top)
        axes.errorbar(measured["rows_added"], value, yerr=[value - low, high - value], fmt="o-", ms=3,
                      capsize=2, color=color, label=label if len(measured) else None, linewidth=1)  # fmt: skip
        for status, marker in CENSORED_MARKERS.items():
            censored = group[group["worth_status"] == status]
            level = floor if status == Worth.HURTS else top
            axes.plot(censored["rows_added"], np.full(len(censored), level), marker, color=color, ms=5,
                      label=label if len(censored) and not len(measured) else None)  # fmt: skip
            label = label if len(measured) or not len(censored) else None  # one legend entry per method
    axes.set(xscale="log", yscale="log", ylim=(floor * 0.8, top * 1.3))
    axes.set_title(title, fontsize="small")


def worth_section(
    results: pd.DataFrame, out_dir: Path, prefix: str = "", worth: pd.DataFrame | None = None
) -> list[str]:
    """worth.csv/.md (every point) and, as HTML, the worth figures (augment first) and each
    curve's worth at its largest k or N; none without an oracle in the sweep."""
    unpriced = unpriced_reason(results)
    worth = worth_if_priced(results) if worth is None else worth
    if worth.empty:
        return [f"<p>Worth in real rows: none ({html.escape(unpriced)}).</p>"] if unpriced else []
    export_table(worth, out_dir, f"{prefix}worth", WORTH_COLUMNS, formats=("csv", "md", "tex"))
    sections = [f"<h2>What a synthetic row is worth in real rows</h2><p>{html.escape(WORTH_NOTE)}</p>"]
    for experiment in ("augment", "ratio"):
        pair = []
        for metric in LEAD_METRICS:
            if not ((worth["experiment"] == experiment) & (worth["metric"] == metric)).any():
                continue
            figure = plot_worth(worth, experiment, metric)
            pair.append(figure_html(*save_figure(figure, out_dir, f"{prefix}worth_{experiment}_{metric}")))
        if pair:
            sections.append(f'<div class="pair">{"".join(pair)}</div>')
    largest = largest_worth(worth)
    columns = [
        "task",
        "experiment",
        "method",
        "data_access",
        "metric",
        "rows_added",
        "worth",
        "exchange_rate",
    ]
    sections.append(largest[columns].to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="–"))
    return sections
