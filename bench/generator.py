"""synthscale's LLM generator against GReaT (be_great), side by side, as sweeps run them.

Both are the registry's samplers (`llm` and `great`) at their defaults, the same tiny GPT-2 size
(llm.tiny_*), trained for the same number of optimizer steps of the same batch on the same craft
seed set, then asked for minority-class rows: the LLM with its schema-constrained decoding,
GReaT from its own start prompt with its free-text rows parsed and the unreadable ones dropped.
Printed per generator: training seconds, sampling seconds, valid rows/s, validity (valid rows /
rows generated) and the downstream minority cross-entropy of XGBoost at n_maj/n_min = 5 after
oversampling with its rows (the paper's ratio experiment, k = 4). Reference rows: SMOTE and
`independent` (columns drawn independently), and no oversampling.

Needs the `peers` extra (be-great); without it only synthscale's figures are printed.
Run: python bench/generator.py [--steps 600] [--rows 400] [--batch 32]
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import tempfile
import time

import pandas as pd
import torch

from synthscale.config import (
    DownstreamConfig,
    ExperimentConfig,
    GeneratorConfig,
    LLMConfig,
    PeersConfig,
    SplitConfig,
)
from synthscale.data import make_craft, prepare_dataset
from synthscale.experiments import Point, evaluate_point
from synthscale.samplers import make_sampler
from synthscale.splits import make_split, row_targets

K = 4  # n_maj/n_min = 1 + k = 5


def minority_ce(dataset, split, rows: dict[str, pd.DataFrame], method: str) -> float:
    point = Point("imbalance", "ratio", method, k=K)
    result = evaluate_point(
        dataset,
        split,
        point,
        rows,
        SplitConfig().seed_size,
        ExperimentConfig(),
        DownstreamConfig(),
        ["xgboost"],
        fit_seed=0,
    )
    return result[0]["minority_ce"]


def run_sampler(name, config, seed_rows, seed_targets, schema, n_rows) -> dict:
    sampler = make_sampler(name, config)
    started = time.perf_counter()
    sampler.fit(seed_rows, seed_targets, schema)
    trained = time.perf_counter() - started
    started = time.perf_counter()
    rows = sampler.sample(n_rows, "y1", generator_seed=0)
    sampled = time.perf_counter() - started
    report = sampler.target_report("y1")
    validity = report.get("acceptance", report.get("validity", 1.0))
    return {"rows": rows, "train_s": trained, "sample_s": sampled, "validity": validity}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=600, help="optimizer steps for both generators")
    parser.add_argument("--rows", type=int, default=400, help="minority rows to sample (k=4 needs 400)")
    parser.add_argument("--batch", type=int, default=32, help="rows per training step, both generators")
    args = parser.parse_args()
    dataset = prepare_dataset(make_craft(), label="Target", spurious="X6", minority=1, spurious_positive=1)
    split = make_split(dataset, SplitConfig(), split_seed=0)
    seed_rows = dataset.features.iloc[split.balanced_index].reset_index(drop=True)
    seed_targets = row_targets(dataset, "imbalance", split.balanced_index)
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; "
        f"craft seed set {len(seed_rows)} rows; {args.steps} steps of {args.batch} rows"
    )
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        llm = LLMConfig(max_steps=args.steps, batch_size=args.batch, cache_dir=cache)
        peers = PeersConfig(great_steps=args.steps, great_batch_size=args.batch)
        config = GeneratorConfig(llm=llm, peers=peers)
        generators = ["llm", "great"] if importlib.util.find_spec("be_great") else ["llm"]
        if len(generators) == 1:
            print("be_great is not installed (pip install 'synthscale[peers]'): its row is skipped")
        for name in [*generators, "smote", "independent"]:
            results[name] = run_sampler(name, config, seed_rows, seed_targets, dataset.schema, args.rows)
    print(
        f"\n{'generator':<12} {'train s':>8} {'sample s':>9} {'valid rows/s':>13} {'validity':>9} {'minority CE':>12}"
    )
    for name, result in results.items():
        ce = minority_ce(dataset, split, {"y1": result["rows"]}, name)
        if name in generators:
            rate = len(result["rows"]) / result["sample_s"]
            print(
                f"{name:<12} {result['train_s']:8.1f} {result['sample_s']:9.2f} {rate:13.1f} "
                f"{result['validity']:9.1%} {ce:12.4f}"
            )
        else:
            print(f"{name:<12} {'':>8} {'':>9} {'':>13} {'':>9} {ce:12.4f}")
    if "great" in results:
        ours, theirs = (len(results[g]["rows"]) / results[g]["sample_s"] for g in ("llm", "great"))
        print(f"\nvalid rows/s, llm / great: {ours / theirs:.1f}x")
    print(
        f"no oversampling (raw) minority CE at n_maj/n_min = {1 + K}: {minority_ce(dataset, split, {}, 'raw'):.4f}"
    )


if __name__ == "__main__":
    main()
