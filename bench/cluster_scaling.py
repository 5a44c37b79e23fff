"""One sweep grid on a one-node local Ray cluster, then on a two-node one, the CPUs split.

Both clusters are `ray.cluster_utils.Cluster` on this machine with `--cpus-per-node` CPUs per
node (default 1): the two-node run has twice the CPUs, spread over two raylets, so the speedup
measures how well trials spread across nodes (target >= 1.7x). Each run is a fresh sweep into a
fresh directory (pools, MLflow store, trials) after one warm-up on the one-node cluster.

usage: python bench/cluster_scaling.py [sweeps/quickstart.yaml] [--cpus-per-node 1] [--set k=v ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import ray
from common import CLASSIC_METHODS
from ray.cluster_utils import Cluster

from synthscale.config import load_config
from synthscale.sweep.runner import run_sweep


def timed_sweep(config, nodes: int, cpus_per_node: int, out_dir: Path) -> float:
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": cpus_per_node, "include_dashboard": False}
    )
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=cpus_per_node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, logging_level="ERROR", log_to_driver=False)
    try:
        started = time.perf_counter()
        run_sweep(config, out_dir, show_progress=False)
        return time.perf_counter() - started
    finally:
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sweep", nargs="?", default="sweeps/quickstart.yaml")
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    config = load_config(args.sweep, [CLASSIC_METHODS, *args.overrides])
    root = Path(tempfile.mkdtemp(prefix="synthscale-scaling-"))
    warm = load_config(
        args.sweep, [CLASSIC_METHODS, *args.overrides, "experiment.seeds=[0]", "experiment.tasks=[imbalance]"]
    )
    timed_sweep(warm, 1, args.cpus_per_node, root / "warmup")
    one = timed_sweep(config, 1, args.cpus_per_node, root / "one-node")
    two = timed_sweep(config, 2, args.cpus_per_node, root / "two-nodes")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; {args.cpus_per_node} CPU(s) per node; grid {args.sweep}"
    )
    print(f"1 node : {one:7.1f} s")
    print(f"2 nodes: {two:7.1f} s")
    print(f"speedup 1 -> 2 nodes: {one / two:.2f}x (target >= 1.7x)")


if __name__ == "__main__":
    main()
