"""Faster generator steps, measured side by side in one process (issue #16, item 3 and 5).

Training: the same model, rows and seed trained for --steps under each variant; printed per
variant are the steady steps/s and rows/s (the first --warm steps, where compilation and
allocator warm-up fall, are timed apart) and the loss of the last tenth of the steps, with the
ratio to the first (eager) variant. Variants:

  eager       synthscale's training loop as it is (AdamW: fused on GPU, foreach on CPU)
  foreach     AdamW(foreach=True), the multi-tensor kernels (torch's default)
  fused       AdamW(fused=True), one fused kernel
  compile     torch.compile of the model (Module.compile, in place: inductor)
  batch256    4x the rows per step at 2x the learning rate (steps/s falls, rows/s may rise)
  gelu_new    GPT-2's activation as transformers writes it in Python-level ops (tiny's default
              before 2026-12-01, now gelu_pytorch_tanh: the same approximation in one kernel)
  nodropout   tiny_dropout 0 (no masks drawn on CPU)

Sampling: rows/s of constrained generation (the schema constraint, temperature 1.4) at
--sample-batch rows per batch, with the dynamic KV cache (as synthscale samples) and with
transformers' static cache; a first batch is timed apart (where a static cache compiles).

Models: `tiny` (synthscale's default: 2 layers of width 96 since 2026-11-30, 4 x 128 before) and,
with --gpt2, a GPT-2-size model (124 M parameters: GPT2Config's defaults, random weights saved
to a local directory with a 50,257-token word-level tokenizer) loaded through llm.model=<dir>,
the path a user's pretrained model takes (codec tokens added to its vocabulary); bf16 on GPU.

Data: craft, split seed 0, every training row visible (5,600 rows), imbalance task; or
--dataset adult --adult PATH (adult.csv as OpenML writes it), the same split.

Run: python bench/train_speed.py [--steps 300] [--warm 30] [--variants eager fused compile batch256]
         [--models tiny gpt2] [--sample-rows 8192] [--sample-batch 1024] [--json FILE]
         [--dataset craft|adult --adult PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import torch

VARIANTS = ("eager", "foreach", "fused", "compile", "batch256", "gelu_new", "nodropout")
GPT2_VOCAB = 50257


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300, help="training steps per variant")
    parser.add_argument("--warm", type=int, default=30, help="first steps timed apart (compile, warm-up)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--models", nargs="+", choices=["tiny", "gpt2"], default=["tiny"])
    parser.add_argument("--gpt2-variants", nargs="+", choices=VARIANTS, default=["eager", "fused"])
    parser.add_argument("--gpt2-steps", type=int, default=200)
    parser.add_argument("--sample-rows", type=int, default=8192, help="rows sampled per cache kind")
    parser.add_argument("--sample-batch", type=int, nargs="+", default=[1024])
    parser.add_argument("--no-bf16", action="store_true", help="fp32 on GPU")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--dataset", choices=["craft", "adult"], default="craft")
    parser.add_argument("--adult", help="adult's CSV (with --dataset adult)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    import accelerate
    import transformers

    cuda = torch.cuda.is_available()
    device = torch.cuda.get_device_name(0) if cuda else f"cpu ({torch.get_num_threads()} threads)"
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, accelerate {accelerate.__version__}; {device}",
        flush=True,
    )
    rows, y, schema = training_rows(args.dataset, args.adult)
    result: dict = {"device": device, "bf16": cuda and not args.no_bf16, "models": {}}
    with tempfile.TemporaryDirectory(prefix="synthscale-speed-") as scratch:
        for name in args.models:
            reference = "tiny" if name == "tiny" else build_gpt2_directory(Path(scratch) / "gpt2")
            steps = args.steps if name == "tiny" else args.gpt2_steps
            variants = args.variants if name == "tiny" else args.gpt2_variants
            print(f"\n== {name}: {len(rows)} training rows, {steps} steps per variant", flush=True)
            result["models"][name] = run_model(reference, rows, y, schema, steps, variants, args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


def training_rows(name: str = "craft", path: str | None = None):
    from synthscale.config import DatasetConfig, SplitConfig
    from synthscale.data import load_dataset
    from synthscale.splits import make_split, row_targets
    from synthscale.targets import labels_of

    if name == "adult" and not path:
        sys.exit("--dataset adult needs --adult PATH (adult.csv)")
    if name == "adult":
        config = DatasetConfig(name=None, path=path, label="income", spurious="sex")
    else:
        config = DatasetConfig()
    dataset = load_dataset(config)
    split = make_split(dataset, SplitConfig(), split_seed=0)
    visible = split.train_index
    y = labels_of(row_targets(dataset, "imbalance", visible))
    return dataset.features.iloc[visible].reset_index(drop=True), y, dataset.schema


def build_gpt2_directory(path: Path) -> str:
    """GPT-2's shape (124 M parameters) with random weights and a word-level tokenizer of
    GPT-2's vocabulary size: a local model directory, as a user's pretrained model would be."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = ["<|endoftext|>", *map(str, range(1000)), ".", "-", "is", ","]
    words += [f"w{i}" for i in range(GPT2_VOCAB - len(words))]
    backend = Tokenizer(WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="<|endoftext|>"))
    backend.pre_tokenizer = WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=GPT2_VOCAB))
    print(f"gpt2: {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters", flush=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def run_model(reference, rows, y, schema, steps, variants, args) -> dict:
    from synthscale.config import LLMConfig
    from synthscale.samplers.llm.model import build_model
    from synthscale.samplers.llm.serialize import build_codec

    codec = build_codec(rows, schema)
    base = LLMConfig(model=reference, epochs=1e6, max_steps=steps, bf16=not args.no_bf16, cache_dir="unused")
    figures: dict = {"training": {}, "sampling": []}
    trained = None
    for variant in variants:
        settings = base.model_copy(update=variant_settings(variant, base))
        generator = build_model(codec, settings, 0)
        if variant == "compile":
            generator.model.compile()
        with variant_patches(variant):
            timing = time_training(generator, codec, rows, y, settings, args.warm)
        timing["rows_per_s"] = timing["steps_per_s"] * settings.batch_size
        figures["training"][variant] = timing
        first = figures["training"][variants[0]]
        print(
            f"{variant:9s} {timing['steps_per_s']:7.1f} steps/s ({timing['rows_per_s']:8.0f} rows/s; "
            f"x{timing['steps_per_s'] / first['steps_per_s']:.2f} steps, "
            f"x{timing['rows_per_s'] / first['rows_per_s']:.2f} rows); first {args.warm} steps "
            f"{timing['warm_s']:.1f} s, all {timing['seconds']:.1f} s; loss {timing['final_loss']:.3f}",
            flush=True,
        )
        if variant == "eager":
            trained = generator
    if trained is not None:
        for batch in args.sample_batch:
            for cache in ("dynamic", "static"):
                figures["sampling"].append(
                    time_sampling(trained, codec, base, batch, cache, args.sample_rows)
                )
    return figures


def variant_settings(variant: str, base) -> dict:
    if variant == "batch256":
        return {"batch_size": 256, "learning_rate": base.learning_rate * 2}
    if variant == "gelu_new":
        return {"tiny_activation": "gelu_new"}
    if variant == "nodropout":
        return {"tiny_dropout": 0.0}
    return {}


@contextlib.contextmanager
def variant_patches(variant: str):
    """The variant's change to synthscale's optimizer, undone after."""
    from synthscale.samplers.llm import train

    if variant in ("foreach", "fused"):

        def optimizer(model: torch.nn.Module, learning_rate: float) -> torch.optim.AdamW:
            return torch.optim.AdamW(model.parameters(), lr=learning_rate, **{variant: True})

        with mock.patch.object(train, "make_optimizer", optimizer):
            yield
    else:
        yield


def time_training(generator, codec, rows, y, settings, warm: int) -> dict:
    from synthscale.samplers.llm.train import train_generator

    stamps: list[float] = []
    report = train_generator(
        generator,
        codec,
        rows,
        y,
        settings,
        0,
        on_step=lambda done, _all, _loss: stamps.append(time.perf_counter()),
    )
    began, stamps = stamps[0], stamps[1:]  # the first call announces the start
    warm = max(1, min(warm, len(stamps) // 2))
    steady = (len(stamps) - warm) / (stamps[-1] - stamps[warm - 1])
    return {
        "steps": report.steps,
        "seconds": report.seconds,
        "warm_s": stamps[warm - 1] - began,
        "steps_per_s": steady,
        "final_loss": report.final_loss,
    }


def time_sampling(generator, codec, settings, batch: int, cache: str, n_rows: int) -> dict:
    from synthscale.samplers.llm.sample import Prompts, sample_rows

    settings = settings.model_copy(update={"max_rows_per_batch": batch})
    original = generator.model.generate
    if cache == "static":
        generator.model.generate = functools.partial(original, cache_implementation="static")
    try:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        began = time.perf_counter()  # a first batch apart: a static cache may compile here
        sample_rows(
            generator, codec, Prompts(codec.prompt(1, None)), min(batch, n_rows), settings, 1, "y1", False
        )
        first_s = time.perf_counter() - began
        began = time.perf_counter()
        _, _, report = sample_rows(
            generator, codec, Prompts(codec.prompt(1, None)), n_rows, settings, 0, "y1", False
        )
        seconds = time.perf_counter() - began
    except Exception as exc:  # noqa: BLE001 - a cache kind the model cannot use is a result too
        print(
            f"sampling, {batch} rows per batch, {cache} cache: failed ({type(exc).__name__}: {exc})",
            flush=True,
        )
        return {"batch": batch, "cache": cache, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        generator.model.generate = original
    figures = {
        "batch": batch,
        "cache": cache,
        "rows_per_s": n_rows / seconds,
        "first_batch_s": first_s,
        "validity": report.validity,
    }
    print(
        f"sampling, {batch} rows per batch, {cache} cache: {figures['rows_per_s']:.0f} rows/s "
        f"(first batch apart: {first_s:.1f} s; validity {report.validity:.2%})",
        flush=True,
    )
    return figures


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
