"""Load a table (built-in, KEEL, file, or OpenML), validate it once, and describe its schema.

Everything downstream works on a `Dataset`: features with fixed dtypes (categories carry their
full domain), the label encoded as 1 = minority, and the spurious attribute encoded as
1 = the value paired with the minority label in the 'agree' groups.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from synthscale._io import hash_frame
from synthscale.config import DatasetConfig
from synthscale.data import keel
from synthscale.data.craft import CRAFT_LABEL, CRAFT_SPURIOUS, make_craft
from synthscale.data.reading import check_unique_columns, fetch_adult, read_table
from synthscale.data.schema import TARGET_COLUMN, Column, Dataset, Schema
from synthscale.errors import SynthscaleError, did_you_mean

log = logging.getLogger(__name__)


# Defaults of the built-in datasets: (label, spurious, minority, spurious_positive).
BUILTIN_DEFAULTS: dict[str, tuple[str, str, object, object]] = {
    "craft": (CRAFT_LABEL, CRAFT_SPURIOUS, 1, 1),
    "adult": ("income", "sex", ">50K", "Male"),
}


DECIMAL_COMMA = re.compile(r"[-+]?\d{1,3}(\.\d{3})*,\d+|[-+]?\d+,\d+")  # 1,5 or 1.234,56


NEAR_UNIQUE_ROWS, NEAR_UNIQUE_SHARE = 50, 0.5  # a category with a value for half the rows or more


FLOAT32_MAX = float(np.finfo(np.float32).max)  # XGBoost reads features as float32


def load_dataset(config: DatasetConfig) -> Dataset:
    """Load the table the config names and validate it; all table errors surface here."""
    label, spurious = config.label, config.spurious
    minority, positive = config.minority, config.spurious_positive
    if config.name is not None and config.name.startswith(keel.PREFIX):
        table_name = config.name.removeprefix(keel.PREFIX)
        found = keel.read_keel(table_name)
        table, name = found.rows, table_name
        label = label or found.label
        minority = keel.MINORITY if minority is None else minority
    elif config.name is not None:
        d_label, d_spurious, d_minority, d_positive = BUILTIN_DEFAULTS[config.name]
        label = label or d_label
        spurious = d_spurious if spurious is None else spurious
        minority = d_minority if minority is None else minority
        positive = d_positive if positive is None else positive
        if config.name == "craft":
            table = make_craft(config.craft_rows, config.craft_seed)
        else:
            table = fetch_adult(Path(config.cache_dir).expanduser())
        name = config.name
    else:
        path = Path(config.path).expanduser()
        table = read_table(path, config.na_values, config.sep, config.encoding, config.decimal)
        name = path.stem
        if label is None:
            raise SynthscaleError(
                f"dataset.label: not set for {path.name}; name its binary label column, "
                f"e.g. --set dataset.label=<column> (columns: {', '.join(map(str, table.columns))})"
            )
    spurious = None if spurious is False else spurious  # false: explicitly no attribute
    return prepare_dataset(
        table,
        label=label,
        spurious=spurious,
        minority=minority,
        spurious_positive=positive,
        missing=config.missing,
        name=config.alias or name,
    )


def prepare_dataset(
    table: pd.DataFrame,
    *,
    label: str,
    spurious: str | None = None,
    minority: object = None,
    spurious_positive: object = None,
    missing: Literal["drop", "error"] = "drop",
    name: str = "data",
) -> Dataset:
    """Validate a raw table and encode label and attribute; the input is not modified."""
    check_unique_columns(list(table.columns), f"the {name} table")
    if TARGET_COLUMN in table.columns:
        raise SynthscaleError(
            f"the {name} table has a column named {TARGET_COLUMN!r}, a name synthscale reserves for "
            "the target of the rows it generates; rename that column"
        )
    _require_column(table, label, "dataset.label")
    if spurious is not None:
        _require_column(table, spurious, "dataset.spurious")
        if spurious == label:
            raise SynthscaleError(f"dataset.spurious: '{spurious}' is the label column itself")
    _require_features(table, label)
    had_missing = [c for c in table.columns if table[c].isna().any()]
    table, n_dropped = _handle_missing(table, missing)
    _check_finite_numbers(table.drop(columns=[label]))
    label_values = _two_values(table[label], "dataset.label", label)
    minority_value = _pick_minority(table[label], label_values, minority, label)
    majority_value = next(v for v in label_values if v != minority_value)
    features = _typed_features(table.drop(columns=[label]), had_missing)
    y = (table[label] == minority_value).to_numpy(dtype=np.int8)
    a, spurious_values = None, None
    if spurious is not None:
        spurious_values = _spurious_values(table[spurious], spurious, spurious_positive)
        a = (table[spurious] == spurious_values[1]).to_numpy(dtype=np.int8)
    columns = tuple(_describe_column(features[c]) for c in features.columns)
    schema = Schema(columns, label, majority_value, minority_value, spurious, spurious_values)
    data_hash = hash_frame(pd.concat([features, table[label]], axis=1))
    return Dataset(name, features, y, a, schema, n_dropped, data_hash)


def _require_column(table: pd.DataFrame, column: str, key: str) -> None:
    if column not in table.columns:
        raise SynthscaleError(
            f"{key}: column '{column}' not in the table{did_you_mean(column, table.columns)} "
            f"(columns: {', '.join(map(str, table.columns))})"
        )


def _require_features(table: pd.DataFrame, label: str) -> None:
    if len(table) == 0:
        raise SynthscaleError("the table has no rows (a header alone); pass a table with data rows")
    if len(table.columns) < 2:
        raise SynthscaleError(
            f"the table holds only the label column '{label}': a classifier and a sampler need at "
            "least one feature column beside it"
        )


def _check_finite_numbers(features: pd.DataFrame) -> None:
    """Infinities, and numbers beyond float32 (what XGBoost and the model read), are refused:
    they would turn into inf or NaN in a standardisation or a split and make the fit wrong."""
    for name in features.columns:
        column = features[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_unsigned_integer_dtype(column) and column.max() > np.iinfo(np.int64).max:
            raise SynthscaleError(
                f"column {name!r} holds unsigned integers up to {column.max()}, beyond int64; "
                "store it as float or as text (a category)"
            )
        values = column.to_numpy(dtype=np.float64)
        infinite = np.isinf(values)
        if infinite.any():
            raise SynthscaleError(
                f"column {name!r} holds {int(infinite.sum())} infinite value(s) (first in row "
                f"{int(np.argmax(infinite))}); replace them with a number or a missing value"
            )
        largest = float(np.max(np.abs(values))) if len(values) else 0.0
        if largest > FLOAT32_MAX:
            raise SynthscaleError(
                f"column {name!r} holds {largest:.3g}, beyond what float32 holds ({FLOAT32_MAX:.3g}), "
                "which the classifiers read; rescale the column (e.g. take its log, or change its unit)"
            )


def _handle_missing(table: pd.DataFrame, missing: str) -> tuple[pd.DataFrame, int]:
    """Policy: drop incomplete rows (the count is recorded on every run) or refuse. A column
    with no value at all is refused either way: dropping would leave no row."""
    counts = table.isna().sum()
    empty = counts[counts == len(table)]
    if len(table) and len(empty):
        raise SynthscaleError(
            f"column {empty.index[0]!r} has no values (all {len(table)} missing); remove it from the table"
        )
    incomplete = table.isna().any(axis=1)
    n_missing = int(incomplete.sum())
    if n_missing == 0:
        return table.reset_index(drop=True), 0
    where = ", ".join(f"{c!r} ({n})" for c, n in counts[counts > 0].sort_values(ascending=False).items())
    if n_missing == len(table):
        raise SynthscaleError(
            f"every one of the {len(table)} rows has a missing value (missing per column: {where}); "
            "fill them, or remove the columns that miss the most"
        )
    if missing == "error":
        raise SynthscaleError(
            f"{n_missing} of {len(table)} rows have missing values (per column: {where}); clean the "
            f"table, or set dataset.missing=drop (keeps {len(table) - n_missing} rows)"
        )
    log.info("dropped %d rows with missing values", n_missing)
    return table.loc[~incomplete].reset_index(drop=True), n_missing


def _two_values(column: pd.Series, key: str, name: str) -> list[object]:
    """The column's two values in order: numbers by value (9 before 10), anything else as text."""
    values = sorted(column.unique().tolist(), key=_value_order)
    if len(values) != 2:
        shown = ", ".join(map(repr, values[:6])) + (", ..." if len(values) > 6 else "")
        count = "1 distinct value" if len(values) == 1 else f"{len(values)} distinct values"
        stripped = {str(v).strip() for v in values}
        spaces = (
            "; some differ only by spaces at their ends: strip them" if len(stripped) < len(values) else ""
        )
        raise SynthscaleError(
            f"{key}: column '{name}' has {count} ({shown}); it must be binary: map it to two values "
            f"first{spaces}"
        )
    return values


