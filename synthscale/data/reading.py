"""Reading a table from a file (CSV or Parquet, its delimiter and encoding told or sniffed)
or from OpenML (adult), with every problem named."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from synthscale._io import why_not_a_file
from synthscale.errors import SynthscaleError

CSV_SNIFF_BYTES = 64 * 1024  # enough lines to tell the delimiter, and binary from text


CSV_DELIMITERS = ",;\t|"


ADULT_OPENML_NAME = "adult"


ADULT_OPENML_VERSION = 2


def read_table(
    path: Path, na_values: list[str], sep: str = ",", encoding: str = "utf-8", decimal: str = "."
) -> pd.DataFrame:
    """Read CSV or Parquet; the file's own name appears in every error, with the fix."""
    if path.is_dir():
        raise SynthscaleError(
            f"dataset.path: {str(path)!r} is a directory; pass the CSV or Parquet file in it"
        )
    if not path.is_file():
        raise SynthscaleError(
            f"dataset.path: {str(path)!r} {why_not_a_file(path)}; pass a CSV or Parquet file"
        )
    if not os.access(path, os.R_OK):
        raise SynthscaleError(
            f"dataset.path: {path.name} is not readable by this user; fix its permissions "
            f"(e.g. chmod u+r {str(path)!r}) or pass a copy"
        )
    if path.stat().st_size == 0:
        raise SynthscaleError(f"dataset.path: {path.name} is empty; pass a table with a header row")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise SynthscaleError(f"dataset.path: {path.name} is neither .csv nor .parquet")
    if suffix != ".csv":
        try:
            return pd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise SynthscaleError(f"dataset.path: cannot read {path.name} as Parquet: {exc}") from exc
    return _read_csv(path, na_values, sep, encoding, decimal)


def _read_csv(path: Path, na_values: list[str], sep: str, encoding: str, decimal: str) -> pd.DataFrame:
    with path.open("rb") as handle:
        head = handle.read(CSV_SNIFF_BYTES)
    if b"\0" in head:
        raise SynthscaleError(
            f"dataset.path: {path.name} holds binary data, not CSV text; pass a CSV or Parquet file"
        )
    options = {"sep": sep, "encoding": encoding, "skipinitialspace": True, "decimal": decimal}
    try:
        # pandas renames a repeated header ('gender', 'gender.1'): read the header as it is
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, **options)
        check_unique_columns(header.iloc[0].tolist(), f"dataset.path: {path.name}")
        # exactly the documented strings are missing: pandas' own list would drop a category
        # value such as None or NA without a word
        table = pd.read_csv(path, na_values=na_values, keep_default_na=False, **options)
    except UnicodeDecodeError as exc:
        raise SynthscaleError(
            f"dataset.path: {path.name} is not {encoding} text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}); set dataset.encoding to the file's encoding, e.g. dataset.encoding=latin-1"
        ) from None
    except (ValueError, OSError) as exc:  # pandas' ParserError is a ValueError
        raise SynthscaleError(
            f"dataset.path: cannot read {path.name} as CSV with dataset.sep={sep!r}: {exc}{_sep_hint(head, sep)}"
        ) from exc
    if table.shape[1] == 1:
        hint = _sep_hint(head, sep)
        if hint:
            raise SynthscaleError(
                f"dataset.path: {path.name} reads as one column with dataset.sep={sep!r}{hint}"
            )
    return table


def _sep_hint(head: bytes, sep: str) -> str:
    """'; its lines look ';'-separated: set dataset.sep=';'' when another delimiter fits better."""
    try:
        found = (
            csv.Sniffer().sniff(head.decode("utf-8", errors="replace"), delimiters=CSV_DELIMITERS).delimiter
        )
    except csv.Error:
        return ""
    if found == sep:
        return ""
    shown = "\\t" if found == "\t" else found
    return f"; its lines look '{shown}'-separated: set dataset.sep='{shown}'"


def check_unique_columns(names: list[object], where: str) -> None:
    """A repeated column name would make 'the label column' ambiguous: refuse it by name."""
    counts = pd.Series(names).value_counts()
    repeated = counts[counts > 1]
    if len(repeated):
        name = repeated.index[0]
        positions = [str(i + 1) for i, n in enumerate(names) if n == name]
        raise SynthscaleError(
            f"{where} has the column name {name!r} {repeated.iloc[0]} times (columns {', '.join(positions)}); "
            "rename them so that every column name is unique"
        )


def fetch_adult(cache_dir: Path) -> pd.DataFrame:
    """Fetch UCI Adult from OpenML into a local cache; offline, say to pass the file instead."""
    from sklearn.datasets import fetch_openml

    try:
        bunch = fetch_openml(
            ADULT_OPENML_NAME, version=ADULT_OPENML_VERSION, as_frame=True, data_home=cache_dir
        )
    except OSError as exc:  # URLError and HTTPError are OSErrors
        raise SynthscaleError(
            f"dataset.name=adult: could not fetch it from OpenML ({exc}). Offline? Pass the "
            "file instead: --set dataset.path=PATH/adult.csv "
            "--set dataset.label=income --set dataset.spurious=sex"
        ) from exc
    table = bunch.frame.rename(columns={"class": "income"})
    return table.astype({c: str for c in table.select_dtypes("category").columns})
