"""The generator's language model: `tiny` built from scratch, or a pretrained one.

`tiny` is a GPT-2-architecture model whose vocabulary is the codec's tokens, so it needs no
network and trains on two CPU cores in minutes. A pretrained model (local directory, hub id,
or a GGUF file) keeps its own vocabulary; the codec's tokens are added to it, each new
embedding starting at the mean embedding of its text ("Male", "age", "7") under the model's
own tokenizer, so pretrained knowledge of words and digits carries over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import WhitespaceSplit
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

from synthscale.config import LLMConfig
from synthscale.errors import SynthscaleError
from synthscale.samplers.llm.serialize import BOS, EOS, PAD, RowCodec

log = logging.getLogger(__name__)

TINY = "tiny"
ADDED_TOKEN_PREFIX = "<|synthscale:"  # codec tokens added to a pretrained vocabulary


@dataclass
class GeneratorModel:
    """A causal LM plus where each codec token lives in its vocabulary."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    token_ids: torch.Tensor  # codec token -> model token id

    @property
    def vocab_size(self) -> int:
        return self.model.get_output_embeddings().weight.shape[0]


def build_model(codec: RowCodec, settings: LLMConfig, train_seed: int) -> GeneratorModel:
    """The untrained generator the settings name, checked against the row length."""
    if settings.model == TINY:
        loaded = build_tiny_model(codec, settings, train_seed)
    else:
        loaded = load_pretrained(codec, settings.model)
    check_context(codec, loaded.model, settings.model)
    if settings.lora_rank:
        add_lora(loaded, settings.lora_rank)
    return loaded


def add_lora(generator: GeneratorModel, rank: int) -> None:
    """Wrap the model for LoRA: low-rank adapters on every linear layer, and the embeddings of
    the row tokens (new to a pretrained vocabulary) trained in full."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise SynthscaleError(
            f"generator.llm.lora_rank={rank} needs peft: pip install 'synthscale[lora]' (or set lora_rank=0)"
        ) from exc
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        target_modules="all-linear",
        trainable_token_indices=generator.token_ids.tolist(),
        task_type="CAUSAL_LM",
    )
    generator.model = get_peft_model(generator.model, config)


def merge_lora(generator: GeneratorModel) -> None:
    """Fold trained adapters into the weights: a plain model to cache and sample from."""
    if hasattr(generator.model, "merge_and_unload"):
        generator.model = generator.model.merge_and_unload()


def build_tiny_model(codec: RowCodec, settings: LLMConfig, train_seed: int) -> GeneratorModel:
    """GPT-2 from scratch over the codec's vocabulary, with a context of exactly one row."""
    config = GPT2Config(
        vocab_size=codec.vocab_size,
        n_positions=codec.row_length,
        n_embd=settings.tiny_width,
        n_layer=settings.tiny_layers,
        n_head=settings.tiny_heads,
        **dict.fromkeys(("resid_pdrop", "embd_pdrop", "attn_pdrop"), settings.tiny_dropout),
        activation_function=settings.tiny_activation,
        bos_token_id=codec.bos_id,
        eos_token_id=codec.eos_id,
        pad_token_id=codec.pad_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(train_seed)
        model = GPT2LMHeadModel(config)
    return GeneratorModel(model, codec_tokenizer(codec), torch.arange(codec.vocab_size))


def codec_tokenizer(codec: RowCodec) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over the codec's tokens, saved with the model so that the model
    directory loads with the usual Auto classes."""
    vocab = {token: i for i, token in enumerate(codec.tokens)}
    backend = Tokenizer(WordLevel(vocab=vocab, unk_token=PAD))
    backend.pre_tokenizer = WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=BOS, eos_token=EOS, pad_token=PAD)


def load_pretrained(codec: RowCodec, reference: str) -> GeneratorModel:
    """A local directory, a hub id (from the local Hugging Face cache when offline), or a
    .gguf file; the codec's tokens are added to its vocabulary."""
    tokenizer, model = _load_weights(reference)
    embeddings = model.get_input_embeddings().weight.detach()
    starts = []
    for text in codec.texts:
        pieces = tokenizer(text or tokenizer.eos_token or " ", add_special_tokens=False)["input_ids"]
        starts.append(embeddings[pieces].mean(dim=0) if pieces else embeddings.mean(dim=0))
    added = [f"{ADDED_TOKEN_PREFIX}{token}|>" for token in codec.tokens]
    tokenizer.add_tokens(added, special_tokens=True)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    token_ids = torch.tensor(tokenizer.convert_tokens_to_ids(added))
    with torch.no_grad():
        model.get_input_embeddings().weight[token_ids] = torch.stack(starts)
        output = model.get_output_embeddings()
        if output is not None and output.weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
            output.weight[token_ids] = torch.stack(starts)
    model.config.pad_token_id = int(token_ids[codec.pad_id])
    return GeneratorModel(model, tokenizer, token_ids)


def check_model_reference(reference: str) -> None:
    """A .gguf file or a model directory that is not there: refused before a sweep starts
    (inside a pool-building task it would surface as a Ray traceback, the out dir half made)."""
    if reference == "tiny":
        return
    path = Path(reference).expanduser()
    if path.suffix == ".gguf" and not path.is_file():
        raise SynthscaleError(f"llm.model: GGUF file {reference!r} not found; or use llm.model=tiny")
    if path.suffix != ".gguf" and _looks_like_path(reference) and not path.exists():
        raise SynthscaleError(
            f"llm.model: model directory {reference!r} not found; pass an existing directory, "
            "a hub id, or llm.model=tiny (built from scratch, no download)"
        )


def _load_weights(reference: str) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    check_model_reference(reference)
    path = Path(reference).expanduser()
    if path.suffix == ".gguf":
        source, extra = str(path.parent), {"gguf_file": path.name}
    else:
        source, extra = (str(path) if path.exists() else reference), {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **extra)
        model = AutoModelForCausalLM.from_pretrained(source, **extra)
    except (OSError, ValueError, ImportError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SynthscaleError(
            f"llm.model: cannot load {reference!r} ({reason}); a hub id needs the network or a copy "
            "in the local Hugging Face cache; pass a local model directory, or use llm.model=tiny"
        ) from exc
    if extra:  # GGUF weights arrive dequantized; a plain copy can be fine-tuned and saved
        plain = AutoModelForCausalLM.from_config(model.config)
        plain.load_state_dict(model.state_dict())
        model = plain
    return tokenizer, model


def _looks_like_path(reference: str) -> bool:
    return reference.startswith((".", "/", "~")) or reference.count("/") > 1


def check_context(codec: RowCodec, model: PreTrainedModel, reference: str) -> None:
    """A row must fit the model's context, or generation would be cut mid-row."""
    limit = getattr(model.config, "n_positions", None) or getattr(
        model.config, "max_position_embeddings", None
    )
    if limit is not None and codec.row_length > limit:
        raise SynthscaleError(
            f"llm.model={reference}: a serialized row is {codec.row_length} tokens, longer than the "
            f"model's context of {limit}; drop columns or choose a model with a longer context"
        )
