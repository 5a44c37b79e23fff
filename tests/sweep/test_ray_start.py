"""The path every cluster user takes: a head and a worker started with the `ray` CLI (token
authentication on, as Ray turns it on), then `synthscale run --address`. On 127.0.0.1, with
free ports and the cluster's own temp dir, so stopping it touches no other Ray on the machine."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from synthscale.cli import EXIT_USER_ERROR
from synthscale.config import load_config
from synthscale.sweep.grid import expand_grid

RAY_CLI = Path(sys.executable).with_name("ray")
TINY = {
    "name": "ray-start",
    "dataset": {"name": "craft", "craft_rows": 2000},
    "split": {"seed_size": 200},
    "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0], "ratio": {"ks": [0, 2, 4]}},
    "methods": ["raw", "smote"],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cluster_pids(temp_dir: str) -> set[int]:
    """Every process of this cluster: those whose command line or environment names its temp
    dir (Ray's agents retitle themselves, but inherit the token path) and their descendants."""
    parents, marked = {}, set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if any(temp_dir.encode() in (proc / part).read_bytes() for part in ("cmdline", "environ")):
                marked.add(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue
    grown = True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in marked} - marked
        marked |= children
        grown = bool(children)
    return marked


def stop_cluster(temp_dir: str) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in cluster_pids(temp_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while cluster_pids(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.2)


@pytest.fixture
def ray_start_cluster():
    """(address, token file): `ray start --head` and one `ray start --address` worker, each with
    one CPU, token authentication on; stopped whatever happens."""
    if not RAY_CLI.exists():
        pytest.skip(f"no ray CLI beside {sys.executable}")
    temp_dir = tempfile.mkdtemp(prefix="ss-ray-", dir="/tmp")  # short: Ray's socket paths live in it
    token = Path(temp_dir) / "token"
    token.write_text(f"synthscale-test-{os.getpid()}-{time.time_ns()}")
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    port = free_port()
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    head = [str(RAY_CLI), "start", "--head", "--port", str(port), "--include-dashboard=false",
            "--temp-dir", temp_dir, *common]  # fmt: skip
    worker = [str(RAY_CLI), "start", "--address", f"127.0.0.1:{port}", *common]
    try:
        for command in (head, worker):
            started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            assert started.returncode == 0, started.stderr[-2000:]
        yield f"127.0.0.1:{port}", token
    finally:
        stop_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


def run_sweep(
    sweep_file: Path, out_dir: Path, address: str, **env: str
) -> tuple[subprocess.CompletedProcess, float]:
    """`synthscale run --address` with the auth variables of this environment replaced by `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    command = [sys.executable, "-m", "synthscale", "run", str(sweep_file), "--out", str(out_dir),
               "--no-progress", "--address", address]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, env={**clean, **env}, capture_output=True, text=True, timeout=600)
    return done, time.monotonic() - started


@pytest.mark.slow
def test_a_sweep_runs_on_a_token_authenticated_ray_start_cluster(tmp_path, ray_start_cluster):
    address, token = ray_start_cluster
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump(TINY))

    # the token where Ray looks for it and RAY_AUTH_MODE unset: synthscale sends it, as Ray does for `auto`
    done, _ = run_sweep(sweep_file, tmp_path / "out", address, RAY_AUTH_TOKEN_PATH=str(token))
    assert done.returncode == 0, done.stderr[-3000:]
    grid_keys = sorted(g.key for g in expand_grid(load_config(sweep_file), "craft"))
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(results) == len(grid_keys) == 6 and results["minority_ce"].notna().all()
    # both nodes run on 127.0.0.1, so the default sqlite store under --out is every worker's
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'out' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("synthscale")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    children = sorted(
        r.data.tags["synthscale.grid_key"] for r in runs if "synthscale.grid_key" in r.data.tags
    )
    assert children == grid_keys and all(r.info.status == "FINISHED" for r in runs)

    # a wrong token: one line that says so, fast, nothing written
    done, seconds = run_sweep(sweep_file, tmp_path / "wrong", address, RAY_AUTH_TOKEN="not-the-token")
    assert done.returncode == EXIT_USER_ERROR and seconds < 30
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        f"error: --address {address}: the cluster refused the Ray auth token from $RAY_AUTH_TOKEN"
    )
    assert not (tmp_path / "wrong").exists()
