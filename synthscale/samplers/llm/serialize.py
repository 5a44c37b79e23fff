"""Rows <-> token sequences: "income is >50K, sex is Male, age is 39, ...".

Every row becomes a fixed-length sequence of schema tokens: <bos>, the conditioning fields
(the label, then the spurious attribute when the table has one), the other columns in a fresh
random order per training example (be_great's permutation), <eos>. A column is its name token
followed by its value: one token per observed value for columns with few values (categories,
flags, X6 in {-1, 1}), otherwise a sign and a fixed number of digits in the column's precision.
Rows never pass through free text, so commas or " is " inside a category cannot break parsing,
and decoding restores each dtype exactly (integers stay integers, decimals keep the column's
precision). The text form is rendered for people only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from synthscale.data.schema import Schema
from synthscale.errors import SynthscaleError
from synthscale.samplers.base import nearest_of

ENUM_MAX_VALUES = 64  # a numeric column with at most this many observed values gets one token per value
MAX_DECIMALS = 6  # precision searched for a float column; finer values are rounded to it
MAX_DIGITS = 15  # scaled magnitudes above 10**15 lose integer exactness in float64
PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
DIGITS = tuple("0123456789")
PLUS, MINUS = "+", "-"

FieldKind = Literal["int", "float", "category"]


@dataclass(frozen=True)
class FieldCodec:
    """How one column is written: an enumerated value token, or sign + fixed-width digits."""

    name: str
    kind: FieldKind  # the dtype restored on decoding
    values: tuple = ()  # enumerated fields: the observed values; empty for digit fields
    decimals: int = 0  # digit fields: value = scaled / 10**decimals
    low: int = 0  # digit fields: observed range, scaled
    high: int = 0
    width: int = 0  # digits written

    @property
    def enumerated(self) -> bool:
        return len(self.values) > 0

    @property
    def signed(self) -> bool:
        return self.low < 0

    @property
    def value_length(self) -> int:
        return 1 if self.enumerated else self.width + int(self.signed)

    def format(self, value: object) -> str:
        if self.kind == "float" and not self.enumerated:
            return f"{value:.{self.decimals}f}"
        return str(value)


class RowCodec:
    """The token vocabulary of one table and the encode/decode/render functions over it."""

    def __init__(self, fields: tuple[FieldCodec, ...], n_conditioning: int, schema: Schema) -> None:
        self.fields = fields
        self.n_conditioning = n_conditioning  # leading fields in fixed order: label (, attribute)
        self.schema = schema
        self.tokens: list[str] = [PAD, BOS, EOS, *DIGITS, PLUS, MINUS]
        self.texts: list[str] = ["", "", "", *DIGITS, PLUS, MINUS]
        self.name_ids = [self._add(f"<c{i}>", f.name) for i, f in enumerate(fields)]
        self.value_ids = [
            [self._add(f"<c{i}v{j}>", str(v)) for j, v in enumerate(f.values)] for i, f in enumerate(fields)
        ]
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2
        self.digit_ids = list(range(3, 13))
        self.plus_id, self.minus_id = 13, 14
        self.row_length = 2 + sum(1 + f.value_length for f in fields)
        self._field_of_name = {t: i for i, t in enumerate(self.name_ids)}
        self._value_of = {t: (i, j) for i, ids in enumerate(self.value_ids) for j, t in enumerate(ids)}

    def _add(self, token: str, text: str) -> int:
        self.tokens.append(token)
        self.texts.append(text)
        return len(self.tokens) - 1

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    @property
    def feature_fields(self) -> list[int]:
        """Indices of the fields that are feature columns (every field but the label)."""
        return list(range(1, len(self.fields)))

    def prompt(self, y: int, a: int | None = None) -> list[int]:
        """The conditioning prefix: <bos>, the label, and the attribute for a group target."""
        ids = [self.bos_id, self.name_ids[0], self.value_ids[0][y]]
        if a is not None:
            spurious = self.fields[1]
            wanted = self.schema.spurious_values[a]
            index = [str(v) for v in spurious.values].index(str(wanted))
            ids += [self.name_ids[1], self.value_ids[1][index]]
        return ids

    def value_blocks(self, features: pd.DataFrame, y: np.ndarray) -> list[np.ndarray]:
        """Each field's name and value tokens for every row, [n, 1 + value_length] per field."""
        blocks = []
        for i, field in enumerate(self.fields):
            column = np.asarray(y) if i == 0 else features[field.name]
            values = self._value_tokens(i, field, column)
            names = np.full((len(values), 1), self.name_ids[i], dtype=np.int64)
            blocks.append(np.concatenate([names, values], axis=1))
        return blocks

    def _value_tokens(self, i: int, field: FieldCodec, column) -> np.ndarray:
        if i == 0:  # the label: y is already the value index (0 majority, 1 minority)
            return np.asarray(self.value_ids[0], dtype=np.int64)[np.asarray(column, dtype=np.int64)][:, None]
        if field.enumerated:
            index = enumerated_index(field, column)
            return np.asarray(self.value_ids[i], dtype=np.int64)[index][:, None]
        scaled = np.rint(np.asarray(column, dtype=np.float64) * 10.0**field.decimals).astype(np.int64)
        magnitude = np.abs(scaled)
        powers = 10 ** np.arange(field.width - 1, -1, -1, dtype=np.int64)
        digits = np.asarray(self.digit_ids, dtype=np.int64)[(magnitude[:, None] // powers) % 10]
        if not field.signed:
            return digits
        signs = np.where(scaled < 0, self.minus_id, self.plus_id)[:, None]
        return np.concatenate([signs, digits], axis=1)

    def assemble(self, blocks: list[np.ndarray], rng: np.random.Generator | None) -> np.ndarray:
        """Rows as sequences: conditioning fields first, the rest in a random order per row
        (no rng: in the table's column order)."""
        n = len(blocks[0])
        free = np.tile(np.arange(self.n_conditioning, len(self.fields)), (n, 1))
        if rng is not None:
            free = rng.permuted(free, axis=1)
        order = np.concatenate([np.tile(np.arange(self.n_conditioning), (n, 1)), free], axis=1)
        lengths = np.array([b.shape[1] for b in blocks])
        starts = 1 + np.cumsum(lengths[order], axis=1) - lengths[order]  # start of each slot
        sequences = np.empty((n, self.row_length), dtype=np.int64)
        sequences[:, 0], sequences[:, -1] = self.bos_id, self.eos_id
        rows = np.arange(n)[:, None]
        for slot in range(len(self.fields)):
            fields = order[:, slot]
            for f in np.unique(fields):
                mine = fields == f
                columns = starts[mine, slot][:, None] + np.arange(lengths[f])
                sequences[rows[mine], columns] = blocks[f][mine]
        return sequences

    def conform(self, features: pd.DataFrame) -> pd.DataFrame:
        """Rows made writable by this codec: numbers rounded to their column's precision and
        range, enumerated numbers snapped to the nearest observed value (interpolated rows
        fall between the values the codec was built from)."""
        conformed = features.copy()
        for field in self.fields[1:]:
            if field.kind == "category":
                continue
            values = conformed[field.name].to_numpy(dtype=np.float64)
            if field.enumerated:
                snapped = nearest_of(values, field.values)
            else:
                scale = 10.0**field.decimals
                snapped = np.clip(np.rint(values * scale), field.low, field.high) / scale
            conformed[field.name] = snapped.astype(np.int64) if field.kind == "int" else snapped
        return conformed

    def encode(self, features: pd.DataFrame, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.assemble(self.value_blocks(features, y), rng)

    def decode(self, sequences: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """(features, y, valid): rows that break the grammar are marked invalid, never guessed."""
        n = len(sequences)
        values = [[None] * n for _ in self.fields]
        valid = np.ones(n, dtype=bool)
        for r, sequence in enumerate(np.asarray(sequences).tolist()):
            parsed = self._parse(sequence)
            if parsed is None:
                valid[r] = False
                continue
            for i, value in enumerate(parsed):
                values[i][r] = value
        y = np.array([v if v is not None else -1 for v in values[0]], dtype=np.int64)
        columns = {}
        for i in self.feature_fields:
            field = self.fields[i]
            filled = [v if ok else _placeholder(field) for v, ok in zip(values[i], valid, strict=True)]
            columns[field.name] = _typed(filled, field, self.schema)
        features = pd.DataFrame(columns)[self.schema.feature_names]
        return features, y, valid

    def _parse(self, sequence: list[int]) -> list | None:
        """One row's field values (label as 0/1), or None when it breaks the grammar."""
        if len(sequence) < 2 or sequence[0] != self.bos_id:
            return None
        parsed: list = [None] * len(self.fields)
        pos = 1
        while pos < len(sequence) and sequence[pos] != self.eos_id:
            i = self._field_of_name.get(sequence[pos])
            if i is None or parsed[i] is not None:
                return None
            field = self.fields[i]
            chunk = sequence[pos + 1 : pos + 1 + field.value_length]
            value = self._parse_value(i, field, chunk)
            if value is None:
                return None
            parsed[i] = value
            pos += 1 + field.value_length
        if pos >= len(sequence) or any(v is None for v in parsed):
            return None
        return parsed

    def _parse_value(self, i: int, field: FieldCodec, chunk: list[int]):
        if len(chunk) != field.value_length:
            return None
        if field.enumerated:
            found = self._value_of.get(chunk[0])
            if found is None or found[0] != i:
                return None
            return found[1] if i == 0 else field.values[found[1]]
        sign = 1
        if field.signed:
            if chunk[0] not in (self.plus_id, self.minus_id):
                return None
            sign, chunk = (-1 if chunk[0] == self.minus_id else 1), chunk[1:]
        magnitude = 0
        for token in chunk:
            digit = token - self.digit_ids[0]
            if not 0 <= digit <= 9:
                return None
            magnitude = magnitude * 10 + digit
        scaled = sign * magnitude
        if not field.low <= scaled <= field.high:
            return None
        return scaled if field.kind == "int" else scaled / 10**field.decimals

    def render(self, sequence: list[int] | np.ndarray) -> str:
        """The row as people read it: "income is >50K, age is 39, ..." (invalid rows as tokens)."""
        sequence = np.asarray(sequence).tolist()
        parsed = self._parse(sequence)
        if parsed is None:
            return " ".join(self.tokens[t] for t in sequence)
        order = [self._field_of_name[t] for t in sequence if t in self._field_of_name]
        parts = []
        for i in order:
            value = self.fields[0].values[parsed[0]] if i == 0 else parsed[i]
            parts.append(f"{self.fields[i].name} is {self.fields[i].format(value)}")
        return ", ".join(parts)


def build_codec(features: pd.DataFrame, schema: Schema, enum_max_values: int = ENUM_MAX_VALUES) -> RowCodec:
    """The codec of the rows a generator sees: observed categories, ranges and precisions."""
    label = FieldCodec(schema.label, "category", (schema.majority_value, schema.minority_value))
    fields = [label]
    names = [c.name for c in schema.columns]
    if schema.spurious is not None:
        names.remove(schema.spurious)
        names.insert(0, schema.spurious)
    kinds = {c.name: c.kind for c in schema.columns}
    for name in names:
        spurious = name == schema.spurious
        fields.append(field_codec(features[name], kinds[name], enum_max_values, force_enumerated=spurious))
    return RowCodec(tuple(fields), 1 + int(schema.spurious is not None), schema)


def field_codec(
    column: pd.Series, kind: FieldKind, enum_max_values: int = ENUM_MAX_VALUES, force_enumerated: bool = False
) -> FieldCodec:
    """Enumerate categories and numeric columns with few values; digits for the rest."""
    name = str(column.name)
    if kind == "category":
        observed = pd.unique(column.astype(str))
        return FieldCodec(name, kind, tuple(sorted(observed.tolist())))
    numbers = column.to_numpy(dtype=np.float64)
    distinct = np.unique(numbers)
    if force_enumerated or len(distinct) <= enum_max_values:
        cast = int if kind == "int" else float
        return FieldCodec(name, kind, tuple(cast(v) for v in distinct))
    decimals = 0 if kind == "int" else column_decimals(distinct)
    scaled = np.rint(distinct * 10.0**decimals).astype(np.int64)
    low, high = int(scaled.min()), int(scaled.max())
    width = len(str(max(abs(low), abs(high))))
    if width > MAX_DIGITS:
        raise SynthscaleError(
            f"column '{name}': values up to {max(abs(low), abs(high))} at {decimals} decimals need "
            f"{width} digits, the LLM generator writes at most {MAX_DIGITS}; rescale the column"
        )
    return FieldCodec(name, kind, (), decimals, low, high, width)


def column_decimals(values: np.ndarray) -> int:
    """The fewest decimals that write every value exactly (up to float rounding)."""
    for decimals in range(MAX_DECIMALS + 1):
        scale = 10.0**decimals
        if np.allclose(np.rint(values * scale) / scale, values, rtol=1e-12, atol=1e-12):
            return decimals
    return MAX_DECIMALS


def enumerated_index(field: FieldCodec, column) -> np.ndarray:
    """Position of each value among the field's observed values; unseen values are a bug."""
    if field.kind == "category":
        codes = pd.Categorical(pd.Series(column).astype(str), categories=list(field.values)).codes
    else:
        numbers = np.asarray(column, dtype=np.float64)
        domain = np.asarray(field.values, dtype=np.float64)
        codes = np.clip(np.searchsorted(domain, numbers), 0, len(domain) - 1)
        codes = np.where(domain[codes] == numbers, codes, -1)
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        raise ValueError(f"column '{field.name}' holds values the codec was not built from")
    return codes


def _placeholder(field: FieldCodec):
    if field.enumerated:
        return field.values[0]
    return field.low if field.kind == "int" else field.low / 10**field.decimals


def _typed(values: list, field: FieldCodec, schema: Schema) -> pd.Series | pd.Categorical:
    if field.kind == "category":
        column = next(c for c in schema.columns if c.name == field.name)
        return pd.Categorical([str(v) for v in values], categories=list(column.categories))
    if field.kind == "int":
        return pd.Series(values, dtype=np.int64)
    return pd.Series(values, dtype=np.float64)
