"""Peer generators from other libraries behind the sampler interface (the `peers` extra).

- `ctgan`: CTGAN (ctgan), a conditional GAN, asked for the target through its own condition
  vector, which steers the rows but does not fix them.
- `tvae`: TVAE (ctgan), a variational autoencoder with no conditioning.
- `smote_variants.<Name>`: any of smote_variants' oversamplers (e.g. `ProWSyn`), on the
  target's rows against all others, categories one-hot encoded.

`ctgan` and `tvae` learn the target key as one more discrete column (a group's key holds its
spurious attribute, so for group targets it replaces the attribute's column and the rows get
their group's attribute) and drop the rows drawn for another target. Each peer reports, per
target, the share of drawn (or asked) rows it kept as `acceptance` and its rows/s, as the LLM
reports validity. Rounds are sized by the acceptance so far, within a budget of
`generator.peers.max_rounds` rounds of max(n, 256) draws; a target the budget cannot make fails
with a SamplerFailure, which a sweep with `generator.on_failure: record` records and goes past.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import math
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from synthscale.config import GeneratorConfig
from synthscale.data.schema import TARGET_COLUMN, Schema
from synthscale.errors import SamplerFailure, SynthscaleError
from synthscale.samplers.base import SMALL_MODEL_BUILDS_PER_GPU, StepCallback, VisibleRows, as_target
from synthscale.samplers.library_hooks import swapped
from synthscale.samplers.registry import check_installed, register
from synthscale.targets import Target

DISCRETE_MAX_INTEGERS = 16  # an integer column with at most this many observed values is discrete
MIN_ROUND_ROWS = 256  # rows drawn per round at least: a rare target needs many draws
# rdt (ctgan's data transformer) caps pandas below 3 in its metadata but runs on it (tests/samplers)
PEERS_INSTALL = "pip install 'synthscale[peers]' && pip install --no-deps ctgan==0.12.1 rdt==2.0.0"
# smote-variants asks for tensorflow, keras and mkl, which only its DEAGO oversampler imports
SMOTE_VARIANTS_INSTALL = "pip install 'synthscale[peers]' && pip install --no-deps smote-variants==1.0.1"


def round_size(missing: int, accepted: int, drawn: int, budget: int) -> int:
    """Rows to draw next for `missing` more of a target: at first max(missing, MIN_ROUND_ROWS);
    then what the acceptance so far says they need (a tenth more), within the budget left; 0
    when even the acceptance's one-sided 95 % upper bound (Clopper-Pearson) says the budget
    left cannot make them, so a target the generator hardly ever draws fails at once."""
    from scipy import stats

    left = budget - drawn
    if drawn == 0:
        return min(max(missing, MIN_ROUND_ROWS), left)
    upper = float(stats.beta.ppf(0.95, accepted + 1, drawn - accepted)) if accepted < drawn else 1.0
    if missing / upper > left:
        return 0
    rate = accepted / drawn if accepted else upper
    return min(max(math.ceil(1.1 * missing / rate), MIN_ROUND_ROWS), left)


class DrawAndKeep(VisibleRows, abc.ABC):
    """A trained generator sampled in rounds: draw rows for the target, keep those that are of
    it (and readable), until n are kept or the draws of `generator.peers.max_rounds` rounds of
    max(n, 256) rows are spent, each round sized by the acceptance so far (round_size). The
    rows are learnt with the target key as one more column; a group's key holds its attribute,
    so for group targets the key replaces the attribute's column and the kept rows get their
    group's attribute back. Subclasses draw (`_draw`), keep (`_keep`) and seed (`_seeded`)."""

    trains_model = True
    builds_per_gpu = SMALL_MODEL_BUILDS_PER_GPU  # networks of a few hundred thousand weights
    train_longer = "generator.peers.epochs"  # the setting named when too few rows are kept

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        check_installed(self.name)
        self.settings = config.peers
        self.training_seconds = 0.0
        self.reports: dict[str, dict[str, float]] = {}

    def cache_settings(self) -> dict[str, Any]:
        return self.settings.model_dump(mode="json")

    def _target_table(self) -> pd.DataFrame:
        """The visible rows, categories as text, with the target key as one more column."""
        schema = self._schema
        table = self._rows.astype(dict.fromkeys(schema.categorical_names, str))
        if self._attribute_in_target():  # a group's key holds its attribute: one column, not two
            table = table.drop(columns=schema.spurious)
        table[TARGET_COLUMN] = self._targets
        return table

    def _attribute_in_target(self) -> bool:
        targets = self._targets
        return self._schema.spurious is not None and len(targets) > 0 and as_target(targets[0]).is_group

    @abc.abstractmethod
    def _draw(self, n: int, target: str) -> pd.DataFrame:
        """n rows drawn for the target, the target key in TARGET_COLUMN."""

    def _keep(self, rows: pd.DataFrame, target: Target) -> pd.DataFrame:
        """The drawn rows of the requested target."""
        return rows[rows[TARGET_COLUMN].astype(str).to_numpy() == str(target)]

    @abc.abstractmethod
    def _seeded(self, generator_seed: int) -> contextlib.AbstractContextManager:
        """Within it, the draws are fixed by generator_seed."""

    def _sample(self, n: int, target: Target, count: int, generator_seed: int) -> pd.DataFrame:
        started, kept, accepted, drawn = time.perf_counter(), [], 0, 0
        piece = max(n, MIN_ROUND_ROWS)  # one draw at most this large: GReaT generates a draw at once
        budget = self.settings.max_rounds * piece
        with self._seeded(generator_seed):
            while accepted < n and drawn < budget:
                size = round_size(n - accepted, accepted, drawn, budget)
                if size == 0:  # even the acceptance's upper bound cannot make the rest
                    break
                for start in range(0, size, piece):
                    if accepted >= n:  # the round's rest is not needed (the rows kept are the same)
                        break
                    batch = self._draw(min(piece, size - start), str(target))
                    drawn += len(batch)
                    kept.append(self._keep(batch, target))
                    accepted += len(kept[-1])
        if accepted < n:
            raise SamplerFailure(
                f"{self.name}: {accepted} of the {n} rows asked for target {target.describe(self._schema)} "
                f"kept in {drawn} rows drawn ({accepted / max(drawn, 1):.2%} acceptance); at that rate the "
                f"rest needs more than the {budget} draws of generator.peers.max_rounds="
                f"{self.settings.max_rounds} rounds of {piece}; train longer "
                f"({self.train_longer}) or raise max_rounds"
            )
        self.reports[str(target)] = {
            "acceptance": accepted / drawn,
            "rows_generated": float(drawn),
            "sampling_rows_per_s": n / max(time.perf_counter() - started, 1e-9),
            "training_seconds": self.training_seconds,
        }
        rows = pd.concat(kept, ignore_index=True).iloc[:n]
        if self._attribute_in_target():
            rows[self._schema.spurious] = target.attribute_value(self._schema)
        return rows[self._schema.feature_names]

    def target_report(self, target: str) -> dict[str, float]:
        return self.reports.get(str(target), {})


