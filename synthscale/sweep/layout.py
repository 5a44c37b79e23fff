"""The out dir's contract: every file a sweep writes under --out, named in one place, and the
rules for a directory that starts, resumes or is read back as a sweep.

    config.resolved.yaml  the config that runs, written first: the sweep was started here
    results.csv           one row per fit, written last: the sweep finished
    pools.csv             each synthetic pool's diagnostics
    pools/                the synthetic-pool cache
    fits/<batch>.json     each finished batch's records (what --resume skips)
    mlflow.db             the default MLflow store, artifacts in mlartifacts/
    ray_results/          Ray Tune's experiment state
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from synthscale._io import check_writable_dir
from synthscale.config import SweepConfig, load_config
from synthscale.errors import SynthscaleError

RESULTS, CONFIG, POOLS_TABLE = "results.csv", "config.resolved.yaml", "pools.csv"
POOL_CACHE, FITS, ARTIFACTS = "pools", "fits", "mlartifacts"
TRACKING_DB, RAY_RESULTS = "mlflow.db", "ray_results"
ENTRIES = (RESULTS, CONFIG, POOLS_TABLE, POOL_CACHE, FITS, ARTIFACTS, TRACKING_DB, RAY_RESULTS)


@dataclass(frozen=True)
class OutDir:
    """A sweep's output directory and the path of everything in it."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def results(self) -> Path:
        return self.root / RESULTS

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def pools_table(self) -> Path:
        return self.root / POOLS_TABLE

    @property
    def pool_cache(self) -> Path:
        return self.root / POOL_CACHE

    @property
    def fits(self) -> Path:
        return self.root / FITS

    def fit_record(self, batch_id: str) -> Path:
        return self.fits / f"{batch_id}.json"

    @property
    def artifacts(self) -> Path:
        return self.root / ARTIFACTS

    @property
    def tracking_db(self) -> Path:
        return self.root / TRACKING_DB

    @property
    def default_tracking_uri(self) -> str:
        """The MLflow store a sweep keeps when no --tracking-uri is given (absolute: trial
        workers run elsewhere)."""
        return f"sqlite:///{self.tracking_db.resolve()}"

    @property
    def ray_results(self) -> Path:
        return self.root / RAY_RESULTS

    def was_started(self) -> bool:
        return self.config.is_file()

    def check_new(self, config: SweepConfig, overwrite: bool = False) -> None:
        """A plain `run` may start in a new or empty directory only: one holding a sweep is
        refused, naming --resume, another --out or --overwrite, before anything is written.
        The saved config's hash is the fingerprint that tells this sweep from another."""
        if not overwrite and self.results.exists():
            raise SynthscaleError(
                f"--out {self.root}: already holds a finished sweep ({RESULTS}); pass another --out, "
                "or --overwrite to replace it"
            )
        if not overwrite and self.was_started():
            if self.saved_fingerprint() == config.config_hash():
                raise SynthscaleError(
                    f"--out {self.root}: holds an unfinished run of this sweep; finish it with "
                    f"`synthscale run --resume {self.root}`, or pass --overwrite to start again"
                )
            raise SynthscaleError(
                f"--out {self.root}: holds an unfinished run of another sweep config ({CONFIG}); "
                f"`synthscale run --resume {self.root}` finishes that one; pass another --out, or "
                "--overwrite to discard it"
            )
        check_writable_dir(self.root, "--out")

    def saved_fingerprint(self) -> str | None:
        """The hash of the config saved here; None when there is none or it no longer loads."""
        try:
            return load_config(self.config).config_hash()
        except SynthscaleError:
            return None

    def clear(self) -> None:
        """--overwrite: remove every entry a sweep writes here (nothing else in the directory)."""
        for entry in self.entries():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def entries(self) -> list[Path]:
        """What a sweep wrote here: the layout's names and the sqlite store's side files."""
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir() if p.name in ENTRIES or p.name.startswith(f"{TRACKING_DB}-")]

    def remove_stale_partials(self) -> int:
        """Pool entries half written by a run that died (`<key>.partial-*`): only the driver
        writes them, so none is live when a run starts. Returns how many were removed."""
        stale = list(self.pool_cache.glob("*.partial-*")) if self.pool_cache.is_dir() else []
        for entry in stale:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        return len(stale)

    def check_resumable(self) -> None:
        """--resume needs the directory of a started, unfinished sweep."""
        if not self.was_started():
            raise SynthscaleError(
                f"--resume {self.root}: no {CONFIG} there, so no sweep was started in it; "
                "pass the --out directory of the interrupted run"
            )
        if self.results.exists():
            raise SynthscaleError(f"--resume {self.root}: the sweep already finished ({RESULTS} exists)")
