"""GReaT (be_great), the generator of the paper's own experiments, behind the sampler interface.

GReaT fine-tunes a causal language model on rows written as free text ("X1 is 0.31, Target is
y1, ..."), the columns in a new random order each time a row is seen. It is conditioned by its
own start prompt: generation begins at "<target> is y1,", so every row it writes is of the
requested target. Its text is not constrained: a row whose text misses a column, or holds a
number that does not parse or a category outside the column's domain, is dropped, and the
share kept is the pool's `acceptance` (the LLM's constrained rows are all valid). With
`generator.peers.great_model: tiny` (the default, offline) the model is GPT-2 built from
scratch at the LLM's tiny size, with a byte-level BPE tokenizer trained on the rows' text; a
local model directory or a hub id (the paper: distilgpt2) is fine-tuned instead.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthscale.config import GeneratorConfig
from synthscale.data.schema import Schema
from synthscale.samplers.base import SMALL_MODEL_BUILDS_PER_GPU, StepCallback
from synthscale.samplers.library_hooks import swapped
from synthscale.samplers.peers import TARGET_COLUMN, DrawAndKeep
from synthscale.samplers.registry import register
from synthscale.targets import Target

log = logging.getLogger(__name__)
GREAT_INSTALL = "pip install 'synthscale[peers]'"
BPE_VOCAB = 512  # the tiny model's tokenizer: enough for digits, names and the categories' pieces
EOS = "<|endoftext|>"
LENGTH_MARGIN = 1.25  # tokens generated per row: the longest training row's, with room to spare
LOSS_EVERY = 10  # training steps between the losses GReaT's trainer logs


@register("great", requires=("be_great", GREAT_INSTALL))
class GreatSampler(DrawAndKeep):
    """GReaT: fitted on the visible rows and their target keys, sampled from the target's prompt."""

    name = "great"
    train_longer = "generator.peers.great_steps"

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__(config)
        self.tiny = {
            "layers": config.llm.tiny_layers,
            "width": config.llm.tiny_width,
            "heads": config.llm.tiny_heads,
        }
        self._great: Any = None
        self._max_length = 0
        self._workdir: tempfile.TemporaryDirectory | None = None

    def cache_settings(self) -> dict[str, Any]:
        return {**super().cache_settings(), "tiny": self.tiny}

    @property
    def builds_per_gpu(self) -> int:
        """Like the LLM's: several builds of the tiny model share a GPU, a hub model has one."""
        return SMALL_MODEL_BUILDS_PER_GPU if self.settings.great_model == "tiny" else 1

    def fit(self, rows: pd.DataFrame, targets: np.ndarray, schema: Schema) -> GreatSampler:
        from be_great import GReaT

        super().fit(rows, targets, schema)
        table = self._target_table()
        self._workdir = tempfile.TemporaryDirectory(prefix="synthscale-great-")
        texts = great_texts(table, self.settings.great_float_digits)
        reference = self.settings.great_model
        if reference == "tiny":
            reference = build_tiny_great_model(
                Path(self._workdir.name) / "model", texts, self.tiny, self.settings.train_seed
            )
        started = time.perf_counter()
        self._great = GReaT(
            reference,
            experiment_dir=str(Path(self._workdir.name) / "trainer"),
            epochs=1,  # max_steps below decides
            batch_size=self.settings.great_batch_size,
            float_precision=self.settings.great_float_digits,
            max_steps=self.settings.great_steps,
            learning_rate=self.settings.great_learning_rate,
            seed=self.settings.train_seed,
            save_strategy="no",
            # the loss every LOSS_EVERY steps, when the sweep's bar listens
            logging_strategy="steps" if self.on_training_step else "no",
            logging_steps=LOSS_EVERY,
        )
        console = io.StringIO()  # its bar prints a line a second: the sweep's bar shows the pool
        with (
            contextlib.redirect_stderr(console),
            contextlib.redirect_stdout(console),
            steps_reported(self.on_training_step),
        ):
            self._great.fit(table, conditional_col=TARGET_COLUMN)
        log.debug("great's training: %s", console.getvalue()[-2000:])
        self.training_seconds = time.perf_counter() - started
        longest = max(len(self._great.tokenizer(text)["input_ids"]) for text in texts)
        self._max_length = int(longest * LENGTH_MARGIN) + 8
        return self

    @contextlib.contextmanager
    def _seeded(self, generator_seed: int):
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(generator_seed)
            yield

    def _keep(self, rows: pd.DataFrame, target: Target) -> pd.DataFrame:
        return valid_great_rows(rows, self._schema, str(target))

    def _draw(self, n: int, target: str) -> pd.DataFrame:
        """n rows of text from the target's start prompt, parsed by GReaT into columns (text)."""
        import torch
        from be_great.great_start import CategoricalStart
        from be_great.great_utils import _convert_text_to_tabular_data, _convert_tokens_to_text

        great = self._great
        start = CategoricalStart(great.tokenizer, TARGET_COLUMN, {target: 1.0})
        prompts = torch.tensor(start.get_start_tokens(n))
        model = great.model.eval()
        device = next(model.parameters()).device
        pad = great.tokenizer.pad_token_id
        with torch.no_grad():
            tokens = model.generate(
                input_ids=prompts.to(device),
                attention_mask=(prompts != pad).long().to(device),
                max_length=prompts.shape[1] + self._max_length,
                do_sample=True,
                temperature=self.settings.great_temperature,
                pad_token_id=pad,
            )
        return _convert_text_to_tabular_data(
            _convert_tokens_to_text(tokens.cpu(), great.tokenizer), great.columns
        )