class _CtganFamily(DrawAndKeep):
    """ctgan's two synthesizers: fitted on the visible rows and their target keys."""

    conditions = False

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__(config)
        self._model: Any = None

    def fit(self, rows: pd.DataFrame, targets: np.ndarray, schema: Schema) -> _CtganFamily:
        super().fit(rows, targets, schema)
        table = self._target_table()
        discrete = [TARGET_COLUMN, *(c for c in discrete_columns(schema) if c in table.columns)]
        started = time.perf_counter()
        self._model = self._synthesizer()
        self._model.set_random_state(self.settings.train_seed)
        with epochs_reported(self._model, self.on_training_step):
            self._model.fit(table, discrete)
        self.training_seconds = time.perf_counter() - started
        return self

    @abc.abstractmethod
    def _synthesizer(self) -> Any:
        """A new, untrained ctgan synthesizer."""

    @contextlib.contextmanager
    def _seeded(self, generator_seed: int):
        self._model.set_random_state(generator_seed)
        yield

    def _draw(self, n: int, target: str) -> pd.DataFrame:
        if self.conditions:
            return self._model.sample(n, condition_column=TARGET_COLUMN, condition_value=target)
        return self._model.sample(n)


@contextlib.contextmanager
def epochs_reported(model: Any, on_step: StepCallback | None) -> Iterator[None]:
    """Within it, `model.fit` reports each finished epoch to `on_step` (epochs done, in all,
    the epoch's last loss). ctgan has no callback: its training loop walks its epochs through
    its module's `tqdm`, which this swaps for a reporting walk meanwhile (a courtesy: no
    report where that module has no `tqdm`)."""
    module = sys.modules[type(model).__module__]
    if on_step is None or not hasattr(module, "tqdm"):
        yield
        return

    def reporting_walk(epochs: Iterable[int], **_: Any) -> Iterator[int]:
        epochs = list(epochs)
        on_step(0, len(epochs), float("nan"))
        for done, epoch in enumerate(epochs, start=1):
            yield epoch
            on_step(done, len(epochs), last_loss(model))

    with swapped(module, "tqdm", reporting_walk):
        yield


