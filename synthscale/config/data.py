"""`dataset:` and `split:`: which table, and how its rows are split."""

from __future__ import annotations

import codecs
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from synthscale.config.common import MAX_SEED, MIN_CALIBRATION_ROWS, Section, path_safe
from synthscale.errors import did_you_mean

BUILTIN_DATASETS = ("craft", "adult")


class DatasetConfig(Section):
    name: str | None = Field(
        "craft",
        description="built-in dataset: craft (simulated), adult (OpenML), or keel/<table> (the KEEL "
        "imbalanced collection: `synthscale datasets` lists it); null with path",
    )
    path: str | None = Field(None, description="CSV or Parquet file; set name: null when used")
    label: str | None = Field(None, description="binary label column (built-ins have a default)")
    spurious: str | Literal[False] | None = Field(
        None, description="binary spurious attribute column, optional; false: none (drops a built-in's)"
    )
    # bool and float kept as YAML read them: a True/False or 0.0/1.0 column is matched by value,
    # and a `yes` that YAML made True is named as such in the error
    minority: str | bool | int | float | None = Field(
        None, description="minority label value; default: the rarer value"
    )
    spurious_positive: str | bool | int | float | None = Field(
        None,
        description="spurious value paired with the minority label in the 'agree' groups; "
        "default: the larger of the two sorted values",
    )
    missing: Literal["drop", "error"] = Field(
        "drop", description="rows with missing values: drop them (counted) or stop with an error"
    )
    na_values: list[str] = Field(
        ["?", ""],
        description="the strings a CSV cell must be to be read as missing, exactly these (an empty "
        "cell is ''); NA, None, null and the like stay values unless listed",
    )
    sep: str = Field(",", min_length=1, description="the CSV's field delimiter, e.g. ';' or '\\t' (a tab)")
    encoding: str = Field("utf-8", description="the CSV's text encoding, e.g. latin-1 or cp1252")
    decimal: Literal[".", ","] = Field(
        ".", description="the CSV's decimal mark: ',' reads 1,5 as the number 1.5 (use with sep=';')"
    )
    craft_rows: int = Field(8000, gt=0, description="rows of the simulated craft table")
    craft_seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the craft table's generating process")
    cache_dir: str = Field(
        "~/.cache/synthscale/openml", description="where the adult loader caches OpenML files"
    )
    alias: str | None = Field(
        None, description="the dataset's name in results and MLflow; default: built-in name or file stem"
    )

    _alias_is_a_file_name = field_validator("alias")(path_safe)

    @field_validator("label", "spurious", mode="before")
    @classmethod
    def _column_names_are_text(cls, value: Any) -> Any:
        """A CSV header is text: `dataset.label=0` names the column '0' (YAML read a number)."""
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("name")
    @classmethod
    def _known_name(cls, value: str | None) -> str | None:
        if value is None or value in BUILTIN_DATASETS or (value.startswith("keel/") and len(value) > 5):
            return value
        hint = did_you_mean(value, BUILTIN_DATASETS)
        raise ValueError(
            f"unknown dataset {value!r}{hint}; use craft, adult, keel/<table>, or null with path"
        )

    @field_validator("sep")
    @classmethod
    def _tab_as_written(cls, value: str) -> str:
        """`--set dataset.sep=\\t` arrives as a backslash and a t: the user means a tab."""
        return "\t" if value == "\\t" else value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; e.g. utf-8, latin-1, cp1252") from None
        return value

    @model_validator(mode="after")
    def _one_source(self) -> DatasetConfig:
        if (self.name is None) == (self.path is None):
            raise ValueError(
                "set exactly one of dataset.name (craft, adult, keel/<table>) and dataset.path "
                "(e.g. --set dataset.name=null --set dataset.path=data.csv)"
            )
        return self


class SplitConfig(Section):
    test_fraction: float = Field(0.3, gt=0, lt=1, description="held-out test share")
    seed_size: int = Field(200, gt=0, description="rows of the balanced seed set (s); divisible by 4")
    calibration_size: int | None = Field(
        None,
        ge=0,
        description="real training rows per replicate held out, balanced over groups (classes), to "
        "recalibrate every classifier (the *_cal risks); no classifier or generator sees them; "
        "null: split.seed_size; 0: none (downstream.calibration prior_shift or none)",
    )

    @model_validator(mode="after")
    def _divisible(self) -> SplitConfig:
        for name, rows in (("seed_size", self.seed_size), ("calibration_size", self.calibration_rows)):
            if rows % 4:
                raise ValueError(
                    f"split.{name}={rows} must be divisible by 4 (the set is balanced over four groups)"
                )
        if 0 < self.calibration_rows < MIN_CALIBRATION_ROWS:
            raise ValueError(
                f"split.calibration_size={self.calibration_rows}: a calibration set needs at least "
                f"{MIN_CALIBRATION_ROWS} rows (2 per group), or 0 for none"
            )
        return self

    @property
    def calibration_rows(self) -> int:
        """The calibration set's size: split.calibration_size, or s when it is null."""
        return self.seed_size if self.calibration_size is None else self.calibration_size
