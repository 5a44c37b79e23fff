"""Batched, conditioned, sharded sampling with the KV cache, and validity accounting.

The prompt fixes the label (and the attribute for a group), so a minority row is sampled
directly. With feature conditioning (`llm.condition_features` = k > 0, after ImbLLM, arXiv
2510.09783) each row's prompt also copies k feature values, in a random order, from a random
real row of the target: the model completes real partial rows instead of starting from the
label alone, which keeps rows near the target's real ones and varies them as those do. Rows
are generated in batches of fixed size; batch b of a target is seeded from
(generator_seed, target, b), so which process generates it does not change its rows: under
`accelerate launch` the batches are split across processes and gathered back in order, and
the result equals a one-process run. Rows the grammar rejects (none are expected) are
counted, dropped and replaced from further batches.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from accelerate import PartialState
from accelerate.utils import gather_object
from tqdm.auto import tqdm
from transformers import (
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    UnbatchedClassifierFreeGuidanceLogitsProcessor,
)

from synthscale.config import LLMConfig
from synthscale.errors import SynthscaleError
from synthscale.samplers.llm.constrain import SchemaConstraint
from synthscale.samplers.llm.model import GeneratorModel
from synthscale.samplers.llm.serialize import RowCodec

MAX_EXTRA_ROUNDS = 5  # rounds of replacement batches before a broken generator is reported


@dataclass(frozen=True)
class Prompts:
    """How each sampled row starts: the target's prefix alone (k = 0), or every conditioning
    field of a real row of the target (the label, and the attribute) followed by k of its
    feature fields in a random order, as training wrote them."""

    prefix: list[int]
    anchors: list[np.ndarray] | None = None  # per field: [rows of the target, field tokens]
    k: int = 0
    n_conditioning: int = 1

    @classmethod
    def conditioned(
        cls, codec: RowCodec, prefix: list[int], rows: pd.DataFrame, label: int, k: int
    ) -> Prompts:
        """Prompts copying k feature values from `rows` (the target's real rows)."""
        if k == 0:
            return cls(prefix)
        free = len(codec.fields) - codec.n_conditioning
        if k >= free:
            raise SynthscaleError(
                f"llm.condition_features={k} would copy every one of the {free} feature columns "
                f"from a real row (a copy, not a new row); set it to at most {free - 1}"
            )
        if rows.empty:
            raise SynthscaleError("llm.condition_features needs real rows of the target to copy from")
        anchors = codec.value_blocks(rows, np.full(len(rows), label))
        return cls(prefix, anchors, k, codec.n_conditioning)

    def draw(self, size: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
        """`size` prompts grouped by length: (positions in the batch, [m, length] token ids)."""
        if self.anchors is None:
            return [(np.arange(size), np.tile(np.asarray(self.prefix, dtype=np.int64), (size, 1)))]
        rows = rng.integers(len(self.anchors[0]), size=size)
        n_fields = len(self.anchors)
        free = np.arange(self.n_conditioning, n_fields)
        chosen = rng.permuted(np.tile(free, (size, 1)), axis=1)[:, : self.k]
        fixed = np.arange(self.n_conditioning)
        prompts = [
            np.concatenate([self.prefix[:1], *(self.anchors[f][row] for f in (*fixed, *fields))])
            for row, fields in zip(rows, chosen, strict=True)
        ]
        lengths = np.array([len(p) for p in prompts])
        return [
            (np.flatnonzero(lengths == length), np.stack([p for p in prompts if len(p) == length]))
            for length in np.unique(lengths)
        ]


@dataclass
class SamplingReport:
    requested: int
    generated: int
    valid: int
    seconds: float
    rows_per_batch: int

    @property
    def dropped(self) -> int:
        return self.generated - self.valid

    @property
    def validity(self) -> float:
        return self.valid / self.generated if self.generated else 1.0


def sample_rows(
    generator: GeneratorModel,
    codec: RowCodec,
    prompt: Prompts | list[int],
    n: int,
    settings: LLMConfig,
    generator_seed: int,
    stream: str,
    show_progress: bool = False,
) -> tuple[pd.DataFrame, np.ndarray, SamplingReport]:
    """Exactly n rows (features, label) that start with `prompt` (a fixed prefix, or Prompts);
    `stream` names the target so that each target draws from its own random stream."""
    started = time.perf_counter()
    batch_size = rows_per_batch(generator, codec, settings)
    stream_id = zlib.crc32(stream.encode())
    kept, generated, first_batch = [], 0, 0
    n_valid, rounds = 0, 0
    while n_valid < n:
        if rounds > MAX_EXTRA_ROUNDS:
            raise RuntimeError(
                f"the generator produced {n_valid} valid rows of {generated} for {stream}; "
                "constrained decoding should make every row valid"
            )
        missing = n - n_valid
        n_batches = math.ceil(missing / batch_size)
        sizes = [min(batch_size, missing - b * batch_size) for b in range(n_batches)]
        batches = [(first_batch + b, size) for b, size in enumerate(sizes)]
        new = generate_batches(
            generator, codec, prompt, batches, settings, generator_seed, stream_id, show_progress
        )
        first_batch += n_batches
        generated += len(new)
        features, labels, valid = codec.decode(new)
        kept.append((features.loc[valid], labels[valid]))
        n_valid += int(valid.sum())
        rounds += 1
    features = pd.concat([rows for rows, _ in kept], ignore_index=True).iloc[:n]
    y = np.concatenate([labels for _, labels in kept])[:n]
    report = SamplingReport(n, generated, n_valid, time.perf_counter() - started, batch_size)
    return features, y, report


CPU_ROWS_PER_BATCH = 512  # a CPU's rows/s barely grows with the batch (bench/RESULTS.md)
GPU_ROWS_PER_BATCH_CEILING = 16384  # the fastest size measured for the tiny model on an H200
GPU_MEMORY_SHARE = 0.2  # of the free memory, so that several builds sharing one GPU all fit


def rows_per_batch(generator: GeneratorModel, codec: RowCodec, settings: LLMConfig) -> int:
    """`max_rows_per_batch`, or with auto the size for the model's device: a GPU's step is bound
    by kernel launches, so larger batches sample faster until memory runs short."""
    if settings.max_rows_per_batch != "auto":
        return settings.max_rows_per_batch
    device = generator.model.device
    if device.type != "cuda":
        return CPU_ROWS_PER_BATCH
    free, _ = torch.cuda.mem_get_info(device)
    row = bytes_per_row(
        generator, codec.row_length, guidance_of(settings) != 1.0, half=settings.bf16_on_gpu()
    )
    return gpu_rows_per_batch(free, row)


def gpu_rows_per_batch(free_bytes: int, row_bytes: int) -> int:
    """The largest power of two of rows whose memory is GPU_MEMORY_SHARE of the free memory, up
    to the ceiling: a power of two, so that a little more or less free memory rarely changes
    the size (and with it the rows drawn)."""
    fits = int(free_bytes * GPU_MEMORY_SHARE) // max(row_bytes, 1)
    if fits < 1:
        return 1
    return min(GPU_ROWS_PER_BATCH_CEILING, 1 << (fits.bit_length() - 1))


def bytes_per_row(generator: GeneratorModel, row_length: int, guided: bool, half: bool) -> int:
    """What one row in a batch holds on the GPU while it is generated: keys and values of every
    layer at every position, and the logits of a step, which the processors copy (twice both
    with label guidance, which runs the model on a second prompt)."""
    config = generator.model.config
    element = 2 if half else 4
    cache = 2 * config.num_hidden_layers * config.hidden_size * row_length * element
    logits = 3 * generator.vocab_size * 4
    return (cache + logits) * (2 if guided else 1)


def generate_batches(
    generator: GeneratorModel,
    codec: RowCodec,
    prompt: Prompts | list[int],
    batches: list[tuple[int, int]],
    settings: LLMConfig,
    generator_seed: int,
    stream_id: int,
    show_progress: bool,
) -> np.ndarray:
    """Codec token rows of every (batch index, size), split over the processes, in order."""
    state = PartialState(cpu=not torch.cuda.is_available())  # cpu=True: gloo across CPU processes
    with state.split_between_processes(batches) as mine:
        done = [
            (
                index,
                generate_batch(
                    generator, codec, prompt, size, settings, batch_seed(generator_seed, stream_id, index)
                ),
            )
            for index, size in tqdm(
                mine, desc="sampling rows", disable=not show_progress or not state.is_main_process
            )
        ]
    if state.num_processes > 1:
        done = gather_object(done)
    done.sort(key=lambda item: item[0])
    return np.concatenate([rows for _, rows in done]) if done else np.empty((0, codec.row_length), np.int64)


def batch_seed(generator_seed: int, stream_id: int, index: int) -> int:
    return int(np.random.SeedSequence([generator_seed, stream_id, index]).generate_state(1)[0])


@torch.no_grad()
def generate_batch(
    generator: GeneratorModel,
    codec: RowCodec,
    prompt: Prompts | list[int],
    size: int,
    settings: LLMConfig,
    seed: int,
) -> np.ndarray:
    """`size` rows seeded by `seed`, as codec token ids: one `generate` call per prompt length."""
    prompts = prompt if isinstance(prompt, Prompts) else Prompts(list(prompt))
    rows = np.empty((size, codec.row_length), dtype=np.int64)
    devices = [generator.model.device.index or 0] if generator.model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for positions, ids in prompts.draw(size, np.random.default_rng(seed)):
            rows[positions] = complete_rows(generator, codec, ids, settings)
    return rows


def guidance_of(settings: LLMConfig) -> float:
    """The guidance scale to sample with; auto counts as off here (the sampler resolves it)."""
    return 1.0 if settings.guidance == "auto" else settings.guidance


def label_guidance(
    generator: GeneratorModel, codec: RowCodec, prompts: np.ndarray, scale: float
) -> UnbatchedClassifierFreeGuidanceLogitsProcessor:
    """Classifier-free guidance whose negative prompt is the same prompt with the other label:
    log p(x | y) + (scale - 1) * [log p(x | y) - log p(x | other y)], token by token, which
    favours continuations the model finds typical of the target's class over the other's."""
    label_at = 2  # <bos>, the label's name, its value
    labels = np.asarray(codec.value_ids[0])
    other = prompts.copy()
    other[:, label_at] = np.where(prompts[:, label_at] == labels[0], labels[1], labels[0])
    token_ids = generator.token_ids.to(generator.model.device)
    negative = token_ids[torch.from_numpy(other).to(generator.model.device)]
    return UnbatchedClassifierFreeGuidanceLogitsProcessor(
        scale,
        generator.model,
        unconditional_ids=negative,
        unconditional_attention_mask=torch.ones_like(negative),
    )


def complete_rows(
    generator: GeneratorModel, codec: RowCodec, prompts: np.ndarray, settings: LLMConfig
) -> np.ndarray:
    """Each prompt (codec ids, all of one length) completed into a row under the grammar."""
    model = generator.model
    device = model.device
    token_ids = generator.token_ids.to(device)
    input_ids = token_ids[torch.from_numpy(prompts).to(device)]
    processors = LogitsProcessorList()
    guidance = guidance_of(settings)
    if guidance != 1.0:
        processors.append(label_guidance(generator, codec, prompts, guidance))
    ordered = settings.column_order == "fixed"
    processors.append(SchemaConstraint(codec, token_ids, generator.vocab_size, ordered))
    if settings.temperature != 1.0:
        processors.append(TemperatureLogitsWarper(settings.temperature))
    if settings.top_k:
        processors.append(TopKLogitsWarper(settings.top_k))
    if settings.top_p < 1.0:
        processors.append(TopPLogitsWarper(settings.top_p))
    half = torch.autocast(
        "cuda", dtype=torch.bfloat16, enabled=device.type == "cuda" and settings.bf16_on_gpu()
    )
    with half:
        output = model.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            logits_processor=processors,
            do_sample=True,
            temperature=1.0,
            top_k=0,
            top_p=1.0,
            max_new_tokens=codec.row_length - prompts.shape[1],
            min_new_tokens=0,
            eos_token_id=int(token_ids[codec.eos_id]),
            pad_token_id=int(token_ids[codec.pad_id]),
            use_cache=True,
        )
    to_codec = torch.full((generator.vocab_size,), codec.pad_id, dtype=torch.long, device=device)
    to_codec[token_ids] = torch.arange(len(token_ids), device=device)
    return to_codec[output].cpu().numpy()
