"""Reference samplers beside the real methods, on craft's ratio protocol with 1,000 majority rows.

Protocol (issue #7): a balanced 200-row seed set plus 1,000 real majority rows (k = 10,
n_maj/n_min = 11), balanced with 1,000 synthetic minority rows; XGBoost; 5 seeds. Prints, per
method, the mean (sd) over seeds of minority CE, balanced CE and AUC, and the pool's detection
AUC (how easily a classifier tells its minority rows from real ones).

usage: python bench/references.py [--set key=value ...]   (e.g. another dataset)
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd

from synthscale.config import load_config
from synthscale.samplers import sampler_names
from synthscale.sweep.build import build_pools
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.trials import SweepInputs, run_trial

METHODS = ["raw", "ros", "smote", "adasyn", "independent", "independent_unconditional", "gaussian_copula"]
PROTOCOL = [
    "name=references",
    "experiment.tasks=[imbalance]",
    "experiment.protocols=[ratio]",
    "experiment.ratio.ks=[10]",
    "experiment.seeds=[0, 1, 2, 3, 4]",
    "downstream.classifiers=[xgboost]",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    methods = METHODS + (["llm"] if "llm" in sampler_names() else [])
    config = load_config(None, [*PROTOCOL, f"methods={methods}", *args.overrides])
    started = time.perf_counter()
    plan = plan_sweep(config)
    pools = build_pools(plan, Path(tempfile.mkdtemp(prefix="synthscale-refs-")), show_progress=True)
    inputs = SweepInputs.of(plan, pools)
    outcomes = [run_trial(trial_id, inputs) for trial_id in inputs.trial_ids]  # as Tune's trials would
    results = pd.DataFrame([r for outcome in outcomes for r in outcome.get("records", [])])
    diagnostics = pd.DataFrame([r for outcome in outcomes for r in outcome.get("diagnostics", [])])
    minority_detection = (
        diagnostics[diagnostics["target"] == "y1"].groupby("sampler")["detection_auc"].mean()
        if not diagnostics.empty
        else pd.Series(dtype=float)
    )
    print(
        f"\n{', '.join(plan.datasets)}, ratio k=10 (n_maj/n_min = {results['ratio'].iloc[0]:.0f}), XGBoost, "
        f"{len(config.experiment.seeds)} seeds; {platform.machine()}, {time.perf_counter() - started:.0f} s"
    )
    print(f"{'method':28s} {'minority CE':>14s} {'balanced CE':>14s} {'AUC':>14s} {'detection AUC':>14s}")
    for method in methods:
        rows = results[results["method"] == method]
        cells = [f"{rows[m].mean():.3f} ({rows[m].std():.3f})" for m in ("minority_ce", "balanced_ce", "auc")]
        detection = minority_detection.get(method)
        print(
            f"{method:28s} {cells[0]:>14s} {cells[1]:>14s} {cells[2]:>14s} "
            f"{'' if detection is None else f'{detection:.3f}':>14s}"
        )


if __name__ == "__main__":
    main()
