"""The llm sampler: training, conditioning, the model cache, sharding, and bad input."""

from __future__ import annotations

import logging
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from synthscale import _io
from synthscale.errors import SynthscaleError
from synthscale.samplers import make_sampler
from synthscale.samplers.llm import sampler as llm_sampler
from synthscale.samplers.llm.model import build_tiny_model
from synthscale.samplers.llm.sample import generate_batches, sample_rows
from synthscale.samplers.llm.serialize import build_codec
from synthscale.samplers.llm.train import train_generator
from synthscale.splits import row_targets


def test_training_loss_falls(craft, small_settings):
    codec = build_codec(craft.features, craft.schema)
    settings = small_settings(max_steps=120, learning_rate=3e-3)
    generator = build_tiny_model(codec, settings, train_seed=0)
    report = train_generator(generator, codec, craft.features, craft.y, settings, train_seed=0)
    assert report.steps == 120 and len(report.losses) == 120
    assert np.mean(report.losses[-10:]) < 0.6 * np.mean(report.losses[:10])


def test_sampled_rows_carry_the_prompted_label(craft, small_settings):
    codec = build_codec(craft.features, craft.schema)
    settings = small_settings()
    generator = build_tiny_model(codec, settings, train_seed=0)
    for y in (0, 1):
        rows, labels, report = sample_rows(generator, codec, codec.prompt(y), 150, settings, 0, f"y{y}")
        assert len(rows) == 150 and (labels == y).all()
        assert report.validity == 1.0 and report.dropped == 0 and report.generated == 150


def test_second_fit_loads_the_cached_model_and_samples_the_same_rows(craft, monkeypatch, small_config):
    targets = row_targets(craft, "imbalance")
    first = make_sampler("llm", small_config()).fit(craft.features, targets, craft.schema)
    assert first.model_source == "trained"
    rows = first.sample(40, "y1", generator_seed=3)
    monkeypatch.setattr(llm_sampler, "_LOADED", {})  # as in a new process
    again = make_sampler("llm", small_config()).fit(craft.features, targets, craft.schema)
    assert again.model_source == "disk cache"
    np.testing.assert_array_equal(again.sample(40, "y1", generator_seed=3).to_numpy(), rows.to_numpy())
    spurious = make_sampler("llm", small_config()).fit(
        craft.features, row_targets(craft, "spurious"), craft.schema
    )
    assert spurious.model_source == "memory"  # the other task reuses the same model


def test_sampling_settings_do_not_retrain(craft, monkeypatch, small_config):
    targets = row_targets(craft, "imbalance")
    make_sampler("llm", small_config()).fit(craft.features, targets, craft.schema)
    monkeypatch.setattr(llm_sampler, "_LOADED", {})
    warmer = make_sampler("llm", small_config(temperature=1.6, top_k=20))
    assert warmer.fit(craft.features, targets, craft.schema).model_source == "disk cache"
    monkeypatch.setattr(llm_sampler, "_LOADED", {})
    longer = make_sampler("llm", small_config(max_steps=11))
    assert longer.fit(craft.features, targets, craft.schema).model_source == "trained"


def test_corrupt_cache_entry_is_retrained_with_a_warning(craft, tmp_path, monkeypatch, caplog, small_config):
    targets = row_targets(craft, "imbalance")
    make_sampler("llm", small_config()).fit(craft.features, targets, craft.schema)
    (weights,) = (tmp_path / "models").glob("*/model.safetensors")
    weights.write_bytes(weights.read_bytes()[:-64] + b"\0" * 64)
    monkeypatch.setattr(llm_sampler, "_LOADED", {})
    with caplog.at_level(logging.WARNING):
        sampler = make_sampler("llm", small_config()).fit(craft.features, targets, craft.schema)
    assert sampler.model_source == "trained"
    assert "is corrupt (its checksum does not match); rebuilding it" in caplog.text
    assert not list((tmp_path / "models").glob("*.partial-*"))


def test_a_model_cache_of_the_previous_format_says_so_once_and_is_retrained(
    craft, tmp_path, monkeypatch, caplog, small_config
):
    old = tmp_path / "models" / "0123456789abcdef0123456789abcdef"  # an entry, without the mark
    old.mkdir(parents=True)
    monkeypatch.setattr(_io, "_VERSIONS_CHECKED", set())
    with caplog.at_level(logging.WARNING):
        sampler = make_sampler("llm", small_config())  # as the sweep's driver makes it
        make_sampler("llm", small_config())
    (warned,) = [r.getMessage() for r in caplog.records]
    assert f"trained generators in {tmp_path / 'models'}" in warned
    assert f"cache version 1, this one reads {llm_sampler.CACHE_VERSION}" in warned
    assert (
        sampler.fit(craft.features, row_targets(craft, "imbalance"), craft.schema).model_source == "trained"
    )
    assert (tmp_path / "models" / "CACHE_VERSION").read_text().strip() == str(llm_sampler.CACHE_VERSION)


def test_target_report_records_validity_and_training(craft, small_config):
    sampler = make_sampler("llm", small_config()).fit(
        craft.features, row_targets(craft, "imbalance"), craft.schema
    )
    sampler.sample(30, "y1", generator_seed=0)
    report = sampler.target_report("y1")
    assert report["validity"] == 1.0 and report["rows_generated"] == 30 and report["rows_dropped"] == 0
    assert report["training_steps"] == 10


