"""Checks that run before a sweep writes anything: the tracking store's reach across nodes
and GPU requests against the cluster (the Ray address: connect.py; the out dir: layout.py)."""

from __future__ import annotations

import ray

from synthscale.errors import SynthscaleError
from synthscale.samplers import sampler_trains_model
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


def check_gpu_request(plan: SweepPlan) -> None:
    """Generator tasks that ask for GPUs the cluster does not have would wait forever."""
    wanted = plan.config.resources.generator_gpus
    if not wanted or not any(sampler_trains_model(spec.sampler) for spec in plan.pool_specs):
        return
    available = ray.cluster_resources().get("GPU", 0)
    if available < wanted:
        raise SynthscaleError(
            f"resources.generator_gpus={wanted}: the Ray cluster has {available:g} GPU(s); "
            "set resources.generator_gpus=null (GPUs only when present) or 0, or add GPU nodes"
        )
