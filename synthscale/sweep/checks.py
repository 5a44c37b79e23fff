"""Checks that run before a sweep writes anything: the tracking store's reach across nodes
and generator GPU and CPU requests against the cluster (the Ray address: connect.py; the out
dir: layout.py)."""

from __future__ import annotations

import ray

from synthscale.config import ResourcesConfig
from synthscale.errors import SynthscaleError
from synthscale.samplers import sampler_trains_model
from synthscale.sweep.build import builds_per_gpu, generator_resources, largest_node_cpus
from synthscale.sweep.plan import SweepPlan


def check_tracking_reaches_workers(tracking_uri: str | None, address: str | None) -> None:
    """Workers log their own fits: on nodes of more than one machine a local sqlite file would
    split the record across them, so a shared tracking server is required there. Nodes that
    all run on one machine (one address) share its files."""
    if address is None or (tracking_uri or "").startswith(("http://", "https://", "databricks")):
        return
    hosts = {node["NodeManagerAddress"] for node in ray.nodes() if node["Alive"]}
    if len(hosts) > 1:
        raise SynthscaleError(
            f"--address {address}: the cluster's nodes run on {len(hosts)} machines and workers log to "
            "MLflow themselves; pass --tracking-uri http://HOST:5000 (an `mlflow server` every node reaches)"
        )


def check_trial_request(resources: ResourcesConfig) -> None:
    """A trial asking for more CPUs than any node has would wait forever on Ray's
    'insufficient resources' warning."""
    largest = largest_node_cpus()
    if resources.cpus_per_trial > largest:
        raise SynthscaleError(
            f"resources.cpus_per_trial={resources.cpus_per_trial:g}: the largest node of the Ray cluster "
            f"has {largest} CPUs; set resources.cpus_per_trial to at most {largest}"
        )


def check_generator_request(plan: SweepPlan) -> None:
    """Generator tasks or workers asking for GPUs or CPUs the cluster lacks would wait forever."""
    if not any(sampler_trains_model(spec.sampler) for spec in plan.pool_specs):
        return
    if any(spec.sampler == "llm" for spec in plan.pool_specs):
        from synthscale.samplers.llm.model import check_model_reference

        check_model_reference(plan.config.generator.llm.model)
    config = plan.config.resources
    asked = generator_resources(config, min(builds_per_gpu(plan).values()))  # the largest share asked
    cluster = ray.cluster_resources()
    gpus, cpus = cluster.get("GPU", 0), cluster.get("CPU", 0)
    workers = f" x generator_workers={asked.workers}" if asked.workers > 1 else ""
    if asked.gpus * asked.workers > gpus:
        setting = config.generator_gpus if config.generator_gpus != "auto" else f"auto ({asked.gpus:g} each)"
        raise SynthscaleError(
            f"resources.generator_gpus={setting}{workers}: the Ray cluster has {gpus:g} GPU(s); "
            "set resources.generator_gpus=auto (GPUs only when present) or 0, or add GPU nodes"
        )
    largest = largest_node_cpus()
    if asked.cpus > largest or asked.cpus * asked.workers > cpus:
        raise SynthscaleError(
            f"resources.generator_cpus={asked.cpus:g}{workers}: the Ray cluster has {cpus:g} CPUs, at "
            f"most {largest} on one node; lower resources.generator_cpus or generator_workers, or add nodes"
        )
