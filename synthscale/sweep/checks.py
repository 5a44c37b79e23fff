"""Checks that run before a sweep writes anything: the output directory, the Ray address,
the tracking store's reach across nodes, and GPU requests against the cluster."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import ray

from synthscale.errors import SynthscaleError
from synthscale.sweep.plan import SweepPlan, pool_trains_model

RESULTS_FILE = "results.csv"
RAY_PROBE_SECONDS = 5  # an address that does not answer fails within this, not after Ray's retries


def check_out_dir(out_dir: Path) -> None:
    """Refuse a finished sweep's directory or one we cannot create or write, writing nothing."""
    if (out_dir / RESULTS_FILE).exists():
        raise SynthscaleError(
            f"--out {out_dir}: already holds a finished sweep ({RESULTS_FILE}); pass another --out"
        )
    existing = next((p for p in [out_dir, *out_dir.parents] if p.exists()), Path("."))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise SynthscaleError(f"--out {out_dir}: {existing} is not a writable directory; pass another --out")


def check_tracking_reaches_workers(tracking_uri: str | None, address: str | None) -> None:
    """Workers log their own fits: on a multi-node cluster a local sqlite file would split
    the record across nodes, so a shared tracking server is required there."""
    if address is None or (tracking_uri or "").startswith(("http://", "https://", "databricks")):
        return
    nodes = [node for node in ray.nodes() if node["Alive"]]
    if len(nodes) > 1:
        raise SynthscaleError(
            f"--address {address}: the cluster has {len(nodes)} nodes and workers log to MLflow "
            "themselves; pass --tracking-uri http://HOST:5000 (an `mlflow server` every node reaches)"
        )


def check_ray_address(address: str) -> None:
    """A host:port address must accept a connection within seconds; ray.init would retry for
    a minute or more. `auto` is left to Ray, which fails at once when no cluster runs here."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=RAY_PROBE_SECONDS).close()
    except OSError as exc:
        raise SynthscaleError(
            f"--address {address}: nothing answers at {host}:{port} within {RAY_PROBE_SECONDS} s ({exc}); "
            "start the cluster (ray start --head) or check the address"
        ) from exc


def check_gpu_request(plan: SweepPlan) -> None:
    """Generator tasks that ask for GPUs the cluster does not have would wait forever."""
    wanted = plan.config.resources.generator_gpus
    if not wanted or not any(pool_trains_model(spec) for spec in plan.pool_specs):
        return
    available = ray.cluster_resources().get("GPU", 0)
    if available < wanted:
        raise SynthscaleError(
            f"resources.generator_gpus={wanted}: the Ray cluster has {available:g} GPU(s); "
            "set resources.generator_gpus=null (GPUs only when present) or 0, or add GPU nodes"
        )
