"""The LLM generator as the scaling sweep runs it, timed: GPU against CPU.

One pool of the sweep: craft (the built-in simulated table, 8,000 rows), split seed 0, the
generator trained on every training row (data_access=train: 5,600 rows at a 0.3 test share),
then every target of the task sampled once at the pool's size (imbalance: 25,000 rows per
class for --rows 50000; spurious: a quarter per group). It goes through synthscale's own
pieces, in the order sweep/pools.py's `build_pool` calls them: the `llm` sampler from the
registry, `fit` on the visible rows (training, cached under a fresh directory so that it
trains), then `sample` per target. pools.py itself is not imported: its diagnostics import
XGBoost, which the timed path never uses.

Printed: training seconds, steps/s and final loss (the mean of the last tenth of the steps'
losses, as the pool records it); per sampling batch size, rows/s and validity (valid rows /
generated rows). On CUDA a short warm-up fit (CUDA context, kernels) runs first and is
printed apart. With --compare-cpu the same settings run again in a child process on the CPU
(optionally with fewer steps and rows: --cpu-steps, --cpu-rows), and the ratios are printed,
the CPU side extrapolated per step and per row when it ran shorter.

synthscale picks its device with torch.cuda.is_available(), so --device cpu hides the GPUs
(CUDA_VISIBLE_DEVICES="") before torch is imported.

Run: python bench/generator_gpu.py [--steps 1500] [--rows 50000] [--device auto|cpu|cuda]
     [--bf16 | --no-bf16] [--batch-rows 512 4096 ...] [--task imbalance|spurious]
     [--compare-cpu [--cpu-steps 200 --cpu-rows 5000]] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1500, help="optimizer steps (llm.max_steps)")
    parser.add_argument("--rows", type=int, default=50000, help="rows sampled, split evenly over the targets")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument(
        "--bf16", action=argparse.BooleanOptionalAction, default=True, help="llm.bf16 (GPU only)"
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        nargs="+",
        default=[512],
        help="llm.max_rows_per_batch; several values sample again from the same trained model",
    )
    parser.add_argument("--train-batch", type=int, default=64, help="llm.batch_size, rows per step")
    parser.add_argument("--task", choices=["imbalance", "spurious"], default="imbalance")
    parser.add_argument("--data-access", choices=["seed", "train"], default="train")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--generator-seed", type=int, default=0)
    parser.add_argument("--no-warmup", action="store_true", help="CUDA: skip the untimed warm-up fit")
    parser.add_argument("--compare-cpu", action="store_true", help="also run on the CPU, in a child process")
    parser.add_argument("--cpu-steps", type=int, help="--compare-cpu: steps on the CPU (default --steps)")
    parser.add_argument("--cpu-rows", type=int, help="--compare-cpu: rows on the CPU (default --rows)")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before torch: synthscale asks torch.cuda.is_available()
    result = run(args)
    if args.compare_cpu:
        result["cpu"] = run_cpu_child(args)
        print_comparison(result, result["cpu"])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return result


def run(args: argparse.Namespace) -> dict:
    import torch

    from synthscale.config import DatasetConfig, GeneratorConfig, LLMConfig, SplitConfig
    from synthscale.data import load_dataset
    from synthscale.samplers import make_sampler
    from synthscale.splits import make_split, row_targets
    from synthscale.targets import TASK_TARGETS

    cuda = torch.cuda.is_available()
    if args.device == "cuda" and not cuda:
        sys.exit("--device cuda: torch sees no GPU")
    import accelerate
    import transformers

    print(
        f"python {platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, accelerate {accelerate.__version__}; "
        + (
            f"device {torch.cuda.get_device_name(0)}"
            if cuda
            else f"device cpu ({platform.processor() or platform.machine()}, "
            f"{torch.get_num_threads()} threads)"
        ),
        flush=True,
    )

    started = time.perf_counter()
    dataset = load_dataset(DatasetConfig())
    split = make_split(dataset, SplitConfig(), split_seed=args.split_seed)
    visible = split.train_index if args.data_access == "train" else split.balanced_index
    targets = row_targets(dataset, args.task, visible)
    rows = dataset.features.iloc[visible]
    wanted = TASK_TARGETS[args.task].minority + TASK_TARGETS[args.task].majority
    per_target = args.rows // len(wanted)
    print(
        f"craft: {len(dataset.y)} rows, generator sees {len(visible)} ({args.data_access}); "
        f"task {args.task}: {per_target} rows for each of {', '.join(wanted)} "
        f"(data {time.perf_counter() - started:.1f} s)",
        flush=True,
    )

    def sampler_for(cache: str, **llm) -> object:
        settings = LLMConfig(cache_dir=cache, bf16=args.bf16, batch_size=args.train_batch, **llm)
        return make_sampler("llm", GeneratorConfig(data_access=args.data_access, llm=settings))

    result: dict = {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "threads": torch.get_num_threads(),
        "bf16": bool(args.bf16 and cuda),
        "task": args.task,
        "visible_rows": int(len(visible)),
        "rows": per_target * len(wanted),
    }
    with tempfile.TemporaryDirectory(prefix="synthscale-bench-") as cache:
        if cuda and not args.no_warmup:
            began = time.perf_counter()
            warm = sampler_for(cache, max_steps=10, max_rows_per_batch=64, train_seed=1)
            warm.fit(rows, targets, dataset.schema)
            warm.sample(64, wanted[0], args.generator_seed)
            result["warmup_s"] = time.perf_counter() - began
            print(f"warm-up (CUDA context, 10 steps, 64 rows): {result['warmup_s']:.1f} s", flush=True)

        first = args.batch_rows[0]
        sampler = sampler_for(cache, max_steps=args.steps, max_rows_per_batch=first)
        began = time.perf_counter()
        sampler.fit(rows, targets, dataset.schema)
        fit_s = time.perf_counter() - began
        training = sampler.training
        assert sampler.model_source == "trained", sampler.model_source
        result.update(
            steps=training.steps,
            train_s=training.seconds,
            fit_s=fit_s,
            steps_per_s=training.steps / training.seconds,
            final_loss=training.final_loss,
            first_loss=training.losses[0],
        )
        print(
            f"training: {training.steps} steps of {args.train_batch} rows in {training.seconds:.1f} s "
            f"({result['steps_per_s']:.1f} steps/s; fit with codec, model and cache write "
            f"{fit_s:.1f} s); loss {training.losses[0]:.3f} -> {training.final_loss:.4f}",
            flush=True,
        )

        result["sampling"] = []
        for batch_rows in args.batch_rows:
            if batch_rows != first:  # same training settings: the trained model comes from memory
                sampler = sampler_for(cache, max_steps=args.steps, max_rows_per_batch=batch_rows)
                sampler.fit(rows, targets, dataset.schema)
                assert sampler.model_source == "memory", sampler.model_source
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            began = time.perf_counter()
            for target in wanted:
                sampler.sample(per_target, target, args.generator_seed)
            seconds = time.perf_counter() - began
            reports = [sampler.sampling[target] for target in wanted]
            generated = sum(r.generated for r in reports)
            valid = sum(r.valid for r in reports)
            figures = {
                "batch_rows": batch_rows,
                "sample_s": seconds,
                "rows_per_s": per_target * len(wanted) / seconds,
                "validity": valid / generated if generated else float("nan"),
                "generated": generated,
                "per_target_rows_per_s": {
                    t: r.requested / r.seconds for t, r in zip(wanted, reports, strict=True)
                },
            }
            if cuda:
                figures["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
            result["sampling"].append(figures)
            per = ", ".join(f"{t} {v:.0f}" for t, v in figures["per_target_rows_per_s"].items())
            print(
                f"sampling, {batch_rows} rows per batch: {per_target * len(wanted)} rows in {seconds:.1f} s "
                f"= {figures['rows_per_s']:.0f} rows/s ({per}); validity {figures['validity']:.2%} "
                f"({valid}/{generated})"
                + (f"; peak GPU memory {figures['peak_gib']:.2f} GiB" if cuda else ""),
                flush=True,
            )
    print(json.dumps({k: v for k, v in result.items() if k != "sampling"}), flush=True)
    return result


def run_cpu_child(args: argparse.Namespace) -> dict:
    """The same settings on the CPU, in a fresh process (torch must start without the GPU)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--device=cpu",
        f"--steps={args.cpu_steps or args.steps}",
        f"--rows={args.cpu_rows or args.rows}",
        f"--train-batch={args.train_batch}",
        f"--task={args.task}",
        f"--data-access={args.data_access}",
        f"--split-seed={args.split_seed}",
        f"--generator-seed={args.generator_seed}",
        "--batch-rows",
        *map(str, args.batch_rows),
        f"--json={out}",
    ]
    print("\n--- CPU:", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True)
    with open(out) as handle:
        return json.load(handle)