def last_loss(model: Any) -> float:
    """The newest loss in a ctgan synthesizer's `loss_values` (CTGAN: the generator's)."""
    losses = getattr(model, "loss_values", None)
    if losses is None or len(losses) == 0:
        return float("nan")
    column = "Generator Loss" if "Generator Loss" in losses.columns else "Loss"
    return float(losses[column].iloc[-1])


def discrete_columns(schema: Schema) -> list[str]:
    """Categories, and integer columns with few observed values (flags, codes)."""
    return [
        c.name
        for c in schema.columns
        if c.kind == "category" or (c.kind == "int" and len(c.int_values) <= DISCRETE_MAX_INTEGERS)
    ]


@register("ctgan", requires=("ctgan", PEERS_INSTALL))
class CtganSampler(_CtganFamily):
    """CTGAN, conditioned on the target through its condition vector."""

    name = "ctgan"
    conditions = True

    def _synthesizer(self) -> Any:
        from ctgan import CTGAN

        return CTGAN(epochs=self.settings.epochs, batch_size=self.settings.batch_size)


@register("tvae", requires=("ctgan", PEERS_INSTALL))
class TvaeSampler(_CtganFamily):
    """TVAE: no conditioning; rows of other targets are dropped."""

    name = "tvae"

    def _synthesizer(self) -> Any:
        from ctgan import TVAE

        return TVAE(epochs=self.settings.epochs, batch_size=self.settings.batch_size)


BALANCED_HINT = (
    " (the target and the other rows have the same count, and an oversampler that sizes its output by "
    "their difference adds nothing: run it on every training row, generator.data_access=train, or on "
    "the native protocol)"
)


def smote_variants_names() -> list[str]:
    import smote_variants

    return sorted(o.__name__ for o in smote_variants.get_all_oversamplers())