SHARD_SCRIPT = """
import pickle, sys
import numpy as np
import torch
from accelerate import PartialState
from synthscale.samplers.llm.sample import generate_batches

torch.set_num_threads(1)
with open(sys.argv[1], "rb") as handle:
    codec, generator, settings = pickle.load(handle)
state = PartialState(cpu=True)
rows = generate_batches(generator, codec, codec.prompt(1), [(b, 32) for b in range(5)], settings, 4, 99, False)
if state.is_main_process:
    np.save(sys.argv[2], np.append(rows.ravel(), state.num_processes))
state.wait_for_everyone()
state.destroy_process_group()  # both ranks leave gloo together: no abort at exit
"""


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def test_two_processes_merge_to_the_rows_of_one(craft, tmp_path, small_settings):
    """Two CPU processes (torchrun; accelerate picks them up): batches split, gathered in order."""
    codec = build_codec(craft.features, craft.schema)
    settings = small_settings()
    generator = build_tiny_model(codec, settings, train_seed=0)
    one = generate_batches(
        generator, codec, codec.prompt(1), [(b, 32) for b in range(5)], settings, 4, 99, False
    )
    (tmp_path / "inputs.pkl").write_bytes(pickle.dumps((codec, generator, settings)))
    (tmp_path / "shard.py").write_text(SHARD_SCRIPT)
    launch = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        free_port(),
    ]
    command = [*launch, str(tmp_path / "shard.py"), str(tmp_path / "inputs.pkl"), str(tmp_path / "two.npy")]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    saved = np.load(tmp_path / "two.npy")
    assert saved[-1] == 2  # really two processes
    np.testing.assert_array_equal(saved[:-1].reshape(one.shape), one)


def test_missing_model_directory_suggests_tiny(craft, tmp_path, small_config):
    config = small_config(model=str(tmp_path / "no-such-model"))
    sampler = make_sampler("llm", config)
    with pytest.raises(
        SynthscaleError, match=r"model directory '.*no-such-model' not found.*llm\.model=tiny"
    ):
        sampler.fit(craft.features, row_targets(craft, "imbalance"), craft.schema)


def test_unreachable_hub_id_offline_names_it_and_suggests_tiny(craft, tmp_path, monkeypatch, small_config):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    sampler = make_sampler("llm", small_config(model="synthscale-tests/not-cached"))
    with pytest.raises(SynthscaleError, match=r"cannot load 'synthscale-tests/not-cached'.*llm\.model=tiny"):
        sampler.fit(craft.features, row_targets(craft, "imbalance"), craft.schema)


def save_small_pretrained(directory, n_positions: int) -> None:
    """A local 'pretrained' model directory: GPT-2 with a word-level tokenizer of its own."""
    words = ["[UNK]", "[EOS]", "is", "X1", "X6", "Target", "0", "1", "-", ".", "2", "3"]
    backend = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    backend.pre_tokenizer = Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", eos_token="[EOS]")
    config = GPT2Config(vocab_size=len(words), n_positions=n_positions, n_embd=32, n_layer=1, n_head=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        GPT2LMHeadModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def test_local_pretrained_model_gets_the_row_tokens_and_samples_valid_rows(craft, tmp_path, small_config):
    save_small_pretrained(tmp_path / "local-model", n_positions=64)
    sampler = make_sampler("llm", small_config(model=str(tmp_path / "local-model")))
    sampler.fit(craft.features, row_targets(craft, "spurious"), craft.schema)
    rows = sampler.sample(50, "a0_y1", generator_seed=0)
    assert len(rows) == 50 and (rows["X6"] == craft.schema.spurious_values[0]).all()
    assert sampler.target_report("a0_y1")["validity"] == 1.0
    tokens = sampler._generator.tokenizer.convert_ids_to_tokens(sampler._generator.token_ids[:3].tolist())
    assert tokens[0].startswith("<|synthscale:")  # the codec's tokens were added to the vocabulary


def test_row_longer_than_the_context_names_both_lengths(craft, tmp_path, small_config):
    save_small_pretrained(tmp_path / "short-model", n_positions=8)
    sampler = make_sampler("llm", small_config(model=str(tmp_path / "short-model")))
    with pytest.raises(
        SynthscaleError, match=r"a serialized row is \d+ tokens, longer than the model's context of 8"
    ):
        sampler.fit(craft.features, row_targets(craft, "imbalance"), craft.schema)


def test_absent_class_is_refused_by_name(craft, small_config):
    targets = row_targets(craft, "imbalance")
    majority = targets == "y0"
    sampler = make_sampler("llm", small_config()).fit(
        craft.features[majority], targets[majority], craft.schema
    )
    with pytest.raises(SynthscaleError, match=r"\(Target=1\) has 0 rows among the rows the sampler may see"):
        sampler.sample(5, "y1", generator_seed=0)


def test_lora_trains_adapters_and_row_tokens_then_merges(craft, tmp_path, small_config):
    pytest.importorskip("peft")
    save_small_pretrained(tmp_path / "base", n_positions=64)
    config = small_config(model=str(tmp_path / "base"), lora_rank=4, max_steps=20, learning_rate=5e-3)
    sampler = make_sampler("llm", config).fit(craft.features, row_targets(craft, "imbalance"), craft.schema)
    losses = sampler.training.losses
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert not hasattr(sampler._generator.model, "peft_config")  # merged into a plain model
    rows = sampler.sample(30, "y1", generator_seed=0)
    assert len(rows) == 30 and sampler.target_report("y1")["validity"] == 1.0


def test_lora_without_peft_names_the_extra(craft, monkeypatch, small_config):
    import builtins

    real_import = builtins.__import__

    def no_peft(name, *args, **kwargs):
        if name == "peft":
            raise ImportError("No module named 'peft'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_peft)
    sampler = make_sampler("llm", small_config(lora_rank=4))
    with pytest.raises(SynthscaleError, match=r"lora_rank=4 needs peft: pip install 'synthscale\[lora\]'"):
        sampler.fit(craft.features, row_targets(craft, "imbalance"), craft.schema)