def print_comparison(fast: dict, cpu: dict) -> None:
    """Per step and per row, so a shorter CPU run still compares (extrapolated linearly)."""
    step_fast, step_cpu = fast["train_s"] / fast["steps"], cpu["train_s"] / cpu["steps"]
    print(
        f"\ntraining per step: {step_fast * 1e3:.1f} ms in the main run vs {step_cpu * 1e3:.1f} ms on the CPU "
        f"({step_cpu / step_fast:.1f}x); for {fast['steps']} steps the CPU would take "
        f"{step_cpu * fast['steps']:.0f} s" + (" (extrapolated)" if cpu["steps"] != fast["steps"] else "")
    )
    best_fast = max(fast["sampling"], key=lambda s: s["rows_per_s"])
    best_cpu = max(cpu["sampling"], key=lambda s: s["rows_per_s"])
    print(
        f"sampling: {best_fast['rows_per_s']:.0f} rows/s in the main run ({best_fast['batch_rows']} per batch) vs "
        f"{best_cpu['rows_per_s']:.0f} on the CPU ({best_cpu['batch_rows']} per batch): "
        f"{best_fast['rows_per_s'] / best_cpu['rows_per_s']:.1f}x; {fast['rows']} rows would take "
        f"{fast['rows'] / best_cpu['rows_per_s']:.0f} s on the CPU"
    )


if __name__ == "__main__":
    main()
