"""Synthetic pools: what one is, the key that addresses it, building it, and its cache.

A pool holds, per target, rows sampled once at the largest size any grid point reads; every
trial takes slices of it and never regenerates. Cache entries are checksummed directories
(`_io.write_checksummed_entry`), verified on read. Which pools a sweep needs: plan.py;
building them all: build.py.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthscale._io import (
    atomic_write,
    discard_entry,
    hash_json,
    read_checksummed_entry,
    write_checksummed_entry,
)
from synthscale.config import DATA_ACCESSES, GeneratorConfig
from synthscale.data.schema import TARGET_COLUMN, Dataset
from synthscale.samplers import make_sampler
from synthscale.samplers.base import check_target
from synthscale.splits import Split, Task, row_targets
from synthscale.targets import Target

POOL_FILE, MANIFEST_FILE = "pool.parquet", "manifest.json"
CACHE_VERSION = 2  # of the pool entries' format: an entry of another version is rebuilt
POOL_KEY_CHARS = 32  # of the sha256 hex digest: short directory names, no realistic collisions

PoolSlot = tuple[str, str, str, int, str]  # (dataset, task, sampler, seed, data access)
TargetReports = dict[Target, dict[str, float]]  # what the sampler reported per target (validity, ...)


@dataclass(frozen=True)
class PoolSpec:
    """Which pool: the sampler for one dataset, task, data access and replicate, and rows
    needed per target."""

    dataset: str
    task: Task
    sampler: str
    seed: int
    data_access: str  # rows the sampler sees: seed or train
    demand: tuple[tuple[Target, int], ...]  # (target, rows), sorted

    def __post_init__(self) -> None:  # keys as Targets, however given
        object.__setattr__(self, "demand", tuple((Target(t), n) for t, n in self.demand))

    @property
    def slot(self) -> PoolSlot:
        """Where trials look the pool up: (dataset, task, sampler, seed, data access)."""
        return (self.dataset, self.task, self.sampler, self.seed, self.data_access)


@dataclass(frozen=True)
class SyntheticPool:
    """A built pool: its cache key, the rows per target, and what the sampler reported."""

    key: str
    spec: PoolSpec
    rows: dict[Target, pd.DataFrame]
    reports: TargetReports = field(default_factory=dict)
    model: dict[str, Any] | None = None  # the trained model behind the rows (key, source, losses)


def visible_rows(
    dataset: Dataset, split: Split, task: Task, data_access: str
) -> tuple[np.ndarray, np.ndarray]:
    """The rows a generator may see (the balanced set or all training rows) and their target
    keys."""
    assert data_access in DATA_ACCESSES, f"a generator needs seed or train rows, not {data_access!r}"
    visible = split.balanced_index if data_access == "seed" else split.train_index
    return visible, row_targets(dataset, task, visible)


def pool_key(spec: PoolSpec, dataset: Dataset, split: Split, generator: GeneratorConfig) -> str:
    """Everything that changes the rows, hashed: the data, which rows the sampler sees and
    their targets (so the split, the data access and the label/attribute encoding), settings,
    seed, sizes."""
    visible, targets = visible_rows(dataset, split, spec.task, spec.data_access)
    sampler = make_sampler(spec.sampler, generator)
    return hash_json(
        {
            "data": dataset.data_hash,
            "visible_rows": hashlib.sha256(visible.tobytes() + "|".join(targets).encode()).hexdigest(),
            "task": spec.task,
            "sampler": spec.sampler,
            "settings": sampler.cache_settings(),
            "generator_seed": spec.seed,
            "demand": spec.demand,
        }
    )[:POOL_KEY_CHARS]


def check_pool_feasible(spec: PoolSpec, dataset: Dataset, split: Split, generator: GeneratorConfig) -> None:
    """Fail at plan time, before anything is written, when a target has too few visible rows."""
    _, targets = visible_rows(dataset, split, spec.task, spec.data_access)
    sampler = make_sampler(spec.sampler, generator)
    for target, n in spec.demand:
        if n > 0:
            check_target(
                spec.sampler, target, targets, sampler.min_target_rows, dataset.schema, sampler.few_rows_fix
            )


def build_pool(
    spec: PoolSpec,
    dataset: Dataset,
    split: Split,
    generator: GeneratorConfig,
    on_training_step: Callable[[int, int, float], None] | None = None,
) -> SyntheticPool:
    """Fit the sampler on the rows it may see and sample every target once; a sampler that
    trains a model reports each training step to `on_training_step`."""
    visible, targets = visible_rows(dataset, split, spec.task, spec.data_access)
    sampler = make_sampler(spec.sampler, generator)
    sampler.on_training_step = on_training_step
    sampler.fit(dataset.features.iloc[visible], targets, dataset.schema)
    rows = {target: sampler.sample(n, target, spec.seed) for target, n in spec.demand}
    for target, sampled in rows.items():
        _check_rows(spec, dataset, target, sampled, dict(spec.demand)[target])
    reports = {target: sampler.target_report(target) for target in rows}
    key = pool_key(spec, dataset, split, generator)
    return SyntheticPool(key, spec, rows, reports, sampler.model_record())


def _check_rows(spec: PoolSpec, dataset: Dataset, target: Target, rows: pd.DataFrame, n: int) -> None:
    """A sampler must return exactly n rows, and group rows must carry the group's attribute."""
    if len(rows) != n:
        raise RuntimeError(f"sampler {spec.sampler} returned {len(rows)} rows for {target}, expected {n}")
    if target.is_group:
        schema = dataset.schema
        wrong = int((rows[schema.spurious].astype(str) != str(target.attribute_value(schema))).sum())
        if wrong:
            raise RuntimeError(
                f"sampler {spec.sampler}: {wrong} of {n} rows for group "
                f"{target.describe(schema)} have another {schema.spurious}"
            )


