"""resources.generator_gpus: auto resolves to the explicit settings it stands for: no GPU on a
cluster without GPUs, a quarter of one for the tiny model and a whole one for any other on a
cluster with GPUs; an explicit number always wins."""

from __future__ import annotations

import pytest

from synthscale.config import validate_config
from synthscale.errors import SynthscaleError
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
def test_auto_resolves_by_the_cluster_and_the_model(monkeypatch, gpus, model, settings, expected):
    cluster(monkeypatch, gpus)
    assert generator_resources(resources(**settings), model) == expected
