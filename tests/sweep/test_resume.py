"""Resume: a sweep whose driver is killed mid-run is finished by `run --resume`, exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pandas as pd
import pytest
import yaml

from synthscale.cli import EXIT_USER_ERROR, main
from synthscale.config import SweepConfig, load_config
from synthscale.sweep.grid import expand_grid
from synthscale.sweep.layout import OutDir
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.tracking import GRID_KEY_TAG, SweepTracker


def kill_when_batches_finished(command: list[str], fits_dir, at_least: int, timeout: float) -> None:
    """Start the sweep in its own process group; SIGKILL the group (driver and its embedded
    Ray) once `at_least` batches have been recorded."""
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fits_dir.is_dir() and len(list(fits_dir.glob("*.json"))) >= at_least:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None:
            raise AssertionError(
                f"the sweep ended before it could be killed: {process.stderr.read()[-2000:]}"
            )
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("no batch finished in time")


@pytest.mark.slow
def test_killed_driver_then_resume_gives_exact_counts(ray_local, tmp_path, capsys, many_batch_sweep):
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(yaml.safe_dump({**many_batch_sweep, "name": "resumable"}))
    out_dir = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "synthscale",
        "run",
        str(sweep_file),
        "--out",
        str(out_dir),
        "--no-progress",
    ]
    kill_when_batches_finished(command, OutDir(out_dir).fits, at_least=3, timeout=300)
    grid_keys = [g.key for g in expand_grid(load_config(sweep_file), "craft")]
    recorded_before = len(list((OutDir(out_dir).fits).glob("*.json")))
    assert not (out_dir / "results.csv").exists()
    assert 3 <= recorded_before < -(-len(grid_keys) // 4)  # interrupted, not finished

    assert main(["run", "--resume", str(out_dir), "--no-progress"]) == 0
    assert "(resumed)" in capsys.readouterr().out
    n_batches = len(plan_sweep(load_config(sweep_file)).batches)
    (resumed_trials,) = (out_dir / "ray_results").glob("trials-resume-*")
    assert len(list(resumed_trials.glob("_trainable_*"))) == n_batches - recorded_before  # only the rest ran
    results = pd.read_csv(out_dir / "results.csv")
    assert results["grid_key"].tolist() == grid_keys
    tracker = SweepTracker(OutDir(out_dir).default_tracking_uri, "synthscale")
    assert tracker.attach_to_finished_sweep(out_dir)
    children = tracker.child_runs()
    assert all(run.info.status == "FINISHED" for run in children)
    counts = Counter(run.data.tags[GRID_KEY_TAG] for run in children)
    assert sorted(counts) == sorted(grid_keys) and set(counts.values()) == {1}
    parents = tracker.client.search_runs(
        [tracker.experiment_id], filter_string="tags.`synthscale.sweep` = 'resumable'"
    )
    assert len(parents) == 1  # the resumed run is the original parent, not a new one


def test_resume_refuses_a_directory_without_a_started_sweep(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path)]) == EXIT_USER_ERROR
    assert "no config.resolved.yaml there" in capsys.readouterr().err


def test_resume_refuses_a_finished_sweep_and_changed_settings(tmp_path, capsys):
    (tmp_path / "config.resolved.yaml").write_text("name: x\n")
    (tmp_path / "results.csv").write_text("a\n")
    assert main(["run", "--resume", str(tmp_path)]) == EXIT_USER_ERROR
    assert "already finished" in capsys.readouterr().err
    assert main(["run", "--resume", str(tmp_path), "--set", "name=y"]) == EXIT_USER_ERROR
    assert "drop --set" in capsys.readouterr().err


def test_resume_refuses_a_sweep_started_before_there_were_calibration_rows(tmp_path, capsys):
    """Its finished fits trained on another split: the rest must not be mixed in."""
    config = SweepConfig().model_dump(mode="json")
    del config["split"]["calibration_size"]
    (tmp_path / "config.resolved.yaml").write_text(yaml.safe_dump(config))
    assert main(["run", "--resume", str(tmp_path)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "started by a synthscale without calibration rows" in err and "--overwrite" in err


def test_run_needs_a_sweep_or_resume(capsys):
    assert main(["run"]) == EXIT_USER_ERROR
    assert "pass a sweep file" in capsys.readouterr().err
