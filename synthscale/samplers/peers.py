"""Peer generators from other libraries behind the sampler interface (the `peers` extra).

- `ctgan`: CTGAN (ctgan), a conditional GAN. The target key is one more discrete column and
  sampling asks for it through CTGAN's own condition vector, which steers the rows but does not
  fix them, so the rows whose generated target is not the requested one are dropped.
- `tvae`: TVAE (ctgan), a variational autoencoder with no conditioning: rows are drawn and
  those of the requested target kept.

Both learn the target key as one more discrete column; a group's key holds its spurious
attribute, so for group targets that column replaces the attribute's and the sampled rows get
the attribute of their group. Both report, per target, the share of drawn rows kept (acceptance) and the rows/s, as the LLM
reports validity; a target that is never drawn stops after `generator.peers.max_rounds` rounds.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from synthscale.config import GeneratorConfig
from synthscale.data.loaders import Schema
from synthscale.errors import SynthscaleError
from synthscale.samplers.base import VisibleRows, as_target, restore_dtypes
from synthscale.samplers.registry import check_installed, register
from synthscale.targets import Target

TARGET_COLUMN = "__synthscale_target__"
DISCRETE_MAX_INTEGERS = 16  # an integer column with at most this many observed values is discrete
MIN_ROUND_ROWS = 256  # rows drawn per round at least: a rare target needs many draws
# rdt (ctgan's data transformer) caps pandas below 3 in its metadata but runs on it (tests/samplers)
PEERS_INSTALL = "pip install 'synthscale[peers]' && pip install --no-deps ctgan==0.12.1 rdt==2.0.0"


class _CtganFamily(VisibleRows):
    """ctgan's two synthesizers: fitted on the visible rows and their target keys."""

    trains_model = True
    conditions = False

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        check_installed(self.name)
        self.settings = config.peers
        self.training_seconds = 0.0
        self.reports: dict[str, dict[str, float]] = {}
        self._model: Any = None

    def cache_settings(self) -> dict[str, Any]:
        return self.settings.model_dump(mode="json")

    def fit(self, rows: pd.DataFrame, targets: np.ndarray, schema: Schema) -> _CtganFamily:
        super().fit(rows, targets, schema)
        table = self._rows.astype(dict.fromkeys(schema.categorical_names, str))
        if self._attribute_in_target():  # a group's key holds its attribute: one column, not two
            table = table.drop(columns=schema.spurious)
        table[TARGET_COLUMN] = self._targets
        discrete = [TARGET_COLUMN, *(c for c in discrete_columns(schema) if c in table.columns)]
        started = time.perf_counter()
        self._model = self._synthesizer()
        self._model.set_random_state(self.settings.train_seed)
        self._model.fit(table, discrete)
        self.training_seconds = time.perf_counter() - started
        return self

    def _attribute_in_target(self) -> bool:
        targets = self._targets
        return self._schema.spurious is not None and len(targets) > 0 and as_target(targets[0]).is_group

    def _synthesizer(self) -> Any:
        raise NotImplementedError

    def _draw(self, n: int, target: str) -> pd.DataFrame:
        if self.conditions:
            return self._model.sample(n, condition_column=TARGET_COLUMN, condition_value=target)
        return self._model.sample(n)

    def sample(self, n: int, target: str, generator_seed: int) -> pd.DataFrame:
        self._count_target(target)
        target = as_target(target)
        if n == 0:
            return restore_dtypes(self._rows.iloc[:0], self._schema)
        self._model.set_random_state(generator_seed)
        started, kept, drawn = time.perf_counter(), [], 0
        for _ in range(self.settings.max_rounds):
            batch = self._draw(max(n, MIN_ROUND_ROWS), str(target))
            drawn += len(batch)
            kept.append(batch[self._of_target(batch, target)])
            if sum(map(len, kept)) >= n:
                break
        accepted = sum(map(len, kept))
        if accepted < n:
            raise SynthscaleError(
                f"{self.name}: {accepted} of the {n} rows asked for target {target.describe(self._schema)} "
                f"in {drawn} rows drawn ({accepted / drawn:.2%} acceptance) over generator.peers.max_rounds="
                f"{self.settings.max_rounds} rounds; train longer (generator.peers.epochs) or raise max_rounds"
            )
        seconds = time.perf_counter() - started
        self.reports[str(target)] = {
            "acceptance": accepted / drawn,
            "rows_generated": float(drawn),
            "sampling_rows_per_s": n / max(seconds, 1e-9),
            "training_seconds": self.training_seconds,
        }
        rows = pd.concat(kept, ignore_index=True).iloc[:n].drop(columns=TARGET_COLUMN)
        if self._attribute_in_target():
            rows[self._schema.spurious] = target.attribute_value(self._schema)
        return restore_dtypes(rows[self._schema.feature_names], self._schema)

    def _of_target(self, rows: pd.DataFrame, target: Target) -> np.ndarray:
        """Rows whose generated target is the requested one."""
        return rows[TARGET_COLUMN].astype(str).to_numpy() == str(target)

    def target_report(self, target: str) -> dict[str, float]:
        return self.reports.get(str(target), {})


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
