"""`generator:`: the samplers' settings, the LLM's and the peers'."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from synthscale.config.common import DATA_ACCESSES, MAX_SEED, DataAccess, Section
from synthscale.errors import did_you_mean


class LLMConfig(Section):
    model: str = Field(
        "tiny",
        description="tiny (GPT-2 built from scratch), a local model directory, a hub id, or a .gguf file",
    )
    # small, one-kernel GELU and no dropout: a step's cost is the rows it processes times the
    # model's size, and on CPU dropout's masks are a large share of a step (measured in bench/RESULTS.md)
    tiny_layers: int = Field(2, gt=0, description="tiny: transformer layers")
    tiny_width: int = Field(96, gt=0, description="tiny: embedding width (a multiple of tiny_heads)")
    tiny_heads: int = Field(4, gt=0, description="tiny: attention heads")
    tiny_dropout: float = Field(
        0.0, ge=0, lt=1, description="tiny: dropout of embeddings, attention and residuals (GPT-2's: 0.1)"
    )
    # GPT-2's tanh approximation as one kernel: gelu_new computes it in Python-level ops
    tiny_activation: Literal["gelu_pytorch_tanh", "gelu_new", "gelu", "relu"] = Field(
        "gelu_pytorch_tanh",
        description="tiny: activation of the MLP blocks (gelu_pytorch_tanh = GPT-2's gelu_new in one kernel)",
    )
    epochs: float = Field(400, gt=0, description="passes over the visible rows (capped by max_steps)")
    max_steps: int = Field(1500, gt=0, description="most optimizer steps of fine-tuning")
    holdout_share: float = Field(
        0.0,
        ge=0,
        lt=0.5,
        description="share of the visible rows (per class) held out to stop training once their loss "
        "stops falling, keeping the best step's weights (e.g. 0.1); 0: train every step",
    )
    eval_every: int = Field(50, gt=0, description="steps between evaluations of the held-out loss")
    patience: int = Field(
        4, gt=0, description="evaluations without a new best held-out loss before training stops"
    )
    interpolated_rows: float = Field(
        2.0,
        ge=0,
        description="SMOTE rows added to the training rows per real row of each class, between "
        "near neighbours (generator.k_neighbors) of that class; they teach the model each class's "
        "joint structure from a small seed set (0: real rows only)",
    )
    column_order: Literal["auto", "random", "fixed"] = Field(
        "auto",
        description="order of the feature columns in training rows: random per row (any column "
        "can be conditioned on, and a model that sees each row many times copies less), fixed, the "
        "table's own (a column is learned as a function of those before it, e.g. a product), or "
        "auto: fixed when training passes over its rows at most 10 times (a large table), else random",
    )
    learning_rate: float = Field(1e-3, gt=0, description="peak AdamW learning rate (cosine decay)")
    batch_size: int = Field(
        64,
        gt=0,
        description="rows per training step, all processes together (each of W trains on batch_size/W)",
    )
    minority_share: float = Field(
        0.5, gt=0, lt=1, description="share of each training batch drawn from the minority class"
    )
    temperature: float = Field(
        1.5,
        gt=0,
        description="sampling temperature; above 1 widens the rows of a model trained on a small "
        "seed set, which keeps them further from the rows it saw (bench/RESULTS.md)",
    )
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling mass (1: off)")
    top_k: int = Field(0, ge=0, description="sample among the k likeliest tokens (0: off)")
    guidance: Annotated[float, Field(ge=1.0)] | Literal["auto"] = Field(
        "auto",
        description="label guidance: each token's log-probability is pushed away from what the "
        "same prompt with the other label predicts, by this factor: rows more typical of their "
        "class (1: off; above 1 doubles the sampling cost); auto: 1.5 for a model trained in "
        "fixed column order, else 1",
    )
    condition_features: int = Field(
        0,
        ge=0,
        description="feature values each prompt copies from a random real row of the target, "
        "the model writing the rest (0: the prompt is the label, and the attribute, alone)",
    )
    max_rows_per_batch: Annotated[int, Field(gt=0)] | Literal["auto"] = Field(
        "auto",
        description="rows generated per batch (per process); the batch index seeds its rows, so another "
        "size draws other rows; auto: 512 on a CPU, on a GPU as many as a fifth of its free memory "
        "holds (KV cache and logits), a power of two up to 16384",
    )
    lora_rank: int = Field(
        0,
        ge=0,
        description="0: fine-tune every weight; r > 0: LoRA of rank r (needs peft) plus the row tokens",
    )
    train_seed: int = Field(
        0, ge=0, le=MAX_SEED, description="seed of initialisation, batches and column orders"
    )
    bf16: bool | Literal["auto"] = Field(
        "auto",
        description="bf16 mixed precision on GPU (ignored on CPU); auto: fp32 for the tiny model, too "
        "small for bf16's matrix units to pay for the casts (fp32 was faster on an H200), bf16 for any other",
    )
    cache_dir: str = Field(
        "~/.cache/synthscale/models", description="trained generators, reused by every later sweep"
    )

    @model_validator(mode="after")
    def _heads_divide_width(self) -> LLMConfig:
        if self.tiny_width % self.tiny_heads:
            raise ValueError(
                f"llm.tiny_width={self.tiny_width} is not a multiple of llm.tiny_heads={self.tiny_heads}"
            )
        if self.condition_features and self.column_order == "fixed":
            raise ValueError(
                f"llm.condition_features={self.condition_features} copies feature columns in a random "
                "order, which a model trained with llm.column_order=fixed never saw; set "
                "llm.column_order=random or llm.condition_features=0"
            )
        return self

    def bf16_on_gpu(self) -> bool:
        """Whether training and sampling on a GPU use bf16 (`bf16` with auto decided)."""
        return self.model != "tiny" if self.bf16 == "auto" else self.bf16


class PeersConfig(Section):
    """The peer generators of other libraries (ctgan, tvae, great): installed apart, see the README."""

    epochs: int = Field(300, gt=0, description="training epochs (ctgan's default: 300)")
    batch_size: int = Field(
        500, gt=0, multiple_of=10, description="rows per training step (a multiple of CTGAN's pac, 10)"
    )
    train_seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the training's random draws")
    max_rounds: int = Field(
        50,
        gt=0,
        description="sampling budget per target, in rounds of max(n, 256) rows: a generator that "
        "cannot be conditioned draws rows and keeps the target's; it fails once the acceptance "
        "so far says the budget cannot make the rest",
    )
    great_model: str = Field(
        "tiny",
        description="great: tiny (GPT-2 from scratch at llm.tiny_* size, BPE tokenizer of the rows' "
        "text), a local model directory or a hub id (the paper: distilgpt2)",
    )
    # 600 steps of 32 rows: the length bench/generator.py compares with the LLM's
    great_steps: int = Field(600, gt=0, description="great: optimizer steps of fine-tuning")
    great_batch_size: int = Field(32, gt=0, description="great: rows per training step")
    great_learning_rate: float = Field(1e-3, gt=0, description="great: AdamW learning rate (1e-3 suits tiny)")
    great_temperature: float = Field(0.7, gt=0, description="great: sampling temperature (GReaT's 0.7)")
    great_float_digits: int | None = Field(
        3, ge=0, description="great: decimals a float keeps in the row's text (null: all)"
    )


class GeneratorConfig(Section):
    data_access: DataAccess | list[DataAccess] = Field(
        "seed",
        description="rows a generator may see: seed (the seed set), train (all training rows), "
        "or a list of both (one more grid axis)",
    )
    k_neighbors: int = Field(5, gt=0, description="neighbours for smote and adasyn")
    diagnostics: bool = Field(
        True, description="score every pool against the real rows (detection AUC, distances)"
    )
    on_failure: Literal["stop", "record"] = Field(
        "stop",
        description="a sampler that cannot make a target's rows on one table (e.g. a peer that never "
        "draws the minority): stop the sweep, or record the failure in the fits that needed the "
        "rows (results.csv column failure, metrics empty) and go on",
    )
    llm: LLMConfig = LLMConfig()
    peers: PeersConfig = PeersConfig()

    @field_validator("data_access", mode="before")
    @classmethod
    def _known_accesses(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ValueError("list at least one of seed, train")
        for access in values:
            if access not in DATA_ACCESSES:
                hint = did_you_mean(str(access), DATA_ACCESSES)
                raise ValueError(f"unknown data access {access!r}{hint}; use seed, train or [train, seed]")
        if len(set(values)) < len(values):
            raise ValueError(f"{values} lists an access twice; list each once")
        return value

    def data_accesses(self) -> list[str]:
        """The accesses the grid runs over, in the order given."""
        return list(self.data_access) if isinstance(self.data_access, list) else [self.data_access]
