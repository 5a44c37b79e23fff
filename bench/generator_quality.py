"""Generator quality and time-to-quality: LLM variants beside SMOTE and the references,
side by side in one run (by default the fixed step budget against the early-stopped LLM).

Protocol (issues #16, #18): the ratio experiment at n_maj/n_min = 5 and 11 (k = 4, 10): the
balanced seed set (200 rows) plus k·s/2 real majority rows, balanced with synthetic minority
rows; the generator sees the seed set; XGBoost. Each LLM variant is its own sweep with a fresh
model cache, so every model is trained and timed. Prints, per dataset, method and k, the mean
(sd) over seeds of minority CE, balanced CE and AUC, the training seconds and steps per model,
each method's pool privacy (holdout DCR share, membership AUC) and, for the default pair,
the early-stopped run's training time as a share of the fixed budget's.

usage: python bench/generator_quality.py [--seeds 0 1 2] [--datasets craft adult]
           [--adult PATH] [--budget 1500] [--set key=value ...]
           [--variant "LABEL: key=value key=value" ...]   (replaces the default pair)
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import dataset_overrides

from synthscale.config import load_config
from synthscale.sweep.runner import run_sweep

REFERENCES = ["raw", "ros", "smote", "independent", "gaussian_copula"]
PROTOCOL = [
    "experiment.tasks=[imbalance]",
    "experiment.protocols=[ratio]",
    "experiment.ratio.ks=[4, 10]",
    "downstream.classifiers=[xgboost]",
    "generator.data_access=seed",
    "resources.fits_per_trial=40",
]
METRICS = ("minority_ce", "balanced_ce", "auc")
PRIVACY = ("holdout_dcr_share", "membership_auc")


def variants(budget: int) -> dict[str, list[str]]:
    """The LLM runs compared: the fixed budget (no held-out rows) and the early-stopped one."""
    return {
        f"llm fixed {budget}": [f"generator.llm.max_steps={budget}", "generator.llm.holdout_share=0"],
        f"llm early-stopped (max {budget})": [
            f"generator.llm.max_steps={budget}",
            "generator.llm.holdout_share=0.1",
        ],
    }


def parse_variant(text: str) -> tuple[str, list[str]]:
    """'LABEL: key=value key=value' -> (LABEL, overrides)."""
    label, _, overrides = text.partition(":")
    return label.strip(), overrides.split()


def run_one(name: str, overrides: list[str], root: Path) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    out = root / name.replace(" ", "_").replace("(", "").replace(")", "")
    config = load_config(
        None, [*overrides, f"name={out.name}", f"generator.llm.cache_dir={root / 'models' / out.name}"]
    )
    started = time.perf_counter()
    result = run_sweep(config, out, show_progress=False)
    pools = pd.read_csv(out / "pools.csv") if (out / "pools.csv").exists() else pd.DataFrame()
    return result.results, pools, time.perf_counter() - started


def summarise(results: pd.DataFrame, label: str) -> pd.DataFrame:
    rows = results.groupby(["method", "ratio"])[list(METRICS)].agg(["mean", "std"])
    rows.columns = [f"{m}_{s}" for m, s in rows.columns]
    return rows.reset_index().assign(run=label)


def privacy(pools: pd.DataFrame) -> pd.DataFrame:
    """Mean holdout DCR share and membership AUC of each sampler's pools (over targets and seeds)."""
    columns = [c for c in PRIVACY if c in pools]
    return pools.groupby("sampler")[columns].mean() if columns else pd.DataFrame()


def training(pools: pd.DataFrame) -> tuple[float, float]:
    """Mean seconds and steps per trained model (a model serves several pools: count it once)."""
    llm = pools[(pools["sampler"] == "llm") & (pools["model_reused"] == 0)].drop_duplicates("pool")
    return float(llm["training_seconds"].mean()), float(llm["training_steps"].mean())


