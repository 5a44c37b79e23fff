"""Information, not confidence: every method as fitted and recalibrated, beside the oracle.

Two settings per dataset, each one sweep of the product (5 seeds, XGBoost, imbalance task):
- ratio at n_maj/n_min = 11 (k = 10): the balanced seed set (s = 200) plus k*s/2 real
  majority rows, balanced with minority rows; the generators see the seed set only;
- augment at its largest N (18s by default): the base (seed set + 4s majority rows) balanced,
  then N rows half per class at weight 0.5; the generators see every training row.
Methods: raw, smote, gaussian_copula, llm (its defaults) and the oracle (real unseen rows in
the method's place). Every classifier is recalibrated (downstream.calibration, sigmoid on s
held-out real rows). Prints per dataset and setting the seed mean (sd) of balanced and
minority CE as fitted and recalibrated, AUC, the oracle gain share on calibrated balanced CE
and AUC, each pool's holdout DCR share, and the generators' training seconds.

usage: python bench/information.py [--seeds 0 1 2 3 4] [--datasets craft adult] [--adult PATH]
           [--largest-n 18] [--set key=value ...] [--out DIR] [--models DIR] [--only ratio|augment]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import add_replicate_arguments, dataset_overrides

from synthscale.config import load_config
from synthscale.gains import oracle_gain_shares
from synthscale.sweep.runner import run_sweep

METHODS = "methods=[raw, smote, gaussian_copula, llm, oracle]"
COMMON = ["experiment.tasks=[imbalance]", "downstream.classifiers=[xgboost]", "resources.fits_per_trial=40"]
METRICS = ("balanced_ce", "balanced_ce_cal", "minority_ce", "minority_ce_cal", "auc")
SHARES = ("balanced_ce_cal_oracle_share", "auc_oracle_share")


def settings(largest_n: int) -> dict[str, list[str]]:
    return {
        "ratio k=10, seed set seen": [
            "experiment.protocols=[ratio]", "experiment.ratio.ks=[10]", "generator.data_access=seed",
        ],
        f"augment N={largest_n}s, every training row seen": [
            "experiment.protocols=[augment]", f"experiment.augment.n_aug=[0, {largest_n}]",
            "experiment.augment.reference=false", "generator.data_access=train",
        ],
    }  # fmt: skip


def run_setting(
    label: str, overrides: list[str], root: Path, models: Path
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    out = root / label.replace(" ", "_").replace(",", "").replace("=", "")
    config = load_config(None, [*overrides, f"name={out.name}", f"generator.llm.cache_dir={models}"])
    started = time.perf_counter()
    result = run_sweep(config, out, show_progress=False)
    pools = pd.read_csv(out / "pools.csv") if (out / "pools.csv").exists() else pd.DataFrame()
    return result.results, pools, time.perf_counter() - started


def at_largest_point(results: pd.DataFrame) -> pd.DataFrame:
    """The ratio's one k, or the augment grid's largest N (raw's one point kept)."""
    if (results["experiment"] == "ratio").all():
        return results
    largest = results["n_aug_units"].max()
    return results[(results["n_aug_units"] == largest) | (results["method"] == "raw")]


def summary(results: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    rows = at_largest_point(results)
    means = rows.groupby("method")[list(METRICS)].agg(["mean", "std"])
    means.columns = [f"{m}_{s}" for m, s in means.columns]
    shares = oracle_gain_shares(rows)
    if len(shares):
        means = means.join(shares.groupby("method")[list(SHARES)].mean())
    if len(pools):
        means = means.join(pools.groupby("sampler")["holdout_dcr_share"].mean())
        trained = (
            pools[pools["model_reused"] == 0] if "model_reused" in pools else pools
        )  # count a model once
        if "training_seconds" in trained:
            means = means.join(trained.groupby("sampler")["training_seconds"].mean())
    order = ["raw", "smote", "gaussian_copula", "llm", "oracle"]
    return means.reindex([m for m in order if m in means.index] + [m for m in means.index if m not in order])


def print_table(title: str, table: pd.DataFrame) -> None:
    print(f"\n{title}")
    header = "".join(f" {m:>17s}" for m in METRICS) + "".join(f" {s[:14]:>14s}" for s in SHARES)
    print(f"{'method':16s}{header} {'holdout_dcr':>11s} {'train_s':>8s}")
    for method, row in table.iterrows():
        cells = "".join(f" {row[f'{m}_mean']:>8.3f} ({row[f'{m}_std']:.3f})" for m in METRICS)
        cells += "".join(f" {row.get(s, float('nan')):>14.2f}" for s in SHARES)
        cells += f" {row.get('holdout_dcr_share', float('nan')):>11.3f} {row.get('training_seconds', float('nan')):>8.1f}"
        print(f"{method:16s}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_replicate_arguments(parser)
    parser.add_argument("--largest-n", type=int, default=18, help="the augment setting's N, in units of s")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", type=Path, help="keep the sweeps here (default: a temporary folder)")
    parser.add_argument(
        "--models", type=Path, help="trained generators' cache, e.g. an earlier run's (default: OUT/models)"
    )
    parser.add_argument("--only", choices=["ratio", "augment"], help="run one of the two settings")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="synthscale-information-"))
    models = args.models or root / "models"
    seeds = f"experiment.seeds=[{', '.join(map(str, args.seeds))}]"
    started = time.perf_counter()
    print(f"seeds {args.seeds}; {platform.machine()}, {platform.node()}; sweeps under {root}")
    for dataset in args.datasets:
        for label, extra in settings(args.largest_n).items():
            if args.only and not label.startswith(args.only):
                continue
            overrides = [
                *COMMON,
                METHODS,
                seeds,
                *dataset_overrides(dataset, args.adult),
                *extra,
                *args.overrides,
            ]
            results, pools, seconds = run_setting(f"{dataset} {label}", overrides, root, models)
            print_table(f"{dataset}: {label} ({seconds:.0f} s)", summary(results, pools))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
