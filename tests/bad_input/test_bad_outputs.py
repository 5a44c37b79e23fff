"""Bad input, outputs surface: reused and half-written out dirs. A directory that holds a sweep
is refused by a plain `run` before anything is written, with --resume, another --out or
--overwrite named; --overwrite starts again; a dead run's half-written pools are cleaned."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from synthscale import _io
from synthscale.cli import EXIT_USER_ERROR, main
from synthscale.config import save_config, validate_config
from synthscale.data import make_craft
from synthscale.errors import SynthscaleError
from synthscale.sweep.layout import OutDir
from synthscale.sweep.plan import plan_sweep
from synthscale.sweep.runner import run_sweep

SWEEP = {
    "name": "outdir",
    "dataset": {"name": "craft", "craft_rows": 2000},
    "split": {"seed_size": 40},
    "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0], "ratio": {"ks": [0, 2]}},
    "methods": ["raw", "smote"],
}


def interrupted_dir(tmp_path, sweep: dict) -> OutDir:
    """What a killed run leaves: its config (with the values the data resolved) and one batch's
    records, no results.csv."""
    out = OutDir(tmp_path / "out")
    out.fits.mkdir(parents=True)
    save_config(plan_sweep(validate_config(sweep)).config, out.config)
    out.fit_record("craft-imbalance-seed0-000").write_text("[]")
    return out


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        (SWEEP, "holds an unfinished run of this sweep; finish it with `synthscale run --resume"),
        ({**SWEEP, "methods": ["raw", "ros"]}, "holds an unfinished run of another sweep config"),
    ],
)
def test_a_plain_run_into_an_interrupted_sweeps_dir_is_refused(tmp_path, capsys, sweep, message):
    out = interrupted_dir(tmp_path, sweep)
    before = {p: p.read_bytes() for p in (out.config, out.fit_record("craft-imbalance-seed0-000"))}
    sweep_file = tmp_path / "sweep.yaml"
    save_config(validate_config(SWEEP), sweep_file)
    code = main(["run", str(sweep_file), "--out", str(out.root), "--no-progress"])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and len(error) == 1 and message in error[0] and "--overwrite" in error[0]
    assert {p: p.read_bytes() for p in before} == before  # nothing read as this sweep's, nothing rewritten
    assert sorted(p.name for p in out.root.iterdir()) == ["config.resolved.yaml", "fits"]


def test_overwrite_starts_again_and_keeps_what_is_not_the_sweeps(ray_local, tmp_path):
    out = interrupted_dir(tmp_path, {**SWEEP, "methods": ["raw", "ros"]})
    (out.root / "notes.txt").write_text("mine")
    stale = out.fit_record("stale-batch-of-the-other-config")
    stale.write_text("[]")
    result = run_sweep(validate_config(SWEEP), out.root, show_progress=False, overwrite=True)
    assert sorted(result.results["method"].unique()) == ["raw", "smote"] and len(result.results) == 4
    assert not stale.exists() and (out.root / "notes.txt").read_text() == "mine"
    assert out.saved_fingerprint() == plan_sweep(validate_config(SWEEP)).config.config_hash()


def test_a_dead_runs_half_written_pools_are_removed_by_the_next_run(ray_local, tmp_path):
    """A run killed while publishing a pool leaves `<key>.partial-*` in the cache; the next run
    into the directory removes it (the finished entries stay usable)."""
    out = OutDir(tmp_path / "out")
    partial = out.pool_cache / "abc123.partial-0f0f"
    partial.mkdir(parents=True)
    (partial / "pool.parquet").write_bytes(b"half")
    run_sweep(validate_config(SWEEP), out.root, show_progress=False)
    assert not partial.exists()
    assert [p for p in out.pool_cache.iterdir() if ".partial-" in p.name] == []
    assert len(list(out.pool_cache.iterdir())) == 1  # the smote pool this run published


def test_generate_checks_its_output_before_training(tmp_path, capsys):
    """-o a directory: refused at once, not after minutes of training (IsADirectoryError)."""
    data = tmp_path / "table.csv"
    data.write_text("a,b\n1,x\n2,y\n")  # never read: the output is checked first
    code = main(["generate", "--data", str(data), "--label", "b", "--n", "5", "-o", str(tmp_path)])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and error == [
        f"error: -o {tmp_path}: is a directory; pass a file path, e.g. {tmp_path / 'rows.csv'}"
    ]


@pytest.mark.parametrize("command", ["fit", "report", "export"])
def test_fit_report_and_export_check_their_output_dir_before_fitting(tmp_path, capsys, command):
    results = tmp_path / "results.csv"
    results.write_text("dataset,task,experiment,method,seed\nd,imbalance,augment,raw,0\n")  # fails in the fit
    not_a_dir = tmp_path / "taken"
    not_a_dir.write_text("a file")
    code = main(
        [command, str(results), "-o", str(not_a_dir), *(["--no-mlflow"] if command != "export" else [])]
    )
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and error == [
        f"error: -o {not_a_dir}: is a file, not a directory; pass a directory"
    ]


def sweep_file(tmp_path, sweep: dict = SWEEP) -> str:
    path = tmp_path / "sweep.yaml"
    save_config(validate_config(sweep), path)
    return str(path)


def test_a_second_sweep_into_a_running_sweeps_dir_is_refused_naming_the_first(tmp_path, capsys):
    """Two runs 3 s apart both exited 0, MLflow holding two parent runs for one set of fits."""
    out = OutDir(tmp_path / "out")
    out.root.mkdir()
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": "2026-12-04 09:00:00 UTC"}
    out.lock.write_text(json.dumps(holder))
    for command in (
        ["run", sweep_file(tmp_path), "--out", str(out.root)],
        ["run", "--resume", str(out.root)],
    ):
        code = main([*command, "--no-progress"])
        error = capsys.readouterr().err.strip().splitlines()
        assert code == EXIT_USER_ERROR and len(error) == 1, error
        assert f"another sweep is running there (pid {os.getpid()} on {socket.gethostname()}, started " \
            "2026-12-04 09:00:00 UTC); wait for it, or pass another --out" in error[0]  # fmt: skip
    assert sorted(p.name for p in out.root.iterdir()) == [".synthscale.lock"]


def test_the_lock_is_held_for_the_sweep_and_refuses_a_second_holder(tmp_path):
    out = OutDir(tmp_path / "out")
    with out.locked():
        assert json.loads(out.lock.read_text())["pid"] == os.getpid()
        with pytest.raises(SynthscaleError, match="another sweep is running there"), out.locked():
            pass
        assert out.lock.exists()  # the refused second holder did not release the first's lock
    assert not out.lock.exists()


def test_a_crashed_sweeps_lock_is_taken_over_with_a_warning(ray_local, tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # a pid that no longer runs
    dead.wait()
    out = OutDir(tmp_path / "out")
    out.root.mkdir()
    out.lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "earlier"}))
    result = run_sweep(validate_config(SWEEP), out.root, show_progress=False)
    assert len(result.results) == 4 and not out.lock.exists()
    assert f"removed the lock of a sweep that is no longer running (pid {dead.pid}" in caplog.text


def test_overwrite_refuses_a_folder_whose_fits_no_sweep_wrote(tmp_path, capsys):
    """--overwrite deleted the user's own fits/ in a folder no sweep had used."""
    out = tmp_path / "mine"
    (out / "fits").mkdir(parents=True)
    (out / "fits" / "model.pkl").write_bytes(b"mine")
    code = main(["run", sweep_file(tmp_path), "--out", str(out), "--overwrite", "--no-progress"])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and len(error) == 1, error
    assert (
        "holds fits but no config.resolved.yaml, so no sweep wrote them (--overwrite removes only" in error[0]
    )
    assert (out / "fits" / "model.pkl").read_bytes() == b"mine"


