"""Exported tables: every table as CSV, JSON, Markdown and LaTeX, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from synthscale._io import atomic_write

# Columns of the compact table for papers and the README; the CSV and JSON keep every column.
SUMMARY_COLUMNS = [
    "dataset", "task", "method", "classifier", "data_access", "metric", "curve_class", "slope_per_decade",
    "slope_ci_low", "slope_ci_high", "flat_bound", "worth_at_largest", "exchange_rate_at_largest", "worth_ceiling",
    "law", "alpha",
    "alpha_ci_low",
    "alpha_ci_high", "alpha_boot_low", "alpha_boot_high", "theory_p_value", "theory_p_value_free", "L_inf", "C",
    "N0", "n_ref", "decades", "preferred_model", "verdict",
]  # fmt: skip


LATEX_PREAMBLE = "% needs \\usepackage{booktabs}; C is the excess loss over L_inf at N = n_ref (rows)\n"


EXPORT_FORMATS = ("csv", "json", "md", "tex")


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
