"""Batched, conditioned, sharded sampling with the KV cache, and validity accounting.

The prompt fixes the label (and the attribute for a group), so a minority row is sampled
directly. Rows are generated in batches of fixed size; batch b of a target is seeded from
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
)

from synthscale.config import LLMConfig
from synthscale.samplers.llm.constrain import SchemaConstraint
from synthscale.samplers.llm.model import GeneratorModel
from synthscale.samplers.llm.serialize import RowCodec

MAX_EXTRA_ROUNDS = 5  # rounds of replacement batches before a broken generator is reported


@dataclass
class SamplingReport:
    requested: int
    generated: int
    valid: int
    seconds: float

    @property
    def dropped(self) -> int:
        return self.generated - self.valid

    @property
    def validity(self) -> float:
        return self.valid / self.generated if self.generated else 1.0


def sample_rows(
    generator: GeneratorModel,
    codec: RowCodec,
    prompt: list[int],
    n: int,
    settings: LLMConfig,
    generator_seed: int,
    stream: str,
    show_progress: bool = False,
) -> tuple[pd.DataFrame, np.ndarray, SamplingReport]:
    """Exactly n rows (features, label) that start with `prompt`; `stream` names the target so
    that each target draws from its own random stream."""
    started = time.perf_counter()
    batch_size = settings.max_rows_per_batch
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
    report = SamplingReport(n, generated, n_valid, time.perf_counter() - started)
    return features, y, report


def generate_batches(
    generator: GeneratorModel,
    codec: RowCodec,
    prompt: list[int],
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
    generator: GeneratorModel, codec: RowCodec, prompt: list[int], size: int, settings: LLMConfig, seed: int
) -> np.ndarray:
    """`size` rows from one seeded `generate` call, as codec token ids."""
    model = generator.model
    device = model.device
    token_ids = generator.token_ids.to(device)
    input_ids = token_ids[torch.tensor([prompt] * size, device=device)]
    processors = LogitsProcessorList([SchemaConstraint(codec, token_ids, generator.vocab_size)])
    if settings.temperature != 1.0:
        processors.append(TemperatureLogitsWarper(settings.temperature))
    if settings.top_k:
        processors.append(TopKLogitsWarper(settings.top_k))
    if settings.top_p < 1.0:
        processors.append(TopPLogitsWarper(settings.top_p))
    devices = [device.index or 0] if device.type == "cuda" else []
    half = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda" and settings.bf16)
    with torch.random.fork_rng(devices=devices), half:
        torch.manual_seed(seed)
        output = model.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            logits_processor=processors,
            do_sample=True,
            temperature=1.0,
            top_k=0,
            top_p=1.0,
            max_new_tokens=codec.row_length - len(prompt),
            min_new_tokens=0,
            eos_token_id=int(token_ids[codec.eos_id]),
            pad_token_id=int(token_ids[codec.pad_id]),
            use_cache=True,
        )
    to_codec = torch.full((generator.vocab_size,), codec.pad_id, dtype=torch.long, device=device)
    to_codec[token_ids] = torch.arange(len(token_ids), device=device)
    return to_codec[output].cpu().numpy()
