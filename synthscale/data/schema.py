"""What every stage knows of a table: its columns' kinds and domains (`Schema`), and the
validated table itself (`Dataset`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

# the column that carries each row's target key in the tables of rows synthscale writes beside
# the data's own columns (pools, a peer's training table): reserved, so no dataset may have it
TARGET_COLUMN = "__synthscale_target__"

ColumnKind = Literal["int", "float", "category"]


@dataclass(frozen=True)
class Column:
    """One feature: its kind and domain (categories, or the observed integers)."""

    name: str
    kind: ColumnKind
    categories: tuple[str, ...] = ()
    int_values: tuple[int, ...] = ()


@dataclass(frozen=True)
class Schema:
    """What a sampler and a classifier need to know about the features and the label."""

    columns: tuple[Column, ...]
    label: str
    majority_value: object
    minority_value: object
    spurious: str | None
    spurious_values: tuple[object, object] | None  # (negative, positive)

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def categorical_names(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "category"]

    @property
    def integer_names(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "int"]


@dataclass(frozen=True)
class Dataset:
    """A validated table: features, y (1 = minority class) and a (1 = positive attribute)."""

    name: str
    features: pd.DataFrame
    y: np.ndarray
    a: np.ndarray | None
    schema: Schema
    n_dropped_missing: int
    data_hash: str