@dataclass(frozen=True)
class PoolCache:
    """Pools on disk, one directory per key."""

    root: Path

    def read(self, key: str, spec: PoolSpec) -> SyntheticPool | None:
        """The verified entry, or None; one that cannot be used is removed with a warning."""
        return _read_entry(self.root / key, key, spec)

    def store(self, pool: SyntheticPool) -> SyntheticPool:
        """Write the pool's entry atomically; returns the pool."""
        _write_entry(self.root / pool.key, pool)
        return pool

    def remove_stale_partials(self) -> int:
        """Entries half written by a run that died (`<key>.partial-*`): only the driver writes
        them, so none is live when a run starts. Returns how many were removed."""
        stale = list(self.root.glob("*.partial-*")) if self.root.is_dir() else []
        for entry in stale:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        return len(stale)


def _write_entry(entry: Path, pool: SyntheticPool) -> None:
    def fill(partial: Path) -> dict[str, Any]:
        frames = [rows.assign(**{TARGET_COLUMN: target.value}) for target, rows in pool.rows.items()]
        with atomic_write(partial / POOL_FILE, "wb") as handle:
            pd.concat(frames, ignore_index=True).to_parquet(handle, index=False)
        spec = pool.spec
        return {
            "key": pool.key,
            "task": spec.task,
            "sampler": spec.sampler,
            "data_access": spec.data_access,
            "seed": spec.seed,
            "demand": dict(spec.demand),
            "generator": pool.reports,
            "model": pool.model,
        }

    write_checksummed_entry(entry, POOL_FILE, MANIFEST_FILE, CACHE_VERSION, fill)


def _read_entry(entry: Path, key: str, spec: PoolSpec) -> SyntheticPool | None:
    """None when there is no entry or it cannot be used (removed, with a warning, by
    `read_checksummed_entry` or here): incomplete, corrupt, another cache version, or without
    the demanded rows."""
    manifest = read_checksummed_entry(entry, POOL_FILE, MANIFEST_FILE, CACHE_VERSION)
    if manifest is None:
        return None
    try:
        table = pd.read_parquet(entry / POOL_FILE)
        reports = {Target(target): report for target, report in manifest["generator"].items()}
        rows = {
            Target(target): part.drop(columns=TARGET_COLUMN).reset_index(drop=True)
            for target, part in table.groupby(TARGET_COLUMN, sort=False, observed=True)
        }
    except (OSError, ValueError, KeyError, AttributeError):
        discard_entry(entry, "is incomplete or corrupt")
        return None
    if {t: len(r) for t, r in rows.items()} != {t: n for t, n in spec.demand if n > 0}:
        discard_entry(entry, "does not hold the rows its key demands")
        return None
    for target, _ in spec.demand:
        rows.setdefault(target, table.drop(columns=TARGET_COLUMN).iloc[:0])
    return SyntheticPool(key, spec, rows, reports, manifest["model"])
