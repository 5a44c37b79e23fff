"""Fine-tune the generator on the visible rows, data-parallel with accelerate.

Each step draws a batch with a fixed share of minority-class rows (the seed set holds only
100 of them: a fixed share conditions the classes better at every training length)
and writes every row with a fresh column order. One process trains on CPU; under
`accelerate launch` or Ray Train (`resources.generator_workers`) every process draws the same
global batch of `batch_size` rows from one random stream and trains on its own slice of
batch_size/W rows, and gradients are averaged: W processes step as one process would (dropout
masks aside), so the model's cache key does not depend on W.

Early stopping: a stratified slice of the rows (`holdout_share`) is held out; its loss is
measured every `eval_every` steps, training stops after `patience` evaluations without a new
best, and the best step's weights are kept. `max_steps` is then a ceiling, not the length.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from accelerate import Accelerator, DataLoaderConfiguration
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from synthscale.config import LLMConfig
from synthscale.errors import SynthscaleError
from synthscale.samplers.base import StepCallback
from synthscale.samplers.llm.model import GeneratorModel
from synthscale.samplers.llm.serialize import RowCodec

WARMUP_SHARE = 0.05  # of the steps, linear warm-up before the cosine decay
MAX_GRAD_NORM = 1.0
LOSS_SHOWN_EVERY = 10  # steps between updates of the loss beside the progress bar
HOLDOUT_MAX_ROWS = 1000  # held-out rows at most: a stable loss, a cheap evaluation
HOLDOUT_MIN_ROWS = 4  # fewer held-out rows than this: no early stopping, max_steps are trained
EVAL_BATCH_ROWS = 512
MIN_IMPROVEMENT = 1e-4  # a held-out loss lower by less is no new best


@dataclass
class TrainingReport:
    steps: int  # steps trained (fewer than the budget when stopped early)
    seconds: float
    losses: list[float] = field(default_factory=list)  # one per step, over the global batch
    holdout_losses: list[tuple[int, float]] = field(default_factory=list)  # (step, held-out loss)
    best_step: int | None = None  # the step whose weights were kept (None: no held-out rows)

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
    accelerator = Accelerator(
        cpu=not torch.cuda.is_available(),
        mixed_precision=_precision(settings),
        # batches are global (split over the processes), so the schedule steps once per step
        dataloader_config=DataLoaderConfiguration(split_batches=True),
    )
    rng = np.random.default_rng([train_seed, 0])  # one stream in every process: the global batch
    mine = process_slice(settings.batch_size, accelerator.num_processes, accelerator.process_index)
    blocks = codec.value_blocks(features, y)
    shuffle = None if settings.column_order == "fixed" else rng
    train, holdout = holdout_split(np.asarray(y), settings.holdout_share, train_seed)
    draw_probability = minority_weights(np.asarray(y)[train], settings.minority_share)
    steps = training_steps(len(train), settings)
    optimizer = make_optimizer(generator.model, settings.learning_rate)
    schedule = get_cosine_schedule_with_warmup(optimizer, math.ceil(WARMUP_SHARE * steps), steps)
    model, optimizer, schedule = accelerator.prepare(generator.model, optimizer, schedule)
    token_ids = generator.token_ids.to(accelerator.device)
    held_out = None
    if len(holdout):  # one fixed column order per held-out row: a loss comparable across steps
        orders = np.random.default_rng(train_seed) if shuffle is not None else None
        fixed = codec.assemble([block[holdout] for block in blocks], orders)
        held_out = token_ids[torch.from_numpy(fixed).to(accelerator.device)]
    model.train()
    report, started = TrainingReport(steps, 0.0), time.perf_counter()
    stopper = EarlyStopping(settings.eval_every, settings.patience) if held_out is not None else None
    with torch.random.fork_rng(devices=_cuda_devices()):
        torch.manual_seed(train_seed + accelerator.process_index)  # dropout
        bar = tqdm(range(steps), desc="training generator", unit="step", disable=not show_progress)
        if on_step is not None:
            on_step(0, steps, float("nan"))  # started: the driver's bar learns how many steps come
        for step in bar:
            rows = train[rng.choice(len(train), size=settings.batch_size, p=draw_probability)]
            sequences = codec.assemble([block[rows] for block in blocks], shuffle)[mine]
            input_ids = token_ids[torch.from_numpy(sequences).to(accelerator.device)]
            loss = model(input_ids=input_ids, labels=input_ids).loss
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            report.losses.append(global_loss(accelerator, loss))
            if step % LOSS_SHOWN_EVERY == 0 or step == steps - 1:
                bar.set_postfix(loss=f"{np.mean(report.losses[-LOSS_SHOWN_EVERY:]):.3f}", refresh=False)
            if on_step is not None:
                on_step(step + 1, steps, report.losses[-1])
            if stopper is not None and stopper.due(step + 1, steps):
                report.holdout_losses.append((step + 1, holdout_loss(model, held_out)))
                if stopper.stop(report.holdout_losses[-1], accelerator.unwrap_model(model)):
                    break
    model.eval()
    generator.model = accelerator.unwrap_model(model)
    if stopper is not None:
        report.best_step = stopper.restore_best(generator.model)
    report.steps = len(report.losses)
    if on_step is not None and report.steps < steps:  # stopped early: the driver's bar ends here
        on_step(report.steps, report.steps, report.losses[-1])
    report.seconds = time.perf_counter() - started
    return report


def process_slice(batch_size: int, processes: int, index: int) -> slice:
    """Process `index`'s rows of each global batch of `batch_size` rows."""
    if batch_size % processes:
        raise SynthscaleError(
            f"generator.llm.batch_size={batch_size} rows per step do not split evenly over {processes} "
            f"training processes; set it to a multiple of {processes}"
        )
    share = batch_size // processes
    return slice(index * share, (index + 1) * share)


