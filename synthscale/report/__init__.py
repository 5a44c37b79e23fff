"""Figures, exported tables and the HTML report, all written atomically.

`tables` exports a table as CSV, JSON, Markdown and LaTeX; `figures` draws the paper's figures
(Figures 1-4) in one colour per method; `page` writes the self-contained HTML report.
"""

from synthscale.report.figures import (
    FIGURE_FORMATS,
    method_color,
    plot_augment_curves,
    plot_ratio_curves,
    save_figure,
)
from synthscale.report.page import (
    failures_section,
    generator_costs,
    generators_section,
    leaderboard_sections,
    scrollable_tables,
    write_report,
)
from synthscale.report.tables import (
    EXPORT_FORMATS,
    SUMMARY_COLUMNS,
    export_table,
    latex_table,
    markdown_table,
)

__all__ = [
    "EXPORT_FORMATS",
    "FIGURE_FORMATS",
    "SUMMARY_COLUMNS",
    "export_table",
    "failures_section",
    "generator_costs",
    "generators_section",
    "latex_table",
    "leaderboard_sections",
    "markdown_table",
    "method_color",
    "plot_augment_curves",
    "plot_ratio_curves",
    "save_figure",
    "scrollable_tables",
    "write_report",
]