@register(
    "smote_variants", requires=("smote_variants", SMOTE_VARIANTS_INSTALL), variants=smote_variants_names
)
class SmoteVariantsSampler(VisibleRows):
    """One of smote_variants' oversamplers (`smote_variants.ProWSyn`), on the target's rows
    against every other visible row. Categories are one-hot encoded for it and decoded by the
    largest share; the rows it adds are those of the target it returns that it was not given
    (a cleaning variant may also drop rows), asked for again with another seed if short."""

    name = "smote_variants"
    min_target_rows = 2

    def __init__(self, config: GeneratorConfig, variant: str) -> None:
        super().__init__()
        self.variant = variant
        self.name = f"smote_variants.{variant}"
        self.max_rounds = config.peers.max_rounds
        self.reports: dict[str, dict[str, float]] = {}

    def cache_settings(self) -> dict[str, Any]:
        return {"variant": self.variant, "max_rounds": self.max_rounds}

    def _sample(self, n: int, target: Target, count: int, generator_seed: int) -> pd.DataFrame:
        is_target = self._targets == str(target)
        if count > len(is_target) - count:
            raise SynthscaleError(
                f"{self.name}: target {as_target(target).describe(self._schema)} has {count} of the "
                f"{len(is_target)} visible rows; smote_variants oversamples only the smaller side "
                "(set generator.data_access=seed, whose seed set is balanced)"
            )
        encoded = one_hot(self._rows, self._schema)
        y = is_target.astype(int)
        started, made, asked = time.perf_counter(), [], 0
        for attempt in range(self.max_rounds):
            request = max(n - sum(map(len, made)), MIN_ROUND_ROWS)  # a few rows may round to none
            asked += request
            try:
                new, why = self._oversample(encoded, y, request, generator_seed * self.max_rounds + attempt)
            except Exception as exc:  # the library's own error, e.g. a neighbour search on no rows
                raise SamplerFailure(
                    f"{self.name} rejected the rows of target {as_target(target).describe(self._schema)} "
                    f"({count} rows against {len(y) - count}): {type(exc).__name__}: {exc}"
                ) from exc
            made.append(new)
            if sum(map(len, made)) >= n:
                break
            if len(new) == 0:
                balanced = BALANCED_HINT if 2 * count == len(y) else ""
                raise SamplerFailure(
                    f"{self.name} made no rows of target {as_target(target).describe(self._schema)} "
                    f"from {count} rows against {len(y) - count} (its last message: {why or 'none'}){balanced}"
                )
        rows = np.concatenate(made)[:n]
        if len(rows) < n:
            raise SamplerFailure(
                f"{self.name}: {len(rows)} of the {n} rows asked for after generator.peers.max_rounds="
                f"{self.max_rounds} rounds"
            )
        self.reports[str(target)] = {
            "acceptance": min(1.0, sum(map(len, made)) / asked),
            "sampling_rows_per_s": n / max(time.perf_counter() - started, 1e-9),
        }
        decoded = decode_one_hot(rows, self._schema)
        if target.is_group:  # noise-adding variants may move it; the group fixes it
            decoded[self._schema.spurious] = target.attribute_value(self._schema)
        return decoded

    def _oversample(self, encoded: np.ndarray, y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, str]:
        """The new rows of class 1 (about n), and the library's last message."""
        import smote_variants

        oversampler = getattr(smote_variants, self.variant)(random_state=seed)
        # the library sizes its output by the class counts' difference, which is 0 on a
        # balanced seed set: ask for exactly n instead
        oversampler.det_n_to_sample = lambda *args, **kwargs: n
        said = _LastMessage()
        library_log = logging.getLogger("smote_variants")
        own_handlers, library_log.handlers = library_log.handlers, [said]  # its console lines: ours
        propagates, library_log.propagate = library_log.propagate, False
        try:
            X, labels = oversampler.sample(encoded, y)
        finally:
            library_log.handlers, library_log.propagate = own_handlers, propagates
        given = {row.tobytes() for row in encoded[y == 1]}
        candidates = X[labels == 1]
        new = np.array([row for row in candidates if row.tobytes() not in given]).reshape(
            -1, encoded.shape[1]
        )
        return new, said.message

    def target_report(self, target: str) -> dict[str, float]:
        return self.reports.get(str(target), {})


class _LastMessage(logging.Handler):
    """Keeps the last message a library logged (why it made no rows), printing none: the
    library logs several lines per call at INFO."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage()


def one_hot(rows: pd.DataFrame, schema: Schema) -> np.ndarray:
    """Numbers for a numeric-only library: each category a 0/1 column, in its domain's order."""
    parts = []
    for column in schema.columns:
        values = rows[column.name]
        if column.kind == "category":
            codes = pd.Categorical(values.astype(str), categories=column.categories).codes
            parts.append(np.eye(len(column.categories))[codes])
        else:
            parts.append(values.to_numpy(np.float64)[:, None])
    return np.hstack(parts).astype(np.float64)


def decode_one_hot(encoded: np.ndarray, schema: Schema) -> pd.DataFrame:
    """The inverse of one_hot: a category is its largest column (interpolated rows hold shares)."""
    decoded, at = {}, 0
    for column in schema.columns:
        if column.kind == "category":
            width = len(column.categories)
            decoded[column.name] = np.asarray(column.categories)[encoded[:, at : at + width].argmax(axis=1)]
            at += width
        else:
            decoded[column.name] = encoded[:, at]
            at += 1
    return pd.DataFrame(decoded, columns=schema.feature_names)
