"""The `llm` sampler: fine-tune a causal LM on the visible rows, then sample each target.

One model serves every target and both tasks: its rows start with the label and then the
spurious attribute, so a class is sampled by fixing the label and a group by fixing both.
Trained models are cached on disk by (rows, labels, training settings); a second sweep, or
the other task of the same sweep, loads instead of retraining. A corrupt entry is retrained
with a warning.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from accelerate import PartialState
from transformers import AutoModelForCausalLM, AutoTokenizer

from synthscale._io import (
    check_cache_version,
    discard_entry,
    hash_frame,
    hash_json,
    mark_cache_version,
    read_checksummed_entry,
    write_checksummed_entry,
)
from synthscale.config import GeneratorConfig, LLMConfig
from synthscale.data.schema import Dataset, Schema
from synthscale.samplers.base import SMALL_MODEL_BUILDS_PER_GPU, StepCallback, VisibleRows, as_target
from synthscale.samplers.classic import SmoteWrapper
from synthscale.samplers.llm.model import TINY, GeneratorModel, build_model, merge_lora
from synthscale.samplers.llm.sample import Prompts, SamplingReport, sample_rows
from synthscale.samplers.llm.serialize import RowCodec, build_codec
from synthscale.samplers.llm.train import TrainingReport, train_generator, training_steps
from synthscale.splits import row_targets
from synthscale.targets import Target, class_keys, labels_of

SAMPLING_SETTINGS = {
    "temperature",
    "top_p",
    "top_k",
    "guidance",
    "condition_features",
    "max_rows_per_batch",
    "cache_dir",
}
CACHE_VERSION = 2  # of the model cache's keys and entries: a change makes every entry rebuild once
FIXED_ORDER_MAX_PASSES = 10  # more passes in one order and the model copies its rows (bench/RESULTS.md)
FIXED_ORDER_GUIDANCE = 1.5  # sharpens a fixed-order model's classes (measured on craft, bench/RESULTS.md)
ENTRY_FILE = "synthscale.json"
WEIGHTS_FILE = "model.safetensors"
_LOADED: dict[str, tuple[GeneratorModel, TrainingReport]] = {}  # this process's trained models


class LLMSampler(VisibleRows):
    """Fit = train (or load) the generator; sample = conditioned, constrained generation."""

    name = "llm"
    trains_model = True

    def __init__(self, config: GeneratorConfig, show_progress: bool = False) -> None:
        super().__init__()
        # here, not at training: a sweep makes its samplers on the driver first, whose log the
        # user reads (Ray workers' logs stay with the workers)
        check_cache_version(Path(config.llm.cache_dir), CACHE_VERSION, "trained generators")
        self.settings = config.llm
        self.resolved = config.llm  # `auto` settings decided at fit, by the training set's size
        self.k_neighbors = config.k_neighbors  # of the interpolated training rows
        self.show_progress = show_progress
        self.training: TrainingReport | None = None
        self.model_source = ""  # trained, disk cache, or memory
        self.sampling: dict[str, SamplingReport] = {}
        self.model_key = ""
        self._codec: RowCodec | None = None
        self._generator: GeneratorModel | None = None

    def cache_settings(self) -> dict[str, Any]:
        return self.settings.model_dump(mode="json", exclude={"cache_dir"})

    @property
    def builds_per_gpu(self) -> int:
        """The tiny model's steps are bound by kernel launches and leave a GPU mostly idle."""
        return SMALL_MODEL_BUILDS_PER_GPU if self.settings.model == TINY else 1

    def fit(self, rows: pd.DataFrame, targets: np.ndarray, schema: Schema) -> LLMSampler:
        super().fit(rows, targets, schema)
        self._codec = build_codec(self._rows, schema)
        rows, y = self._training_rows()
        self.resolved = resolve_auto(self.settings, len(rows))
        self.model_key = model_key(rows, y, schema, self.resolved)
        self._generator, self.training, self.model_source = load_or_train(
            self.model_key,
            self._codec,
            rows,
            y,
            self.resolved,
            self.show_progress,
            self.on_training_step,
        )
        return self

    def _training_rows(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The visible rows, plus `interpolated_rows` SMOTE rows per real row of each class
        (ImbLLM's enrichment: more, smoother examples of each class's joint structure),
        written at the codec's precision. By class, not by target, so that both tasks of a
        replicate train the same model."""
        y = labels_of(self._targets)
        share, classes = self.settings.interpolated_rows, class_keys(y)
        if share == 0 or len(set(classes.tolist())) < 2:  # imblearn's SMOTE needs two classes
            return self._rows, y
        rows, labels = [self._rows], [y]
        for key in sorted(set(classes.tolist())):
            count = int(np.sum(classes == key))
            n, k = round(share * count), min(self.k_neighbors, count - 1)
            if n == 0 or k < 1:
                continue
            smote = SmoteWrapper(GeneratorConfig(k_neighbors=k)).fit(self._rows, classes, self._schema)
            rows.append(self._codec.conform(smote.sample(n, key, self.settings.train_seed)))
            labels.append(np.full(n, Target(key).label))
        return pd.concat(rows, ignore_index=True), np.concatenate(labels)

    def _sample(self, n: int, target: Target, count: int, generator_seed: int) -> pd.DataFrame:
        y, a = target.label, target.attribute
        prompts = Prompts.conditioned(
            self._codec,
            self._codec.prompt(y, a),
            self._rows[self._targets == target],
            y,
            self.settings.condition_features,
        )
        features, labels, report = sample_rows(
            self._generator,
            self._codec,
            prompts,
            n,
            self.resolved,
            generator_seed,
            target,
            self.show_progress,
        )
        assert (labels == y).all(), "the prompt fixes the label"
        self.sampling[target] = report
        return features

    def _typed(self, rows: pd.DataFrame) -> pd.DataFrame:
        """As decoded: the decoder writes the schema's dtypes already, and an integer the model
        wrote between two observed values is its own (snapping it would undo what it learned)."""
        return rows

    def model_record(self) -> dict[str, Any] | None:
        """The trained model behind this sampler's rows: its cache key, where it came from,
        and its loss per training step (for the sweep's MLflow run per generator)."""
        if self.training is None:
            return None
        return {
            "key": self.model_key,
            "source": self.model_source,
            "steps": self.training.steps,
            "seconds": self.training.seconds,
            "losses": list(self.training.losses),
            "holdout_losses": [list(pair) for pair in self.training.holdout_losses],
            "best_step": self.training.best_step,
            "column_order": self.resolved.column_order,  # `auto` as decided
            "guidance": self.resolved.guidance,
            "device": self._generator.model.device.type,  # where this pool's rows were sampled
        }

    def target_report(self, target: str) -> dict[str, float]:
        """What the pool records per target: validity, drops, training length and loss."""
        report = {}
        if target in self.sampling:
            sampled = self.sampling[target]
            report.update(
                validity=sampled.validity,
                rows_generated=sampled.generated,
                rows_dropped=sampled.dropped,
                sampling_rows_per_s=sampled.requested / max(sampled.seconds, 1e-9),
                rows_per_batch=float(sampled.rows_per_batch),  # max_rows_per_batch auto as decided
            )
        if self.training is not None:
            report.update(
                training_steps=self.training.steps,
                training_best_step=float(self.training.best_step or self.training.steps),
                training_final_loss=self.training.final_loss,
                training_seconds=self.training.seconds,
                model_reused=float(self.model_source != "trained"),
                column_order_fixed=float(self.resolved.column_order == "fixed"),
                guidance=float(self.resolved.guidance),
            )
        return report


def generate_table(
    dataset: Dataset,
    target: Target | str,
    n: int,
    config: GeneratorConfig,
    generator_seed: int,
    show_progress: bool,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Standalone generation: fit on every row of `dataset`, then n rows of `target`, with
    the label column written back (the table a user gave, grown by n rows of one kind)."""
    target = as_target(target)
    task = "spurious" if target.is_group else "imbalance"
    sampler = LLMSampler(config, show_progress).fit(
        dataset.features, row_targets(dataset, task), dataset.schema
    )
    rows = sampler.sample(n, target, generator_seed)
    label = dataset.schema.label
    return rows.assign(**{label: target.label_value(dataset.schema)}), sampler.target_report(target)


def model_key(rows: pd.DataFrame, y: np.ndarray, schema: Schema, settings: LLMConfig) -> str:
    """Everything that changes the trained weights; sampling knobs are left out."""
    return hash_json(
        {
            "rows": hash_frame(rows),
            "labels": hashlib.sha256(np.asarray(y, dtype=np.int64).tobytes()).hexdigest(),
            "label": [schema.label, str(schema.majority_value), str(schema.minority_value)],
            "spurious": [schema.spurious, [str(v) for v in schema.spurious_values or ()]],
            "settings": training_settings(settings),
            "device": "cuda" if torch.cuda.is_available() else "cpu",
            "cache_version": CACHE_VERSION,
        }
    )[:32]


def resolve_auto(settings: LLMConfig, n_rows: int) -> LLMConfig:
    """The settings with `auto` decided by how often training sees each of its `n_rows` rows.
    Seen many times (a small seed set), a model trained in one column order copies its rows,
    and random orders keep it general; seen a few times (a large table), the table's own order
    lets it learn a column as a function of those before it, and label guidance then sharpens
    its classes (both measured on craft, bench/RESULTS.md)."""
    passes = training_steps(n_rows, settings) * settings.batch_size / max(n_rows, 1)
    order = settings.column_order
    if order == "auto":
        few_passes = passes <= FIXED_ORDER_MAX_PASSES and not settings.condition_features
        order = "fixed" if few_passes else "random"
    guidance = settings.guidance
    if guidance == "auto":
        guidance = FIXED_ORDER_GUIDANCE if order == "fixed" else 1.0
    return settings.model_copy(update={"column_order": order, "guidance": guidance})


def training_settings(settings: LLMConfig) -> dict[str, Any]:
    """The settings a model's weights depend on: every one but the sampling knobs."""
    return settings.model_dump(mode="json", exclude=SAMPLING_SETTINGS)


def load_or_train(
    key: str,
    codec: RowCodec,
    rows: pd.DataFrame,
    y: np.ndarray,
    settings: LLMConfig,
    show_progress: bool,
    on_step: StepCallback | None = None,
) -> tuple[GeneratorModel, TrainingReport, str]:
    """From this process's memory, then the disk cache, else train and cache."""
    if key in _LOADED:
        generator, report = _LOADED[key]
        return generator, report, "memory"
    entry = Path(settings.cache_dir).expanduser() / key
    source = "disk cache"
    loaded = read_model(entry, codec)
    if loaded is None:
        generator = build_model(codec, settings, settings.train_seed)
        report = train_generator(
            generator, codec, rows, y, settings, settings.train_seed, show_progress, on_step
        )
        merge_lora(generator)
        if PartialState().is_main_process:  # one writer when several processes trained it
            write_model(entry, key, codec, generator, report)
        loaded, source = (generator, report), "trained"
    loaded[0].model.to("cuda" if torch.cuda.is_available() else "cpu")  # a cached model loads on CPU
    _LOADED[key] = loaded
    return loaded[0], loaded[1], source


def write_model(
    entry: Path, key: str, codec: RowCodec, generator: GeneratorModel, report: TrainingReport
) -> None:
    """The weights, tokenizer and training record as one checksummed cache entry."""

    def fill(partial: Path) -> dict[str, Any]:
        generator.model.save_pretrained(partial, safe_serialization=True)
        generator.tokenizer.save_pretrained(partial)
        return {
            "key": key,
            "tokens": codec.tokens,
            "token_ids": generator.token_ids.tolist(),
            "training": {
                "steps": report.steps,
                "seconds": report.seconds,
                "losses": report.losses,
                "holdout_losses": report.holdout_losses,
                "best_step": report.best_step,
            },
        }

    write_checksummed_entry(entry, WEIGHTS_FILE, ENTRY_FILE, CACHE_VERSION, fill)
    mark_cache_version(entry.parent, CACHE_VERSION)


def read_model(entry: Path, codec: RowCodec) -> tuple[GeneratorModel, TrainingReport] | None:
    """None when there is no usable entry: one that is incomplete, fails its checksum, was
    written by another cache version or for other tokens is removed, to be trained again."""
    record = read_checksummed_entry(entry, WEIGHTS_FILE, ENTRY_FILE, CACHE_VERSION)
    if record is None:
        return None
    if record.get("tokens") != codec.tokens:
        discard_entry(entry, "was built for other tokens")
        return None
    try:
        model = AutoModelForCausalLM.from_pretrained(entry).eval()
        tokenizer = AutoTokenizer.from_pretrained(entry)
        training = record["training"]
        report = TrainingReport(
            training["steps"],
            training["seconds"],
            training["losses"],
            [tuple(pair) for pair in training["holdout_losses"]],
            training["best_step"],
        )
        token_ids = torch.tensor(record["token_ids"])
    except (OSError, ValueError, KeyError, TypeError):
        discard_entry(entry, "is incomplete or corrupt")
        return None
    return GeneratorModel(model, tokenizer, token_ids), report