def global_loss(accelerator: Accelerator, loss: torch.Tensor) -> float:
    """The step's loss over the global batch (the processes' mean): the curve one process of
    the global batch would log."""
    if accelerator.num_processes == 1:
        return float(loss.detach())
    return float(accelerator.reduce(loss.detach(), reduction="mean"))


def make_optimizer(model: torch.nn.Module, learning_rate: float) -> torch.optim.AdamW:
    """AdamW, fused into one kernel on GPU, where it takes more steps a second; torch's default
    on CPU, where fusing gains nothing (bench/train_speed.py; measured in bench/RESULTS.md)."""
    on_gpu = torch.cuda.is_available()
    return torch.optim.AdamW(model.parameters(), lr=learning_rate, fused=True if on_gpu else None)


def holdout_split(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): `share` of each class held out, the same in every
    process; no held-out rows when that would leave fewer than HOLDOUT_MIN_ROWS."""
    rng = np.random.default_rng([seed, 7])
    everything = np.arange(len(y))
    held = []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        held.append(rows[: int(share * len(rows))])
    holdout = np.sort(np.concatenate(held))[:HOLDOUT_MAX_ROWS] if held else np.array([], dtype=int)
    if len(holdout) < HOLDOUT_MIN_ROWS:
        return everything, np.array([], dtype=np.int64)
    return np.setdiff1d(everything, holdout), holdout


@torch.no_grad()
def holdout_loss(model: torch.nn.Module, input_ids: torch.Tensor) -> float:
    """Mean token loss of the held-out rows (the model back in training mode after)."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(input_ids), EVAL_BATCH_ROWS):
        batch = input_ids[start : start + EVAL_BATCH_ROWS]
        total += float(model(input_ids=batch, labels=batch).loss) * len(batch)
        count += len(batch)
    model.train()
    return total / count


class EarlyStopping:
    """When to evaluate, when to stop, and the best weights so far (kept on the CPU)."""

    def __init__(self, eval_every: int, patience: int) -> None:
        self.eval_every, self.patience = eval_every, patience
        self.best_loss, self.best_step, self.best_state, self.misses = math.inf, 0, None, 0

    def due(self, step: int, steps: int) -> bool:
        return step % self.eval_every == 0 or step == steps

    def stop(self, evaluated: tuple[int, float], model: torch.nn.Module) -> bool:
        step, loss = evaluated
        if loss < self.best_loss - MIN_IMPROVEMENT:
            self.best_loss, self.best_step, self.misses = loss, step, 0
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            return False
        self.misses += 1
        return self.misses >= self.patience

    def restore_best(self, model: torch.nn.Module) -> int:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        return self.best_step


def minority_weights(y: np.ndarray, minority_share: float) -> np.ndarray:
    """Per-row draw probabilities giving the minority class `minority_share` of each batch."""
    minority = np.asarray(y) == 1
    if minority.all() or not minority.any():
        return np.full(len(y), 1 / len(y))
    return np.where(minority, minority_share / minority.sum(), (1 - minority_share) / (~minority).sum())


def _precision(settings: LLMConfig) -> str:
    return "bf16" if settings.bf16_on_gpu() and torch.cuda.is_available() else "no"


def _cuda_devices() -> list[int]:
    return list(range(torch.cuda.device_count()))
