"""Exports of fitted tables: CSV, JSON, Markdown and LaTeX, written atomically side by side."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from synthscale._io import atomic_write, write_csv_atomic

# Columns of the compact table for papers and the README; the CSV and JSON keep every column.
SUMMARY_COLUMNS = [
    "dataset", "task", "method", "classifier", "metric", "alpha", "alpha_ci_low", "alpha_ci_high",
    "alpha_boot_low", "alpha_boot_high", "theory_p_value", "L_inf", "C", "r2", "n_eps",
]  # fmt: skip
EXPORT_FORMATS = ("csv", "json", "md", "tex")


def export_table(
    table: pd.DataFrame, out_dir: str | Path, stem: str, summary_columns: list[str] | None = None
) -> list[Path]:
    """Write `stem`.csv/.json (all columns) and .md/.tex (`summary_columns`, default all)."""
    out_dir = Path(out_dir)
    paths = [out_dir / f"{stem}.{suffix}" for suffix in EXPORT_FORMATS]
    write_csv_atomic(table, paths[0])
    with atomic_write(paths[1]) as handle:
        json.dump(json.loads(table.to_json(orient="records")), handle, indent=2)
    summary = table if summary_columns is None else table[[c for c in summary_columns if c in table.columns]]
    with atomic_write(paths[2]) as handle:
        handle.write(markdown_table(summary))
    with atomic_write(paths[3]) as handle:
        handle.write(summary.to_latex(index=False, float_format="%.3g", na_rep="--"))
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
