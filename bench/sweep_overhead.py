"""Ray Tune + MLflow sweep vs the same fits in a plain serial loop, side by side.

Both paths run the same grid from the same config in this process, after a warm-up that
starts Ray and imports everything once. Each repeat writes to a fresh directory, so every
Ray run pays the whole price of a fresh sweep (new MLflow store, pools, trial actors).
Three timings per repeat:
  ray     run_sweep: pools, Ray Tune trials, one MLflow child run per fit, results.csv
  serial  the same plan, pools and fits in a for loop, results.csv, no Ray, no MLflow
  serial+mlflow  the serial loop plus the same MLflow logging (like for like)
Prints the medians and the ratios ray/serial (target <= 0.75 on 2 cores) and ray/serial+mlflow.
The methods are the quickstart's classic and reference samplers (pass --set methods=[...] to
change them): this measures the cost of running fits as a sweep, not of training an LLM.

usage: python bench/sweep_overhead.py [sweeps/quickstart.yaml] [--repeats 3] [--set k=v ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import ray
from common import CLASSIC_METHODS

from synthscale._io import write_csv_atomic
from synthscale.config import load_config
from synthscale.sweep.build import build_pools
from synthscale.sweep.layout import OutDir
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.results import diagnostics_table, results_table
from synthscale.sweep.runner import run_sweep
from synthscale.sweep.tracking import SweepTracker
from synthscale.sweep.trials import SweepInputs, run_trial


def serial_sweep(config, out_dir: Path, with_mlflow: bool) -> int:
    plan = plan_sweep(config)
    out_dir.mkdir(parents=True)
    tracker = None
    if with_mlflow:
        tracker = SweepTracker(OutDir(out_dir).default_tracking_uri, config.tracking.experiment)
        tracker.start_parent(config.name, {}, [])
    inputs = SweepInputs.of(plan, build_pools(plan, OutDir(out_dir).pool_cache))
    records, diagnostics = [], []
    for trial_id in inputs.trial_ids:  # each trial's work, as a Tune trial would do it
        outcome = run_trial(trial_id, inputs)
        if tracker is not None and "records" in outcome:
            tracker.log_fits(trial_id, outcome["records"])
        records += outcome.get("records", [])
        diagnostics += outcome.get("diagnostics", [])
    table = results_table(records, plan.grid, diagnostics_table(diagnostics))
    write_csv_atomic(table, OutDir(out_dir).results)
    if tracker is not None:
        tracker.finish_parent("FINISHED", [])
    return len(records)


def timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sweep", nargs="?", default="sweeps/quickstart.yaml")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    args.overrides = [CLASSIC_METHODS, *args.overrides]  # fits overhead, not LLM training
    config = load_config(args.sweep, args.overrides)
    n_cpus = os.cpu_count() or 1
    ray.init(num_cpus=n_cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    root = Path(tempfile.mkdtemp(prefix="synthscale-bench-"))
    warm = load_config(args.sweep, [*args.overrides, "experiment.seeds=[0]", "experiment.tasks=[imbalance]"])
    run_sweep(warm, root / "warmup", show_progress=False)
    serial_sweep(warm, root / "warmup-serial", with_mlflow=False)

    times: dict[str, list[float]] = {"ray": [], "serial": [], "serial+mlflow": []}
    n_fits = len(plan_sweep(config).grid)
    for repeat in range(args.repeats):
        times["ray"].append(timed(run_sweep, config, root / f"ray{repeat}", show_progress=False))
        times["serial"].append(timed(serial_sweep, config, root / f"serial{repeat}", False))
        times["serial+mlflow"].append(timed(serial_sweep, config, root / f"mlflow{repeat}", True))
        print(f"repeat {repeat}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nmachine: {platform.processor() or platform.machine()}, {n_cpus} CPUs, ray {ray.__version__}")
    print(f"grid: {args.sweep}, {n_fits} fits, {args.repeats} repeats (medians)")
    for name, seconds in median.items():
        print(f"  {name:14s} {seconds:6.1f} s   {seconds / n_fits * 1000:6.1f} ms/fit")
    print(f"ratio ray / serial          = {median['ray'] / median['serial']:.2f}  (target <= 0.75)")
    print(f"ratio ray / serial+mlflow   = {median['ray'] / median['serial+mlflow']:.2f}")
    ray.shutdown()


if __name__ == "__main__":
    main()
