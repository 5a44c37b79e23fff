"""cluster/: the configs parse, ask for GPUs where the generator runs, and track the Ray we test."""

from __future__ import annotations

from pathlib import Path

import ray
import yaml

CLUSTER = Path(__file__).resolve().parents[1] / "cluster"


def test_ray_up_config_has_cpu_and_gpu_workers_on_the_tested_ray():
    config = yaml.safe_load((CLUSTER / "ray-cluster.yaml").read_text())
    types = config["available_node_types"]
    assert config["head_node_type"] in types
    assert types["gpu_worker"]["resources"]["GPU"] >= 1 and "GPU" not in types["cpu_worker"]["resources"]
    assert f"ray:{ray.__version__}-" in config["docker"]["image"]


def test_kuberay_manifest_has_a_gpu_group_and_the_tested_ray():
    manifest = yaml.safe_load((CLUSTER / "kuberay.yaml").read_text())
    assert manifest["kind"] == "RayCluster" and manifest["spec"]["rayVersion"] == ray.__version__
    groups = {g["groupName"]: g for g in manifest["spec"]["workerGroupSpecs"]}
    gpu_limits = groups["gpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert gpu_limits["nvidia.com/gpu"] == "1"
    assert "nvidia.com/gpu" not in groups["cpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]


def test_every_ray_start_of_the_ray_up_config_uses_the_mounted_token():
    """Ray sends a token only with RAY_AUTH_MODE=token; a node started without it cannot join."""
    config = yaml.safe_load((CLUSTER / "ray-cluster.yaml").read_text())
    token_path = next(path for path, source in config["file_mounts"].items() if source == "~/.ray/auth_token")
    starts = [
        c for c in config["head_start_ray_commands"] + config["worker_start_ray_commands"] if "ray start" in c
    ]
    assert len(starts) == 2
    assert all(f"RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={token_path} ray start" in c for c in starts)


def test_kuberay_turns_token_authentication_on():
    assert yaml.safe_load((CLUSTER / "kuberay.yaml").read_text())["spec"]["authOptions"] == {"mode": "token"}
