"""Fine-tune the generator on the visible rows, data-parallel with accelerate.

Each step draws a batch with a fixed share of minority-class rows (the seed set holds only
100 of them; measured in shared notes: better class conditioning at every training length)
and writes every row with a fresh column order. One process trains on CPU; under
`accelerate launch` every GPU draws its own batches and gradients are averaged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from synthscale.config import LLMConfig
from synthscale.samplers.llm.model import GeneratorModel
from synthscale.samplers.llm.serialize import RowCodec

WARMUP_SHARE = 0.05  # of the steps, linear warm-up before the cosine decay
MAX_GRAD_NORM = 1.0
LOSS_SHOWN_EVERY = 10  # steps between updates of the loss beside the progress bar

StepCallback = Callable[[int, int, float], None]  # (steps done, steps in all, this step's loss)


@dataclass
class TrainingReport:
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)  # one per step, process 0's batch

    @property
    def final_loss(self) -> float:
        tail = self.losses[-max(1, len(self.losses) // 10) :]
        return float(np.mean(tail))


def training_steps(n_rows: int, settings: LLMConfig) -> int:
    return max(1, min(settings.max_steps, math.ceil(settings.epochs * n_rows / settings.batch_size)))


def train_generator(
    generator: GeneratorModel,
    codec: RowCodec,
    features: pd.DataFrame,
    y: np.ndarray,
    settings: LLMConfig,
    train_seed: int,
    show_progress: bool = False,
    on_step: StepCallback | None = None,
) -> TrainingReport:
    """Train in place; returns the loss per step. The bar shows the running loss; `on_step`
    hears of every step (a sweep's driver shows remote trainings through it)."""
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=_precision(settings))
    rng = np.random.default_rng([train_seed, accelerator.process_index])
    blocks = codec.value_blocks(features, y)
    draw_probability = minority_weights(y, settings.minority_share)
    steps = training_steps(len(y), settings)
    optimizer = torch.optim.AdamW(generator.model.parameters(), lr=settings.learning_rate)
    schedule = get_cosine_schedule_with_warmup(optimizer, math.ceil(WARMUP_SHARE * steps), steps)
    model, optimizer, schedule = accelerator.prepare(generator.model, optimizer, schedule)
    token_ids = generator.token_ids.to(accelerator.device)
    model.train()
    report, started = TrainingReport(steps, 0.0), time.perf_counter()
    with torch.random.fork_rng(devices=_cuda_devices()):
        torch.manual_seed(train_seed + accelerator.process_index)  # dropout
        bar = tqdm(range(steps), desc="training generator", unit="step", disable=not show_progress)
        if on_step is not None:
            on_step(0, steps, float("nan"))  # started: the driver's bar learns how many steps come
        for step in bar:
            rows = rng.choice(len(y), size=settings.batch_size, p=draw_probability)
            sequences = codec.assemble([block[rows] for block in blocks], rng)
            input_ids = token_ids[torch.from_numpy(sequences).to(accelerator.device)]
            loss = model(input_ids=input_ids, labels=input_ids).loss
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            report.losses.append(float(loss.detach()))
            if step % LOSS_SHOWN_EVERY == 0 or step == steps - 1:
                bar.set_postfix(loss=f"{np.mean(report.losses[-LOSS_SHOWN_EVERY:]):.3f}", refresh=False)
            if on_step is not None:
                on_step(step + 1, steps, report.losses[-1])
    model.eval()
    generator.model = accelerator.unwrap_model(model)
    report.seconds = time.perf_counter() - started
    return report


def minority_weights(y: np.ndarray, minority_share: float) -> np.ndarray:
    """Per-row draw probabilities giving the minority class `minority_share` of each batch."""
    minority = np.asarray(y) == 1
    if minority.all() or not minority.any():
        return np.full(len(y), 1 / len(y))
    return np.where(minority, minority_share / minority.sum(), (1 - minority_share) / (~minority).sum())


def _precision(settings: LLMConfig) -> str:
    return "bf16" if settings.bf16 and torch.cuda.is_available() else "no"


def _cuda_devices() -> list[int]:
    return list(range(torch.cuda.device_count()))
