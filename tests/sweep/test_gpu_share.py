"""resources.generator_gpus: auto resolves to the explicit settings it stands for: no GPU on a
cluster without GPUs, a quarter of one for a small model (the tiny LLM, ctgan, tvae, great's
tiny GPT-2) and a whole one for any other on a cluster with GPUs; an explicit number always wins."""

from __future__ import annotations

import pytest

from synthscale.config import validate_config
from synthscale.errors import SynthscaleError
from synthscale.samplers import make_sampler
from synthscale.sweep import build as build_module
from synthscale.sweep.build import generator_resources
from synthscale.sweep.workers import WorkerResources


def cluster(monkeypatch, gpus: float, cpus: int = 16) -> None:
    """A pretend Ray cluster of one node with these resources."""
    monkeypatch.setattr(build_module.ray, "cluster_resources", lambda: {"CPU": cpus, "GPU": gpus})
    monkeypatch.setattr(build_module, "largest_node_cpus", lambda: cpus)


def resources(**settings):
    return validate_config({"resources": settings}).resources


def test_auto_is_the_default_and_null_names_it():
    assert resources().generator_gpus == "auto"
    with pytest.raises(SynthscaleError, match="write auto \\(the default\\) or a number of GPUs"):
        resources(generator_gpus=None)


@pytest.mark.parametrize(
    ("sampler", "generator", "builds"),
    [
        ("llm", {}, 4),
        ("llm", {"llm": {"model": "gpt2"}}, 1),
        ("ctgan", {}, 4),
        ("tvae", {}, 4),
        ("great", {}, 4),
        ("great", {"peers": {"great_model": "distilgpt2"}}, 1),
        ("smote", {}, 1),  # no model, no GPU asked
    ],
)
def test_each_sampler_says_how_many_of_its_builds_share_a_gpu(sampler, generator, builds, tmp_path):
    if sampler in ("ctgan", "tvae", "great"):
        pytest.importorskip("ctgan" if sampler != "great" else "be_great")
    config = validate_config(
        {"generator": {**generator, "llm": {**generator.get("llm", {}), "cache_dir": str(tmp_path)}}}
    )
    assert make_sampler(sampler, config.generator).builds_per_gpu == builds


@pytest.mark.parametrize(
    ("gpus", "model", "settings", "expected"),
    [
        (0, "tiny", {}, WorkerResources(1, 16, 0.0)),  # no GPUs: a whole node's CPUs, as before
        (0, "gpt2", {"generator_workers": 2}, WorkerResources(2, 8, 0.0)),
        (1, "tiny", {}, WorkerResources(1, 1, 0.25)),  # four tiny builds share a GPU
        (8, "tiny", {"generator_workers": 2}, WorkerResources(2, 1, 0.25)),
        (1, "gpt2", {}, WorkerResources(1, 1, 1.0)),  # a hub model has the GPU to itself
        (1, "tiny", {"generator_gpus": 1}, WorkerResources(1, 1, 1.0)),  # explicit wins
        (1, "tiny", {"generator_gpus": 0}, WorkerResources(1, 16, 0.0)),
        (1, "tiny", {"generator_cpus": 4}, WorkerResources(1, 4, 0.25)),
    ],
)
def test_auto_resolves_by_the_cluster_and_the_model(monkeypatch, gpus, model, settings, expected, tmp_path):
    cluster(monkeypatch, gpus)
    llm = validate_config({"generator": {"llm": {"model": model, "cache_dir": str(tmp_path)}}}).generator
    builds = make_sampler("llm", llm).builds_per_gpu
    assert generator_resources(resources(**settings), builds) == expected


SHARES_SCRIPT = """
import json, pickle, sys
from pathlib import Path

import ray

from synthscale.config import validate_config
from synthscale.samplers import make_sampler
from synthscale.sweep.build import build_pools, generator_resources
from synthscale.sweep.plan import plan_sweep

ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
sweep, root = json.loads(sys.argv[1]), Path(sys.argv[2])
built = {}
for share in sys.argv[3:]:
    llm = {**sweep["generator"]["llm"], "cache_dir": str(root / f"models-{share}")}
    resources = {"generator_gpus": share if share == "auto" else float(share), "generator_cpus": 1}
    config = validate_config({**sweep, "generator": {**sweep["generator"], "llm": llm}, "resources": resources})
    plan = plan_sweep(config)
    asked = generator_resources(config.resources, make_sampler("llm", config.generator).builds_per_gpu)
    pools = build_pools(plan, root / f"pools-{share}")
    built[share] = (asked.gpus, {str(slot): pool.rows for slot, pool in pools.items()})
with open(root / "built.pkl", "wb") as handle:
    pickle.dump(built, handle)
"""


@pytest.mark.slow  # a Ray of its own with a pretend GPU, four small trainings: about 40 s
def test_pools_are_the_same_whatever_share_of_a_gpu_each_build_asks(tmp_path):
    """On a Ray node that declares one GPU (a pretend one: torch finds none, so each build runs
    on its CPU), builds asking auto (a quarter), half, all or none of it train and sample the
    very same rows: the share decides only where a build runs and beside how many others."""
    import json
    import pickle
    import subprocess
    import sys

    import pandas as pd

    sweep = {
        "dataset": {"name": "craft", "craft_rows": 1000},
        "split": {"seed_size": 40},
        "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0], "ratio": {"ks": [2]}},
        "methods": ["llm"],
        "generator": {
            "diagnostics": False,
            "llm": {"tiny_layers": 1, "tiny_width": 32, "tiny_heads": 2, "max_steps": 10},
        },
    }
    shares = ["auto", "0.5", "1", "0"]
    done = subprocess.run(
        [sys.executable, "-c", SHARES_SCRIPT, json.dumps(sweep), str(tmp_path), *shares],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp_path / "built.pkl", "rb") as handle:
        built = pickle.load(handle)
    assert [built[share][0] for share in shares] == [0.25, 0.5, 1.0, 0.0]  # what each build asked
    first = built["auto"][1]
    assert first and all(len(rows) == 1 for rows in first.values())
    for share in shares[1:]:
        assert built[share][1].keys() == first.keys()
        for slot, rows in first.items():
            for target, frame in rows.items():
                pd.testing.assert_frame_equal(built[share][1][slot][target], frame)
