"""Content-addressed synthetic pools: built once per (data, split, task, sampler, data access,
seed, size).

A pool holds, per target, rows sampled once at the largest size any grid point reads; every
trial takes slices of it and never regenerates. Entries are built in a `.partial-<uuid>`
directory, renamed when complete, and verified against a checksummed manifest on read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthscale._io import atomic_write, file_sha256, hash_json, publish_directory
from synthscale.config import DATA_ACCESSES, GeneratorConfig
from synthscale.data.loaders import Dataset
from synthscale.diagnostics import diagnose, tstr_balanced_accuracy
from synthscale.samplers import make_sampler
from synthscale.samplers.base import check_target
from synthscale.splits import Split, Task, row_targets
from synthscale.targets import Target, labels_of

log = logging.getLogger(__name__)

POOL_FILE, MANIFEST_FILE, TARGET_COLUMN = "pool.parquet", "manifest.json", "_target"
POOL_KEY_CHARS = 32  # of the sha256 hex digest: short directory names, no realistic collisions


@dataclass(frozen=True)
class PoolSpec:
    """Which pool: the sampler for one dataset, task, data access and replicate, and rows
    needed per target."""

    dataset: str
    task: Task
    sampler: str
    seed: int
    data_access: str  # rows the sampler sees: seed or train
    demand: tuple[tuple[str, int], ...]  # (target, rows), sorted

    @property
    def slot(self) -> tuple[str, str, str, int, str]:
        """Where trials look the pool up: (dataset, task, sampler, seed, data access)."""
        return (self.dataset, self.task, self.sampler, self.seed, self.data_access)


def visible_rows(
    dataset: Dataset, split: Split, task: Task, data_access: str
) -> tuple[np.ndarray, np.ndarray]:
    """The rows a generator may see (seed set or all training rows) and their target keys."""
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


PoolReports = dict[str, dict[str, float]]  # target -> what the sampler reported (validity, ...)


def build_pool(
    spec: PoolSpec, dataset: Dataset, split: Split, generator: GeneratorConfig
) -> tuple[dict[str, pd.DataFrame], PoolReports]:
    """Fit the sampler on the rows it may see and sample every target once."""
    visible, targets = visible_rows(dataset, split, spec.task, spec.data_access)
    sampler = make_sampler(spec.sampler, generator)
    sampler.fit(dataset.features.iloc[visible], targets, dataset.schema)
    pools = {target: sampler.sample(n, target, spec.seed) for target, n in spec.demand}
    for target, rows in pools.items():
        _check_pool(spec, dataset, target, rows, dict(spec.demand)[target])
    return pools, {target: sampler.target_report(target) for target in pools}


def diagnose_pool(
    key: str,
    spec: PoolSpec,
    pools: dict[str, pd.DataFrame],
    dataset: Dataset,
    split: Split,
    reports: PoolReports | None = None,
) -> list[dict[str, object]]:
    """One row per target: the pool's rows against every real training row of that target,
    what the sampler reported while making them, and the pool's train-on-synthetic score."""
    train = split.train_index
    train_targets = row_targets(dataset, spec.task, train)
    tstr = pool_tstr(spec, pools, dataset, train, train_targets)
    rows = []
    for target, synthetic in pools.items():
        real = dataset.features.iloc[train[train_targets == target]]
        identity = {
            "pool": key,
            "dataset": spec.dataset,
            "task": spec.task,
            "sampler": spec.sampler,
            "data_access": spec.data_access,
            "seed": spec.seed,
        }
        metrics = diagnose(real, synthetic, dataset.schema, spec.seed) if len(synthetic) else {}
        generator_report = (reports or {}).get(target, {})
        rows.append(
            {**identity, "target": target, "n_rows": len(synthetic), **metrics, **generator_report, **tstr}
        )
    return rows


def pool_tstr(
    spec: PoolSpec,
    pools: dict[str, pd.DataFrame],
    dataset: Dataset,
    train: np.ndarray,
    train_targets: np.ndarray,
) -> dict[str, float]:
    """Balanced accuracy on the real training rows of a classifier fitted on the pool's classes."""
    filled = {target: rows for target, rows in pools.items() if len(rows)}
    if not filled:
        return {}
    synthetic = pd.concat(filled.values(), ignore_index=True)
    synthetic_y = np.concatenate([np.full(len(r), Target(t).label) for t, r in filled.items()])
    real_y = labels_of(train_targets)
    score = tstr_balanced_accuracy(
        synthetic, synthetic_y, dataset.features.iloc[train], real_y, dataset.schema, spec.seed
    )
    return {} if np.isnan(score) else {"tstr_balanced_accuracy": score}


