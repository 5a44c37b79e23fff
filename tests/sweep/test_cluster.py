"""A sweep on a two-node local Ray cluster, logging to a real `mlflow server`, surviving a
killed worker: counts checked through the server's REST API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
import yaml

from synthscale.config import load_config
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.layout import OutDir

CLUSTER_SCRIPT = """
import sys
from ray.cluster_utils import Cluster

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
cluster.add_node(num_cpus=1)
cluster.wait_for_nodes()
print(cluster.address, flush=True)
sys.stdin.read()  # until the test closes our stdin
cluster.shutdown()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not come up in {seconds} s")


@pytest.fixture
def mlflow_server(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--default-artifact-root", str(tmp_path / "server-artifacts"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 90)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture
def two_node_cluster():
    """A cluster without authentication, whatever token this machine or an earlier test left."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")},
        "RAY_AUTH_MODE": "disabled",
    }
    helper = subprocess.Popen(
        [sys.executable, "-c", CLUSTER_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        address = helper.stdout.readline().strip()
        assert address, "the local cluster did not start"
        yield address
    finally:
        helper.stdin.close()
        helper.wait(timeout=60)


def kill_one_trial_worker(fits_dir, sweep: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL one Tune trial actor once the first batch is recorded; True if one was killed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and sweep.poll() is None:
        if fits_dir.is_dir() and any(fits_dir.glob("*.json")):
            found = subprocess.run(["pgrep", "-f", "ray::ImplicitFunc"], capture_output=True, text=True)
            pids = [int(p) for p in found.stdout.split()]
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                return True
        time.sleep(0.1)
    return False


def search_child_runs(server: str, experiment_id: str) -> list[dict]:
    runs, token = [], None
    while True:
        body = {
            "experiment_ids": [experiment_id],
            "max_results": 1000,
            **({"page_token": token} if token else {}),
        }
        page = requests.post(f"{server}/api/2.0/mlflow/runs/search", json=body, timeout=30).json()
        runs += page.get("runs", [])
        token = page.get("next_page_token")
        if not token:
            return runs


@pytest.mark.slow
def test_two_node_sweep_logs_exactly_to_a_tracking_server_despite_a_killed_worker(
    tmp_path, mlflow_server, two_node_cluster, many_batch_sweep
):
    sweep_file = tmp_path / "sweep.yaml"
    retried = {**many_batch_sweep, "name": "cluster", "resources": {"fits_per_trial": 4, "max_failures": 2}}
    sweep_file.write_text(yaml.safe_dump(retried))
    out_dir = tmp_path / "out"
    command = [sys.executable, "-m", "synthscale", "run", str(sweep_file), "--out", str(out_dir), "--no-progress",
               "--address", two_node_cluster, "--tracking-uri", mlflow_server]  # fmt: skip
    # a Ray token on this machine (any local ray.init leaves one) and a cluster without
    # authentication: the driver must not switch to token mode, or no trial actor ever starts
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")},
        "RAY_AUTH_TOKEN": "local-token",
    }
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    killed = kill_one_trial_worker(OutDir(out_dir).fits, sweep, seconds=240)
    stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, stderr[-3000:]
    assert killed, "no trial worker was running to kill"

    grid_keys = sorted(g.key for g in expand_grid(load_config(sweep_file), "craft"))
    experiment = requests.get(
        f"{mlflow_server}/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": "synthscale"},
        timeout=30,
    ).json()["experiment"]
    runs = search_child_runs(mlflow_server, experiment["experiment_id"])
    tags = [{t["key"]: t["value"] for t in run["data"].get("tags", [])} for run in runs]
    children = [t["synthscale.grid_key"] for t, run in zip(tags, runs, strict=True)
                if "synthscale.grid_key" in t and run["info"]["status"] == "FINISHED"]  # fmt: skip
    assert sorted(children) == grid_keys  # one finished child run per fit, none twice
    parents = [run for t, run in zip(tags, runs, strict=True) if "synthscale.grid_key" not in t]
    assert len(parents) == 1 and parents[0]["info"]["status"] == "FINISHED"
