"""synthscale's LLM generator against be_great, side by side: same model, same rows.

Both start from one GPT-2-architecture model directory built here from scratch (with a
byte-level BPE tokenizer trained on the rows written as text, so be_great can read it), are
fine-tuned on the same craft seed set for the same number of optimizer steps, and sample
minority-class rows (label fixed first). Printed per generator: valid rows/s while sampling,
validity (valid rows / generated rows), and the downstream minority cross-entropy of XGBoost
at n_maj/n_min = 5 after oversampling with its rows (the paper's ratio experiment, k = 4).
Reference rows: SMOTE and `independent` (columns drawn independently) at the same point.

Needs be_great (`pip install be-great`); without it only synthscale's figures are printed.
Run: python bench/generator.py [--steps 600] [--rows 400] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from synthscale.config import DownstreamConfig, ExperimentConfig, GeneratorConfig, LLMConfig, SplitConfig
from synthscale.data import make_craft, prepare_dataset
from synthscale.experiments import Point, evaluate_point
from synthscale.samplers import make_sampler
from synthscale.samplers.llm.sampler import LLMSampler
from synthscale.splits import make_split, row_targets

K = 4  # n_maj/n_min = 1 + k = 5
BATCH = 32


def serialized_text(features: pd.DataFrame, y: np.ndarray) -> list[str]:
    """Rows as be_great writes them ("Target is 1, X1 is 0.3, ..."), for the tokenizer."""
    table = features.assign(Target=y)
    return [", ".join(f"{c} is {v}" for c, v in row.items()) for _, row in table.iterrows()]


def build_shared_model(directory: Path, texts: list[str], width: int, layers: int) -> None:
    """The one starting point of both generators: GPT-2 from scratch + a BPE tokenizer."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=400, min_frequency=2, special_tokens=["<|endoftext|>"])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>", bos_token="<|endoftext|>"
    )
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=256,
        n_embd=width,
        n_layer=layers,
        n_head=4,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def minority_ce(dataset, split, rows: pd.DataFrame) -> float:
    point = Point("imbalance", "ratio", "bench", k=K)
    result = evaluate_point(
        dataset,
        split,
        point,
        {"y1": rows.reset_index(drop=True)},
        SplitConfig().seed_size,
        ExperimentConfig(),
        DownstreamConfig(),
        ["xgboost"],
        fit_seed=0,
    )
    return result[0]["minority_ce"]


def run_synthscale(model_dir, seed_rows, seed_targets, schema, n_rows, steps, cache) -> dict:
    settings = LLMConfig(model=str(model_dir), max_steps=steps, batch_size=BATCH, cache_dir=str(cache))
    sampler = LLMSampler(GeneratorConfig(llm=settings))
    started = time.perf_counter()
    sampler.fit(seed_rows, seed_targets, schema)
    trained = time.perf_counter() - started
    started = time.perf_counter()
    rows = sampler.sample(n_rows, "y1", generator_seed=0)
    sampling = time.perf_counter() - started
    report = sampler.target_report("y1")
    return {"rows": rows, "train_s": trained, "sample_s": sampling, "generated": report["rows_generated"]}


def run_be_great(model_dir, seed_rows, y, n_rows, steps, device, workdir) -> dict:
    from be_great import GReaT
    from be_great import great as great_module

    counts = {"generated": 0}
    convert = great_module._convert_text_to_tabular_data

    def counting_convert(texts, *args, **kwargs):
        counts["generated"] += len(texts)
        return convert(texts, *args, **kwargs)

    great_module._convert_text_to_tabular_data = counting_convert
    table = seed_rows.assign(Target=y).astype({"X6": int})
    epochs = max(1, round(steps * BATCH / len(table)))
    model = GReaT(
        str(model_dir),
        experiment_dir=str(workdir / "great"),
        epochs=epochs,
        batch_size=BATCH,
        save_strategy="no",
        logging_strategy="no",
        learning_rate=1e-3,
        report_to=[],
    )
    started = time.perf_counter()
    model.fit(table, conditional_col="Target")
    trained = time.perf_counter() - started
    started = time.perf_counter()
    sampled = model.sample(n_rows, start_col="Target", start_col_dist={"1": 1.0}, k=100, device=device)
    sampling = time.perf_counter() - started
    great_module._convert_text_to_tabular_data = convert
    sampled = sampled.loc[pd.to_numeric(sampled["Target"], errors="coerce") == 1].head(n_rows)
    rows = sampled.drop(columns="Target").astype(seed_rows.dtypes.to_dict())
    return {"rows": rows, "train_s": trained, "sample_s": sampling, "generated": counts["generated"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=600, help="optimizer steps for both generators")
    parser.add_argument("--rows", type=int, default=400, help="minority rows to sample (k=4 needs 400)")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    dataset = prepare_dataset(make_craft(), label="Target", spurious="X6", minority=1, spurious_positive=1)
    split = make_split(dataset, SplitConfig(), split_seed=0)
    seed_rows = dataset.features.iloc[split.balanced_index].reset_index(drop=True)
    seed_y = dataset.y[split.balanced_index].astype(int)
    seed_targets = row_targets(dataset, "imbalance", split.balanced_index)
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"device {args.device}; craft seed set {len(seed_rows)} rows; {args.steps} steps, batch {BATCH}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        build_shared_model(workdir / "model", serialized_text(seed_rows, seed_y), args.width, args.layers)
        results["synthscale"] = run_synthscale(
            workdir / "model",
            seed_rows,
            seed_targets,
            dataset.schema,
            args.rows,
            args.steps,
            workdir / "cache",
        )
        try:
            results["be_great"] = run_be_great(
                workdir / "model", seed_rows, seed_y, args.rows, args.steps, args.device, workdir
            )
        except ImportError:
            print("be_great is not installed (pip install be-great): its row is skipped")
    for name in ("smote", "independent"):
        sampler = make_sampler(name, GeneratorConfig()).fit(seed_rows, seed_targets, dataset.schema)
        results[name] = {"rows": sampler.sample(args.rows, "y1", 0)}
    print(
        f"\n{'generator':<12} {'train s':>8} {'sample s':>9} {'valid rows/s':>13} {'validity':>9} {'minority CE':>12}"
    )
    for name, result in results.items():
        ce = minority_ce(dataset, split, result["rows"]) if len(result["rows"]) >= args.rows else float("nan")
        if "sample_s" in result:
            valid = len(result["rows"])
            rate = valid / result["sample_s"]
            validity = valid / max(result["generated"], 1)
            print(
                f"{name:<12} {result['train_s']:8.1f} {result['sample_s']:9.2f} {rate:13.1f} {validity:9.1%} {ce:12.4f}"
            )
        else:
            print(f"{name:<12} {'':>8} {'':>9} {'':>13} {'':>9} {ce:12.4f}")
    if "be_great" in results:
        ours = len(results["synthscale"]["rows"]) / results["synthscale"]["sample_s"]
        theirs = len(results["be_great"]["rows"]) / results["be_great"]["sample_s"]
        print(f"\nvalid rows/s, synthscale / be_great: {ours / theirs:.1f}x")
    raw = evaluate_point(
        dataset,
        split,
        Point("imbalance", "ratio", "raw", k=K),
        {},
        SplitConfig().seed_size,
        ExperimentConfig(),
        DownstreamConfig(),
        ["xgboost"],
        fit_seed=0,
    )[0]["minority_ce"]
    print(f"no oversampling (raw) minority CE at n_maj/n_min = {1 + K}: {raw:.4f}")


if __name__ == "__main__":
    main()
