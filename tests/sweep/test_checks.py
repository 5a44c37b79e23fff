"""Fail fast, write nothing: unreachable Ray or MLflow, GPUs or CPUs the cluster lacks."""

from __future__ import annotations

import socket
import time

import yaml

from synthscale.cli import EXIT_USER_ERROR, main

SMALL = {
    "name": "checks",
    "dataset": {"name": "craft", "craft_rows": 1000},
    "split": {"seed_size": 40},
    "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0], "ratio": {"ks": [0, 1]}},
    "methods": ["raw", "llm"],
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


def run_and_time(tmp_path, capsys, *extra: str) -> tuple[int, str, float]:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump(SMALL))
    started = time.monotonic()
    code = main(["run", str(sweep), "--out", str(tmp_path / "out"), "--no-progress", *extra])
    return code, capsys.readouterr().err, time.monotonic() - started


def test_unreachable_tracking_server_fails_before_anything_is_written(tmp_path, capsys):
    uri = f"http://127.0.0.1:{closed_port()}"
    code, error, seconds = run_and_time(tmp_path, capsys, "--tracking-uri", uri)
    assert code == EXIT_USER_ERROR and seconds < 30
    assert f"MLflow server {uri} did not answer within 5 s" in error
    assert not (tmp_path / "out").exists()


def test_unreachable_ray_address_fails_in_bounded_time(tmp_path, capsys):
    address = f"127.0.0.1:{closed_port()}"
    code, error, seconds = run_and_time(tmp_path, capsys, "--address", address)
    assert code == EXIT_USER_ERROR and seconds < 30
    assert f"--address {address}: nothing answers" in error
    assert not (tmp_path / "out").exists()


def test_gpus_the_cluster_lacks_are_refused_before_the_sweep_starts(ray_local, tmp_path, capsys):
    code, error, _ = run_and_time(tmp_path, capsys, "--set", "resources.generator_gpus=1")
    assert code == EXIT_USER_ERROR
    assert "resources.generator_gpus=1.0: the Ray cluster has 0 GPU(s)" in error
    assert not (tmp_path / "out").exists()


def test_generator_workers_the_cluster_cannot_seat_are_refused(ray_local, tmp_path, capsys):
    code, error, _ = run_and_time(tmp_path, capsys, "--set", "resources.generator_workers=4")
    assert code == EXIT_USER_ERROR
    assert "resources.generator_cpus=1 x generator_workers=4: the Ray cluster has 2 CPUs" in error
    assert not (tmp_path / "out").exists()


def test_a_batch_that_does_not_split_over_the_workers_is_refused(tmp_path, capsys):
    code, error, _ = run_and_time(tmp_path, capsys, "--set", "resources.generator_workers=3")
    assert code == EXIT_USER_ERROR
    assert "generator.llm.batch_size=64 rows per step do not split evenly over" in error
    assert "resources.generator_workers=3; set batch_size to a multiple of 3" in error


def test_a_generator_task_larger_than_any_node_is_refused(ray_local, tmp_path, capsys):
    code, error, _ = run_and_time(tmp_path, capsys, "--set", "resources.generator_cpus=3")
    assert code == EXIT_USER_ERROR
    assert "resources.generator_cpus=3: the Ray cluster has 2 CPUs, at most 2 on one node" in error


def test_a_gpu_setting_without_an_llm_is_not_an_error(ray_local, tmp_path, capsys):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump({**SMALL, "methods": ["raw", "smote"], "generator": {"diagnostics": False}})
    )
    args = [
        "run",
        str(sweep),
        "--out",
        str(tmp_path / "out"),
        "--no-progress",
        "--set",
        "resources.generator_gpus=1",
    ]
    assert main(args) == 0