def test_a_trial_asking_for_more_cpus_than_a_node_has_is_refused_not_left_waiting(
    ray_local, tmp_path, capsys
):
    import ray

    cpus = int(max(n["Resources"].get("CPU", 0) for n in ray.nodes() if n["Alive"]))
    code = main(["run", sweep_file(tmp_path), "--out", str(tmp_path / "out"), "--no-progress",
                 "--set", f"resources.cpus_per_trial={cpus + 1}"])  # fmt: skip
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and len(error) == 1, error
    assert (
        f"resources.cpus_per_trial={cpus + 1}: the largest node of the Ray cluster has {cpus} CPUs"
        in error[0]
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", ["dir", "read-only"])
def test_datasets_csv_into_a_directory_or_a_read_only_folder_is_one_line(
    tmp_path, capsys, monkeypatch, target
):
    if target == "dir":
        path, message = (
            tmp_path,
            f"--csv {tmp_path}: is a directory; pass a file path, e.g. {tmp_path / 'keel.csv'}",
        )
    else:  # as root every folder is writable: stand in for chmod a-w
        monkeypatch.setattr(_io.os, "access", lambda *_: False)
        path, message = tmp_path / "keel.csv", f"--csv {tmp_path}: {tmp_path} is not a writable directory"
    code = main(["datasets", "--csv", str(path)])
    captured = capsys.readouterr()
    error = captured.err.strip().splitlines()
    assert code == EXIT_USER_ERROR and len(error) == 1 and message in error[0], error
    assert captured.out == ""  # refused before the listing


def test_the_resolved_label_values_are_saved_and_logged(ray_local, tmp_path):
    """Which value became y = 1 (the rarer one) and a = 1 (the larger one) was recorded nowhere."""
    table = make_craft(2000, 0).assign(
        Target=lambda t: t["Target"].map({0: "common", 1: "rare"}), X6=lambda t: t["X6"].map({-1: 9, 1: 10})
    )
    table = table[(table["Target"] == "common") | (table.index % 3 > 0)]  # rare: two thirds of them
    data = tmp_path / "people.csv"
    table.to_csv(data, index=False)
    sweep = {**SWEEP, "dataset": {"name": None, "path": str(data), "label": "Target", "spurious": "X6"}}
    result = run_sweep(validate_config(sweep), tmp_path / "out", show_progress=False)
    saved = yaml.safe_load(OutDir(result.out_dir).config.read_text())["dataset"]
    assert (saved["minority"], saved["spurious_positive"]) == ("rare", 10)
    import mlflow

    params = mlflow.MlflowClient(result.tracking_uri).get_run(result.parent_run_id).data.params
    assert params["dataset.minority"] == "rare" and params["dataset.spurious_positive"] == "10"
    code = main(["run", sweep_file(tmp_path, sweep), "--out", str(result.out_dir), "--no-progress"])
    assert code == EXIT_USER_ERROR  # the saved, resolved config is this sweep's: a finished one


@pytest.mark.slow
def test_ctrl_c_says_how_to_resume_exits_130_and_resume_finishes(tmp_path):
    """Ctrl-C gave a RuntimeError about child runs and Ray's Tuner.restore hint."""
    sweep = {**SWEEP, "experiment": {**SWEEP["experiment"], "seeds": [0, 1, 2], "ratio": {"ks": [0, 1, 2, 4]}},
             "methods": ["raw", "ros", "smote"], "resources": {"fits_per_trial": 2}}  # fmt: skip
    out = OutDir(tmp_path / "out")
    driver = subprocess.Popen(
        [sys.executable, "-m", "synthscale", "run", sweep_file(tmp_path, sweep), "--out", str(out.root),
         "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not (out.fits.is_dir() and any(out.fits.iterdir())) and driver.poll() is None:
        assert time.monotonic() < deadline, "no batch finished in 4 minutes"
        time.sleep(0.1)
    driver.send_signal(signal.SIGINT)
    _, err = driver.communicate(timeout=120)
    assert driver.returncode == 130, err
    assert err.strip().splitlines()[-1] == f"interrupted: finish with synthscale run --resume {out.root}"
    assert not out.results.exists() and not out.lock.exists() and "Tuner.restore" not in err
    assert main(["run", "--resume", str(out.root), "--no-progress"]) == 0
    results = pd.read_csv(out.results)
    assert len(results) == results["grid_key"].nunique() == 3 * 3 * 4


def test_an_out_that_is_a_file_is_said_to_be_one(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    assert main(["run", sweep_file(tmp_path), "--out", str(taken), "--no-progress"]) == EXIT_USER_ERROR
    assert f"--out {taken}: {taken} is a file, not a directory; pass another path" in capsys.readouterr().err