def _value_order(value: object) -> tuple[int, float, str]:
    """Numbers first and by value, then everything else by its text: "the larger value" of a
    column coded 9/10 is 10, as it is of one coded 0/1."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _match_value(values: list[object], wanted: object, key: str, name: str) -> object:
    """YAML gives 1 or '>50K'; match the column's own value by its text, or a number by value
    (1 is the value 1.0 of a column read as floats)."""
    for value in values:
        if str(value) == str(wanted) or _same_number(value, wanted):
            return value
    raise SynthscaleError(
        f"{key}: {wanted!r} is not a value of column '{name}' (values: {', '.join(map(repr, values))})"
        f"{_yaml_hint(wanted, key)}"
    )


def _same_number(value: object, wanted: object) -> bool:
    numbers = (int, float, np.number)
    if isinstance(value, bool) or isinstance(wanted, bool):
        return False
    return isinstance(value, numbers) and isinstance(wanted, numbers) and float(value) == float(wanted)


def _yaml_hint(wanted: object, key: str) -> str:
    """YAML reads yes/no/on/off as booleans: say how to keep the text."""
    if not isinstance(wanted, bool):
        return ""
    example = "yes" if wanted else "no"
    return (
        f"; YAML read the value as the boolean {wanted}: to mean the text, quote it, "
        f'e.g. --set {key}=\'"{example}"\' (in a YAML file: {key.split(".")[-1]}: "{example}")'
    )


def _pick_minority(column: pd.Series, values: list[object], minority: object, name: str) -> object:
    if minority is not None:
        return _match_value(values, minority, "dataset.minority", name)
    counts = column.value_counts()
    if counts[values[0]] == counts[values[1]]:
        raise SynthscaleError(
            f"dataset.minority: label '{name}' is balanced ({counts[values[0]]} rows each); "
            f"set dataset.minority to {values[0]!r} or {values[1]!r}"
        )
    return counts.idxmin()


def _spurious_values(column: pd.Series, name: str, positive: object) -> tuple[object, object]:
    values = _two_values(column, "dataset.spurious", name)
    if positive is None:
        return values[0], values[1]
    chosen = _match_value(values, positive, "dataset.spurious_positive", name)
    return next(v for v in values if v != chosen), chosen


def _typed_features(features: pd.DataFrame, had_missing: list[str]) -> pd.DataFrame:
    """Integers stay int64, decimals float64, everything else a category with its domain.

    A CSV integer column with a missing value is read as float; once its incomplete rows
    are dropped, whole numbers there become int64 again.
    """
    typed = {}
    for name in features.columns:
        column = features[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            domain = sorted(column.astype(str).unique().tolist())
            _warn_if_not_a_category(str(name), domain, len(column))
            typed[name] = pd.Categorical(column.astype(str), categories=domain)
        elif pd.api.types.is_integer_dtype(column) or (
            name in had_missing and np.array_equal(column, np.round(column))
        ):
            typed[name] = column.astype(np.int64)
        else:
            typed[name] = column.astype(np.float64)
    return pd.DataFrame(typed, index=features.index)


def _warn_if_not_a_category(name: str, domain: list[str], n_rows: int) -> None:
    """A text column that is numbers with a decimal comma, or one value per row (an id, a
    timestamp), is a valid category but rarely what was meant: say so, once, with the fix."""
    commas = [v for v in domain if DECIMAL_COMMA.fullmatch(v.strip())]
    if len(domain) >= 3 and len(commas) >= 0.9 * len(domain):
        log.warning(
            "column %r reads as text, but its values look like numbers written with a comma (e.g. %r): "
            "if the comma is the decimal mark, read them as numbers with "
            "--set \"dataset.decimal=','\" (in YAML: decimal: ',')",
            name, commas[0],
        )  # fmt: skip
    elif n_rows >= NEAR_UNIQUE_ROWS and len(domain) >= NEAR_UNIQUE_SHARE * n_rows:
        log.warning(
            "column %r has %d distinct values in %d rows: as a category (an id, a timestamp, free "
            "text?) it teaches a classifier little and widens the generator's vocabulary; drop it, or "
            "turn it into numbers", name, len(domain), n_rows,
        )  # fmt: skip


def _describe_column(column: pd.Series) -> Column:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return Column(str(column.name), "category", tuple(column.cat.categories))
    if pd.api.types.is_integer_dtype(column):
        return Column(str(column.name), "int", int_values=tuple(np.unique(column).tolist()))
    return Column(str(column.name), "float")
