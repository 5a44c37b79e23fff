"""The paper's sweeps end to end on one GPU, timed, with the GPU's use sampled.

For each sweep (paper_ratio, paper_augment: craft, and adult and gender from a path) and each
GPU share per pool build (`resources.generator_gpus`: auto, the default, four tiny-model
builds per GPU; 1, one pool per GPU) it runs `synthscale run` in a child process with a fresh
out dir and model cache, so that every pool trains, while a thread samples the GPU's
utilisation and memory (nvidia-smi every half second; none on a machine without it). Printed
per run: wall time, pools built, mean and peak GPU utilisation, peak memory; per pool (from
pools.csv): training steps/s, sampling rows/s and the sampling batch size; and the ratio of
each sweep's wall time at 1 GPU per pool to the default's, both run here, one after the other.

Without --adult/--gender only craft runs (the machine may have no network for OpenML). Extra
`--set KEY=VALUE` pairs go to every run, e.g. `--set 'experiment.seeds=[0]'` for a slice.
`--peers` adds ctgan, tvae and great to the methods (they need the peers' packages).

Run: python bench/gpu_sweep.py [--sweeps paper_ratio paper_augment] [--gpus auto 1]
     [--adult adult.csv] [--gender gender.csv] [--peers] [--set K=V ...] [--out DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
from common import TABLE_COLUMNS

PEERS = ["ctgan", "tvae", "great"]
SAMPLE_EVERY_S = 0.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sweeps", nargs="+", default=["paper_ratio", "paper_augment"])
    parser.add_argument("--gpus", nargs="+", default=["auto", "1"], help="resources.generator_gpus per run")
    parser.add_argument("--adult", help="adult.csv (label income, attribute sex)")
    parser.add_argument("--gender", help="gender.csv (label gender, attribute long_hair)")
    parser.add_argument("--peers", action="store_true", help="also run ctgan, tvae and great")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", help="keep the runs here (default: a temporary folder, removed)")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


def datasets_override(adult: str | None, gender: str | None) -> str:
    """The sweeps' `datasets` list: craft, and the tables given by path."""
    tables = ["{name: craft}"]
    for name, path in (("adult", adult), ("gender", gender)):
        if path:
            label, attribute = TABLE_COLUMNS[name]
            tables.append(f"{{name: null, path: '{path}', label: {label}, spurious: {attribute}}}")
    return f"datasets=[{', '.join(tables)}]"


def methods_override(sweep: str, peers: bool) -> list[str]:
    """The sweep's own methods, plus the peers when asked."""
    if not peers:
        return []
    from synthscale.config import load_config

    methods = list(load_config(sweep).methods)
    return [f"methods=[{', '.join(methods + [p for p in PEERS if p not in methods])}]"]


