"""What ships with the package: the sweeps run by name from any folder, `python -m synthscale`,
`--version`, and a wheel that runs the quickstart outside the clone."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest

from synthscale.cli import main
from synthscale.config import builtin_sweeps, load_config, sweep_file
from synthscale.errors import SynthscaleError

ROOT = Path(__file__).resolve().parents[1]
REPO_SWEEPS = sorted(p.stem for p in (ROOT / "sweeps").glob("*.yaml"))
SMALL = ["methods=[raw,smote]", "experiment.seeds=[0]", "experiment.tasks=[imbalance]",
         "experiment.protocols=[ratio]", "experiment.ratio.ks=[0,2]"]  # fmt: skip


def test_every_sweep_file_ships_with_the_package():
    assert list(builtin_sweeps()) == REPO_SWEEPS
    assert all(
        path.read_text() == (ROOT / "sweeps" / path.name).read_text() for path in builtin_sweeps().values()
    )


def test_a_builtin_sweep_loads_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config("quickstart").name == "quickstart"
    assert sweep_file("sweeps/paper_ratio.yaml") == builtin_sweeps()["paper_ratio"]  # the README's path


def test_a_file_in_the_working_folder_wins_over_the_builtin_of_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quickstart").write_text("name: mine\n")
    assert load_config("quickstart").name == "mine"


def test_an_unknown_sweep_name_lists_the_builtin_ones_and_the_closest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SynthscaleError, match=r"not found.*quickstart, scaling\); did you mean 'quickstart'"):
        load_config("quickstrt")


def test_config_list_names_every_builtin_sweep_with_its_summary(capsys):
    assert main(["config", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[: len(REPO_SWEEPS)]] == REPO_SWEEPS
    assert "The paper's Figures 1-2" in next(line for line in lines if line.startswith("paper_ratio"))


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"synthscale {version('synthscale')}"


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "synthscale", "config", "--list"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("benchmark")


@pytest.mark.slow
def test_a_wheel_runs_the_quickstart_by_name_outside_the_clone(tmp_path):
    """Build a wheel, install it (without dependencies: this environment has them) where only it
    is importable, and run the quickstart by name from a folder with no sweeps/ beside it."""
    wheels, site, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "work"
    work.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT], check=True, cwd=tmp_path
    )
    (wheel,) = wheels.glob("synthscale-*.whl")
    assert "synthscale/sweeps/quickstart.yaml" in zipfile.ZipFile(wheel).namelist()
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import synthscale; print(synthscale.__file__)"], env=env, cwd=work,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(site)  # the wheel's copy, not the checkout
    overrides = [x for s in SMALL for x in ("--set", s)]
    run = subprocess.run(
        [sys.executable, "-m", "synthscale", "run", "quickstart", "--out", "out", "--no-progress", *overrides],
        env=env, cwd=work, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    results = pd.read_csv(work / "out" / "results.csv")
    assert set(results["method"]) == {"raw", "smote"} and set(results["dataset"]) == {"craft"}
