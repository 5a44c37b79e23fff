"""What a synthetic row is worth in real rows: the paper's augment grid, priced on the oracle.

One sweep of the product per dataset (the paper's augment grid: s = 200, the base balanced,
N = 0, 2s, ..., 18s at weight 0.5; imbalance task; XGBoost, each classifier recalibrated on
s held-out real rows; raw, llm, smote, gaussian_copula and the oracle with its dose ladder;
generators seeing the seed set and, as a second axis, every training row), then
`synthscale.worth.worth_table` and the curve classes of `synthscale.fit`. Prints per dataset
and data access m_eff and the exchange rate with 95 % seed-bootstrap intervals at N = 2s, 6s
and 18s on balanced_ce_cal and AUC, each curve's ceiling, and each curve's class.

Resumable: each dataset's sweep lives in OUT/<dataset>; a finished one is read back, an
interrupted one is resumed (`run_sweep(..., resume=True)`), and trained generators are cached
under --models, so a killed bench costs only the batches it had not finished.

usage: python bench/worth.py [--seeds 0 1 2 3 4] [--datasets craft adult] [--adult PATH]
           [--out DIR] [--models DIR] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd
from common import add_replicate_arguments, dataset_overrides

from synthscale.config import load_config
from synthscale.fit import fit_results
from synthscale.sweep.layout import OutDir
from synthscale.sweep.runner import run_sweep
from synthscale.worth import worth_table

GRID = [
    "experiment.tasks=[imbalance]", "experiment.protocols=[augment]",
    "experiment.augment.n_aug=[0, 2, 4, 6, 8, 10, 12, 14, 16, 18]", "experiment.augment.reference=false",
    "methods=[raw, llm, smote, gaussian_copula, oracle]", "generator.data_access=[seed, train]",
    "downstream.classifiers=[xgboost]", "resources.fits_per_trial=40",
]  # fmt: skip
SHOWN_N = (2, 6, 18)
METHOD_ORDER = ["llm", "smote", "gaussian_copula", "oracle"]


def sweep_results(dataset: str, overrides: list[str], root: Path) -> tuple[pd.DataFrame, float]:
    """The dataset's sweep: read back when finished, resumed when interrupted, else run."""
    out = OutDir(root / dataset)
    started = time.perf_counter()
    if out.results.is_file():
        return pd.read_csv(out.results), 0.0
    config = load_config(None, [*overrides, f"name=worth_{dataset}"])
    result = run_sweep(config, out.root, show_progress=False, resume=out.was_started())
    return result.results, time.perf_counter() - started


def print_worth(dataset: str, results: pd.DataFrame, seconds: float) -> None:
    worth = worth_table(results)
    worth = worth[worth["n_aug_units"].isin(SHOWN_N)]
    print(f"\n{dataset} ({results['seed'].nunique()} seeds; sweep {seconds:.0f} s, 0: read back)")
    print(f"{'access':7s} {'method':16s} {'metric':16s} {'N':>4s} {'rows':>6s} {'exchange rate':>22s}  worth")
    for access in ("seed", "train", "none"):
        for method in METHOD_ORDER:
            rows = worth[(worth["method"] == method) & (worth["data_access"] == access)]
            for row in rows.sort_values(["metric", "n_aug_units"]).itertuples():
                rate = f"{row.exchange_rate:.3f} [{row.exchange_rate_low:.3f}, {row.exchange_rate_high:.3f}]"
                print(f"{access:7s} {method:16s} {row.metric:16s} {row.n_aug_units:>3g}s {row.rows_added:>6.0f} "
                      f"{rate:>22s}  {row.worth}")  # fmt: skip
            if len(rows):
                print(f"{'':7s} {method:16s} ceiling: {rows['worth_ceiling'].iloc[0]}")
    exponents = fit_results(results, "balanced_ce_cal")
    print("curve classes (balanced_ce_cal):")
    for row in exponents.itertuples():
        print(f"  {row.method}/{row.data_access}: {row.verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_replicate_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("bench_worth"), help="the sweeps (kept: resumable)")
    parser.add_argument("--models", type=Path, help="trained generators' cache (default: OUT/models)")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    models = args.models or args.out / "models"
    seeds = f"experiment.seeds=[{', '.join(map(str, args.seeds))}]"
    print(f"seeds {args.seeds}; {platform.machine()}, {platform.node()}; sweeps under {args.out}")
    for dataset in args.datasets:
        overrides = [*GRID, seeds, *dataset_overrides(dataset, args.adult), f"generator.llm.cache_dir={models}",
                     *args.overrides]  # fmt: skip
        results, seconds = sweep_results(dataset, overrides, args.out)
        print_worth(dataset, results, seconds)


if __name__ == "__main__":
    main()