class GpuSampler(threading.Thread):
    """Samples `nvidia-smi`'s utilisation (%) and memory used (MiB) of every GPU until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.available = shutil.which("nvidia-smi") is not None
        self._finished = threading.Event()

    def run(self) -> None:
        query = ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"]
        while self.available and not self._finished.wait(SAMPLE_EVERY_S):
            try:
                lines = subprocess.run(query, capture_output=True, text=True, timeout=5).stdout.splitlines()
            except (OSError, subprocess.TimeoutExpired):
                continue
            for line in lines:
                util, memory = (float(v) for v in line.split(","))
                self.samples.append((util, memory))

    def stop(self) -> dict[str, float | None]:
        self._finished.set()
        self.join()
        if not self.samples:
            return {"gpu_util_mean": None, "gpu_util_peak": None, "gpu_memory_peak_mib": None}
        utils = [u for u, _ in self.samples]
        return {
            "gpu_util_mean": statistics.fmean(utils),
            "gpu_util_peak": max(utils),
            "gpu_memory_peak_mib": max(m for _, m in self.samples),
        }


def run_sweep(sweep: str, gpus: str, root: Path, overrides: list[str]) -> dict:
    """One `synthscale run` with its own out dir and model cache, timed and sampled."""
    out, models = root / f"{sweep}-gpus{gpus}", root / f"models-{sweep}-gpus{gpus}"
    command = [sys.executable, "-m", "synthscale", "run", sweep, "--out", str(out), "--no-progress"]
    for override in [f"resources.generator_gpus={gpus}", f"generator.llm.cache_dir={models}", *overrides]:
        command += ["--set", override]
    sampler = GpuSampler()
    sampler.start()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    use = sampler.stop()
    if done.returncode:
        raise SystemExit(f"{sweep} (generator_gpus={gpus}) failed:\n{done.stderr[-4000:]}")
    pools = per_pool(out / "pools.csv")
    print(f"  {sweep}, generator_gpus={gpus}: {wall:.0f} s, {len(pools)} trained pools", flush=True)
    return {"sweep": sweep, "generator_gpus": gpus, "wall_s": wall, **use, "pools": pools}


def per_pool(pools_csv: Path) -> list[dict]:
    """Each trained generator's pool: its training steps/s and its sampling rows/s and batch."""
    if not pools_csv.is_file():  # generator.diagnostics=false writes none
        print(f"  no {pools_csv.name}: per-pool figures need generator.diagnostics=true", flush=True)
        return []
    table = pd.read_csv(pools_csv)
    if "training_seconds" not in table:
        return []
    table = table[table["training_seconds"].notna()]
    keys = [c for c in ("dataset", "sampler", "task", "seed", "data_access", "pool") if c in table]
    rows = []
    for key, group in table.groupby(keys, dropna=False):
        first = group.iloc[0]
        steps = first.get("training_steps", float("nan"))
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "steps_per_s": steps / first["training_seconds"],  # NaN for a sampler without steps
                "reused": bool(first.get("model_reused", 0)),
                "rows_per_s": float(group["sampling_rows_per_s"].median()),
                "rows_per_batch": first.get("rows_per_batch", float("nan")),
            }
        )
    return rows


def print_table(runs: list[dict]) -> None:
    print(
        "\n| sweep | generator_gpus | wall s | trained pools | GPU util mean / peak % | GPU memory peak MiB |"
    )
    print("|---|---|---|---|---|---|")
    for run in runs:
        util = (
            f"{run['gpu_util_mean']:.0f} / {run['gpu_util_peak']:.0f}"
            if run["gpu_util_mean"] is not None
            else "n/a"
        )
        memory = f"{run['gpu_memory_peak_mib']:.0f}" if run["gpu_memory_peak_mib"] is not None else "n/a"
        print(
            f"| {run['sweep']} | {run['generator_gpus']} | {run['wall_s']:.0f} | {len(run['pools'])} | {util} | {memory} |"
        )
    print("\nPer pool (medians over a run's trained pools that trained, not reused):")
    print("| sweep | generator_gpus | sampler | training steps/s | sampling rows/s | rows per batch |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        frame = pd.DataFrame(run["pools"])
        if frame.empty:
            continue
        for sampler, group in frame.groupby("sampler"):
            steps = group.loc[~group["reused"], "steps_per_s"].median()
            batch = group["rows_per_batch"].median()  # NaN for a sampler without batches
            print(
                f"| {run['sweep']} | {run['generator_gpus']} | {sampler} | "
                f"{steps:.1f} | {group['rows_per_s'].median():.0f} | {batch:.0f} |"
            )
    print("\nWall time, one pool per GPU against the default (same sweep, this run):")
    by = {(r["sweep"], r["generator_gpus"]): r["wall_s"] for r in runs}
    for sweep in dict.fromkeys(r["sweep"] for r in runs):
        if (sweep, "auto") in by and (sweep, "1") in by:
            print(f"  {sweep}: {by[(sweep, '1')] / by[(sweep, 'auto')]:.2f}x the default's time")


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="synthscale-gpu-sweep-"))
    root.mkdir(parents=True, exist_ok=True)
    shared = [datasets_override(args.adult, args.gender), *args.overrides]
    runs = []
    try:
        for sweep in args.sweeps:
            overrides = [*shared, *methods_override(sweep, args.peers)]
            runs.extend(run_sweep(sweep, gpus, root, overrides) for gpus in args.gpus)
    finally:
        if not args.out:
            shutil.rmtree(root, ignore_errors=True)
    print_table(runs)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2, default=str))
    return runs


if __name__ == "__main__":
    main()