def _check_pool(spec: PoolSpec, dataset: Dataset, target: str, rows: pd.DataFrame, n: int) -> None:
    """A sampler must return exactly n rows, and group rows must carry the group's attribute."""
    if len(rows) != n:
        raise RuntimeError(f"sampler {spec.sampler} returned {len(rows)} rows for {target}, expected {n}")
    target = Target(target)
    if target.is_group:
        schema = dataset.schema
        expected = target.attribute_value(schema)
        wrong = int((rows[schema.spurious].astype(str) != str(expected)).sum())
        if wrong:
            raise RuntimeError(
                f"sampler {spec.sampler}: {wrong} of {n} rows for group "
                f"{target.describe(schema)} have another {schema.spurious}"
            )


def load_or_build_pool(
    spec: PoolSpec,
    dataset: Dataset,
    split: Split,
    generator: GeneratorConfig,
    cache_dir: Path,
) -> tuple[str, dict[str, pd.DataFrame], PoolReports]:
    """Read a verified cache entry or build, write and return a fresh one."""
    key = pool_key(spec, dataset, split, generator)
    cached = read_cached_pool(cache_dir, key, spec)
    if cached is not None:
        return key, *cached
    pools, reports = build_pool(spec, dataset, split, generator)
    store_pool(cache_dir, key, spec, pools, reports)
    return key, pools, reports


def read_cached_pool(
    cache_dir: Path, key: str, spec: PoolSpec
) -> tuple[dict[str, pd.DataFrame], PoolReports] | None:
    """The verified entry, or None; a corrupt entry is removed with a warning."""
    entry = cache_dir / key
    if not entry.exists():
        return None
    cached = _read_entry(entry, spec)
    if cached is None:
        log.warning("pool cache entry %s is corrupt; regenerating it", entry)
        shutil.rmtree(entry)
    return cached


def store_pool(
    cache_dir: Path, key: str, spec: PoolSpec, pools: dict[str, pd.DataFrame], reports: PoolReports
) -> None:
    _write_entry(cache_dir / key, key, spec, pools, reports)


def _write_entry(
    entry: Path, key: str, spec: PoolSpec, pools: dict[str, pd.DataFrame], reports: PoolReports
) -> None:
    partial = entry.with_name(f"{entry.name}.partial-{uuid.uuid4().hex}")
    partial.mkdir(parents=True)
    frames = [rows.assign(**{TARGET_COLUMN: target}) for target, rows in pools.items()]
    with atomic_write(partial / POOL_FILE, "wb") as handle:
        pd.concat(frames, ignore_index=True).to_parquet(handle, index=False)
    manifest = {
        "key": key,
        "task": spec.task,
        "sampler": spec.sampler,
        "data_access": spec.data_access,
        "seed": spec.seed,
        "demand": dict(spec.demand),
        "sha256": file_sha256(partial / POOL_FILE),
        "generator": reports,
    }
    with atomic_write(partial / MANIFEST_FILE) as handle:
        json.dump(manifest, handle, indent=2)
    publish_directory(partial, entry)


def _read_entry(entry: Path, spec: PoolSpec) -> tuple[dict[str, pd.DataFrame], PoolReports] | None:
    """None when the entry fails its checksum or does not hold the demanded rows."""
    try:
        manifest = json.loads((entry / MANIFEST_FILE).read_text())
        if manifest["sha256"] != file_sha256(entry / POOL_FILE):
            return None
        table = pd.read_parquet(entry / POOL_FILE)
    except (OSError, ValueError, KeyError):
        return None
    pools = {
        target: rows.drop(columns=TARGET_COLUMN).reset_index(drop=True)
        for target, rows in table.groupby(TARGET_COLUMN, sort=False, observed=True)
    }
    if {t: len(r) for t, r in pools.items()} != {t: n for t, n in spec.demand if n > 0}:
        return None
    for target, _ in spec.demand:
        pools.setdefault(target, table.drop(columns=TARGET_COLUMN).iloc[:0])
    return pools, manifest.get("generator", {})
