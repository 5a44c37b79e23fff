"""The out dir's contract: every file a sweep writes under --out, named in one place, the
rules for a directory that starts, resumes or is read back as a sweep, and the records that
let it resume.

    config.resolved.yaml  the config that runs, written first: the sweep was started here
    results.csv           one row per fit, written last: the sweep finished
    pools.csv             each synthetic pool's diagnostics
    pools/                the synthetic-pool cache
    fits/<batch>.json     each finished batch's records (what --resume skips)
    mlflow.db             the default MLflow store, artifacts in mlartifacts/
    ray_results/          Ray Tune's experiment state
    synthscale.log        everything logged while it ran, library warnings included
    .synthscale.lock      held while a sweep runs here: its pid, host and start (one at a time)

Resume: the driver writes every trial's records to `fits/<batch_id>.json` (atomically) as soon
as the trial reports. After a crash, `synthscale run --resume <out>` reads those files, runs
only the batches without one, and attaches to the sweep's unfinished MLflow parent run. A
batch that logged its child runs but whose file was never written runs again; its worker
finds the finished child runs by grid key and logs none twice, so MLflow stays exact.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from synthscale._io import atomic_write, check_writable_dir
from synthscale.config import SweepConfig, load_config
from synthscale.errors import SynthscaleError

log = logging.getLogger(__name__)

RESULTS, CONFIG, POOLS_TABLE = "results.csv", "config.resolved.yaml", "pools.csv"
POOL_CACHE, FITS, ARTIFACTS = "pools", "fits", "mlartifacts"
TRACKING_DB, RAY_RESULTS, LOG = "mlflow.db", "ray_results", "synthscale.log"
ENTRIES = (RESULTS, CONFIG, POOLS_TABLE, POOL_CACHE, FITS, ARTIFACTS, TRACKING_DB, RAY_RESULTS, LOG)
# what a sweep writes before its config, and the pool cache (content-addressed: a dead run's
# entries are reused or cleaned, never misread): a directory holding other entries of the
# layout's names and no config holds someone else's files, which --overwrite must not delete
BEFORE_CONFIG = (ARTIFACTS, TRACKING_DB, LOG, POOL_CACHE)
LOCK = ".synthscale.lock"
REPORT, FIT_TABLES = "report", "fit"  # what `synthscale report` and `synthscale fit` write beside the results
UNKNOWN_HOLDER = {"pid": "?", "host": "?", "started": "?"}  # a lock file being written, or damaged


@dataclass(frozen=True)
class OutDir:
    """A sweep's output directory and the path of everything in it."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @classmethod
    def of_results(cls, results: str | Path) -> OutDir:
        """The directory a results.csv sits in: `fit` and `report` read and write beside it."""
        return cls(Path(results).parent)

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

    @property
    def log(self) -> Path:
        return self.root / LOG

    @property
    def report(self) -> Path:
        return self.root / REPORT

    @property
    def fit_tables(self) -> Path:
        return self.root / FIT_TABLES

    @contextlib.contextmanager
    def logging(self) -> Iterator[None]:
        """Everything logged meanwhile, at INFO and up and from every library (Python warnings
        included), appended to the log here; the terminal keeps only what the user can act on
        (cli.py)."""
        handler = logging.FileHandler(self.log, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(min(level, logging.INFO))
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
            handler.close()

    def was_started(self) -> bool:
        return self.config.is_file()

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    def check_not_running(self) -> None:
        """Refuse a directory a live sweep holds; a lock its crashed owner left is removed."""
        holder = self._lock_holder()
        if holder is None:
            return
        if _is_stale(holder):
            log.warning(
                "removed the lock of a sweep that is no longer running (pid %s on %s, started %s)",
                holder.get("pid"), holder.get("host"), holder.get("started"),
            )  # fmt: skip
            self.lock.unlink(missing_ok=True)
            return
        raise SynthscaleError(
            f"--out {self.root}: another sweep is running there (pid {holder.get('pid')} on "
            f"{holder.get('host')}, started {holder.get('started')}); wait for it, or pass another "
            f"--out (if no sweep runs, remove {self.lock})"
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory for the whole sweep: a second `run` or `--resume` into it is refused."""
        self.root.mkdir(parents=True, exist_ok=True)
        for _ in range(2):  # a stale lock is removed once, then taken
            try:
                descriptor = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                self.check_not_running()
        else:
            self.check_not_running()
            raise SynthscaleError(f"--out {self.root}: could not take {self.lock}; pass another --out")
        with os.fdopen(descriptor, "w") as handle:
            json.dump(_this_process(), handle)
        try:
            yield
        finally:
            self.lock.unlink(missing_ok=True)

    def _lock_holder(self) -> dict[str, Any] | None:
        if not self.lock.is_file():
            return None
        try:
            holder = json.loads(self.lock.read_text(encoding="utf-8"))
        except FileNotFoundError:  # released this instant
            return None
        except (OSError, ValueError):  # being written this instant, or damaged: someone holds it
            return dict(UNKNOWN_HOLDER)
        return holder if isinstance(holder, dict) else dict(UNKNOWN_HOLDER)

    def check_new(self, config: SweepConfig, overwrite: bool = False) -> None:
        """A plain `run` may start in a new or empty directory only: one holding a sweep is
        refused, naming --resume, another --out or --overwrite, before anything is written.
        The saved config's hash is the fingerprint that tells this sweep from another."""
        self.check_not_running()
        if not overwrite and self.results.exists():
            raise SynthscaleError(
                f"--out {self.root}: already holds a finished sweep ({RESULTS}); pass another --out, "
                "or --overwrite to replace it"
            )
        foreign = self.foreign_entries()
        if foreign:
            raise SynthscaleError(
                f"--out {self.root}: holds {', '.join(sorted(p.name for p in foreign))} but no {CONFIG}, "
                "so no sweep wrote them (--overwrite removes only a sweep's files); pass another --out, "
                "or move them away"
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
        """The hash of the config saved here; None when there is none or it does not load."""
        try:
            return load_config(self.config).config_hash()
        except SynthscaleError:
            return None

    def clear(self) -> None:
        """--overwrite: remove every entry a sweep writes here (nothing else in the directory;
        without a saved config, no pool cache: a folder of that name may be the user's)."""
        for entry in self.entries():
            if entry.name == POOL_CACHE and not self.was_started():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def foreign_entries(self) -> list[Path]:
        """Entries with the layout's names that no sweep wrote: those a sweep writes after its
        config, in a directory without one."""
        if self.was_started():
            return []
        return [
            p for p in self.entries() if p.name not in BEFORE_CONFIG and not p.name.startswith(TRACKING_DB)
        ]

    def entries(self) -> list[Path]:
        """What a sweep wrote here: the layout's names and the sqlite store's side files."""
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir() if p.name in ENTRIES or p.name.startswith(f"{TRACKING_DB}-")]

    def write_fit_records(self, batch_id: str, records: list[dict[str, Any]]) -> None:
        """One finished batch's records, for --resume to skip it."""
        with atomic_write(self.fit_record(batch_id)) as handle:
            json.dump(records, handle)

    def finished_batches(self, batch_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Records of every batch of this sweep that finished before; unreadable files run again."""
        finished = {}
        for batch_id in batch_ids:
            path = self.fit_record(batch_id)
            if not path.is_file():
                continue
            try:
                finished[batch_id] = json.loads(path.read_text())
            except (OSError, ValueError):
                log.warning("fits file %s is unreadable; its batch runs again", path)
        return finished

    def check_resumable(self) -> None:
        """--resume needs the directory of a started, unfinished sweep."""
        self.check_not_running()
        if not self.was_started():
            raise SynthscaleError(
                f"--resume {self.root}: no {CONFIG} there, so no sweep was started in it; "
                "pass the --out directory of the interrupted run"
            )
        if self.results.exists():
            raise SynthscaleError(f"--resume {self.root}: the sweep already finished ({RESULTS} exists)")
        if not self._saved_with_calibration_rows():
            raise SynthscaleError(
                f"--resume {self.root}: this sweep was started by a synthscale without calibration "
                f"rows ({CONFIG} has no split.calibration_size); its remaining fits would use another "
                "split than its finished ones. Finish it with the version that started it, or start "
                "again with --overwrite"
            )

    def _saved_with_calibration_rows(self) -> bool:
        """A saved config lists every key of the version that wrote it."""
        saved = yaml.safe_load(self.config.read_text(encoding="utf-8")) or {}
        return isinstance(saved, dict) and "calibration_size" in (saved.get("split") or {})


def _this_process() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime()),
    }


def _is_stale(holder: dict[str, Any]) -> bool:
    """A lock of this machine whose process is gone (a crash, a kill -9). Another machine's
    lock (a shared file system) cannot be checked from here and counts as held."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