@contextlib.contextmanager
def steps_reported(on_step: StepCallback | None) -> Iterator[None]:
    """Within it, the trainer `GReaT.fit` builds also reports each step to `on_step` (steps
    done, in all, the last logged loss). GReaT.fit takes no callbacks: its trainer class is
    swapped meanwhile for one that adds ours to those GReaT passes."""
    if on_step is None:
        yield
        return
    from be_great import great as great_module
    from transformers import TrainerCallback

    class StepReports(TrainerCallback):
        loss = float("nan")

        def on_train_begin(self, args, state, control, **kwargs):
            on_step(0, state.max_steps, self.loss)

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.loss = float((logs or {}).get("loss", self.loss))

        def on_step_end(self, args, state, control, **kwargs):
            on_step(state.global_step, state.max_steps, self.loss)

    class ReportingTrainer(great_module.GReaTTrainer):
        def __init__(self, *args, callbacks=None, **kwargs):
            super().__init__(*args, callbacks=[*(callbacks or []), StepReports()], **kwargs)

    with swapped(great_module, "GReaTTrainer", ReportingTrainer):
        yield


def great_texts(table: pd.DataFrame, float_digits: int | None) -> list[str]:
    """Rows as GReaT writes them ("X1 is 0.31, X2 is 4, Target is y1"), in the table's order:
    the text its tokenizer must cover."""
    columns = list(table.columns)
    values = [table[c].map(lambda v: format_great_value(v, float_digits)).to_numpy() for c in columns]
    return [
        ", ".join(f"{c} is {v[i]}" for c, v in zip(columns, values, strict=True)) for i in range(len(table))
    ]


def format_great_value(value: Any, float_digits: int | None) -> str:
    """A value as GReaT's dataset formats it (floats rounded, trailing zeros dropped)."""
    if isinstance(value, (float, np.floating)) and float_digits is not None:
        text = f"{value:.{float_digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value).strip()


def build_tiny_great_model(directory: Path, texts: list[str], size: dict[str, int], seed: int) -> str:
    """GPT-2 from scratch at the LLM's tiny size, with a byte-level BPE tokenizer trained on the
    rows' text: a local model directory GReaT loads with the Auto classes, as it would a hub id."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=BPE_VOCAB, min_frequency=2, special_tokens=[EOS])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token=EOS, bos_token=EOS)
    longest = max(len(tokenizer(text)["input_ids"]) for text in texts)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=2 * int(longest * LENGTH_MARGIN) + 64,  # a prompt, one row and room to spare
        n_embd=size["width"],
        n_layer=size["layers"],
        n_head=size["heads"],
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        GPT2LMHeadModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


def valid_great_rows(drawn: pd.DataFrame, schema: Schema, target: str) -> pd.DataFrame:
    """The drawn rows whose text gave every column a readable value of its kind (a number that
    parses, a category of the column's domain) and the requested target; numbers as floats."""
    ok = np.ones(len(drawn), dtype=bool)
    if TARGET_COLUMN in drawn.columns:
        ok &= drawn[TARGET_COLUMN].astype(str).str.strip().to_numpy() == target
    parsed = {}
    for column in schema.columns:
        if column.name not in drawn.columns:  # a group's attribute: set from the target after
            continue
        text = drawn[column.name].astype(str).str.strip()
        if column.kind == "category":  # GReaT strips its values' spaces: match them stripped
            domain = {str(c).strip(): c for c in column.categories}
            ok &= text.isin(list(domain)).to_numpy()
            parsed[column.name] = text.map(domain)
        else:
            numbers = pd.to_numeric(text, errors="coerce")
            ok &= np.isfinite(numbers.to_numpy(np.float64))
            parsed[column.name] = numbers
    return pd.DataFrame(parsed, index=drawn.index)[ok].reset_index(drop=True)