def print_against_first(table: pd.DataFrame, times: dict[str, tuple[float, float, float]]) -> None:
    """Each LLM run against the first one (issue #16's bar): its training time as a share of
    the first's, and whether its minority CE and AUC stay within one seed-sd of the first's
    (a lower CE or a higher AUC always does)."""
    labels = list(times)
    for label in labels[1:]:
        share = times[label][0] / times[labels[0]][0]
        print(f"{label} / {labels[0]}: training time {share:.2f}")
        for ratio in sorted(table["ratio"].unique()):
            first = table[(table["run"] == labels[0]) & (table["ratio"] == ratio)].iloc[0]
            this = table[(table["run"] == label) & (table["ratio"] == ratio)].iloc[0]
            ce_ok = this["minority_ce_mean"] <= first["minority_ce_mean"] + first["minority_ce_std"]
            auc_ok = this["auc_mean"] >= first["auc_mean"] - first["auc_std"]
            print(
                f"  n_maj/n_min {ratio:.0f}: minority CE {this['minority_ce_mean']:.3f} vs "
                f"{first['minority_ce_mean']:.3f} (sd {first['minority_ce_std']:.3f}) "
                f"{'within' if ce_ok else 'OUTSIDE'}; AUC {this['auc_mean']:.3f} vs {first['auc_mean']:.3f} "
                f"(sd {first['auc_std']:.3f}) {'within' if auc_ok else 'OUTSIDE'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=["craft", "adult"])
    parser.add_argument("--adult", help="adult.csv (label income, attribute sex); default: OpenML")
    parser.add_argument("--budget", type=int, default=1500, help="the fixed step budget compared")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--variant", dest="variants", action="append", default=[], help="LABEL: overrides")
    args = parser.parse_args()
    runs = dict(map(parse_variant, args.variants)) if args.variants else variants(args.budget)
    root = Path(tempfile.mkdtemp(prefix="synthscale-quality-"))
    seeds = f"experiment.seeds=[{', '.join(map(str, args.seeds))}]"
    started = time.perf_counter()
    for dataset in args.datasets:
        common = [*PROTOCOL, seeds, *dataset_overrides(dataset, args.adult), *args.overrides]
        tables, times, privacies = [], {}, {}
        results, pools, seconds = run_one(f"{dataset} references", [*common, f"methods={REFERENCES}"], root)
        tables.append(summarise(results, "references"))
        privacies["references"] = privacy(pools)
        for label, extra in runs.items():
            results, pools, seconds = run_one(f"{dataset} {label}", [*common, "methods=[llm]", *extra], root)
            tables.append(summarise(results, label))
            times[label] = (*training(pools), seconds)
            privacies[label] = privacy(pools)
        table = pd.concat(tables, ignore_index=True)
        print(
            f"\n{dataset}: ratio protocol, seed set visible, XGBoost, seeds {args.seeds}; {platform.machine()}"
        )
        print(f"{'run':34s} {'method':16s} {'n_maj/n_min':>11s}" + "".join(f" {m:>16s}" for m in METRICS))
        for row in table.sort_values(["ratio", "run", "method"]).to_dict("records"):
            cells = "".join(f" {row[f'{m}_mean']:>8.3f} ({row[f'{m}_std']:.3f})" for m in METRICS)
            print(f"{row['run']:34s} {row['method']:16s} {row['ratio']:>11.0f}{cells}")
        for label, (train_s, steps, sweep_s) in times.items():
            print(
                f"{label:34s} training {train_s:6.1f} s per model, {steps:6.0f} steps; sweep {sweep_s:6.1f} s"
            )
        print("pool privacy (mean over targets and seeds; 0.5 = no nearer the seen rows than unseen ones)")
        for label, scores in privacies.items():
            for sampler, row in scores.iterrows():
                cells = "".join(f" {name} {row[name]:.3f}" for name in scores.columns)
                print(f"{label:34s} {sampler:16s}{cells}")
        if not args.variants:
            fixed, early = list(times.values())
            print(f"early-stopped / fixed training time: {early[0] / fixed[0]:.2f}")
        print_against_first(table, times)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
