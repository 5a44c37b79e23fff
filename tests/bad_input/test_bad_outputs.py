"""Bad input, outputs surface: reused and half-written out dirs. A directory that holds a sweep
is refused by a plain `run` before anything is written, with --resume, another --out or
--overwrite named; --overwrite starts again; a dead run's half-written pools are cleaned."""

from __future__ import annotations

import pytest

from synthscale.cli import EXIT_USER_ERROR, main
from synthscale.config import save_config, validate_config
from synthscale.sweep.layout import OutDir
from synthscale.sweep.runner import run_sweep

SWEEP = {
    "name": "outdir",
    "dataset": {"name": "craft", "craft_rows": 2000},
    "split": {"seed_size": 40},
    "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0], "ratio": {"ks": [0, 2]}},
    "methods": ["raw", "smote"],
}


def interrupted_dir(tmp_path, sweep: dict) -> OutDir:
    """What a killed run leaves: its config and one batch's records, no results.csv."""
    out = OutDir(tmp_path / "out")
    out.fits.mkdir(parents=True)
    save_config(validate_config(sweep), out.config)
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
    assert out.saved_fingerprint() == validate_config(SWEEP).config_hash()


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
    results.write_text("experiment,task\naugment,imbalance\n")  # would fail later, in the fit
    not_a_dir = tmp_path / "taken"
    not_a_dir.write_text("a file")
    code = main(
        [command, str(results), "-o", str(not_a_dir), *(["--no-mlflow"] if command != "export" else [])]
    )
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and error == [
        f"error: -o {not_a_dir}: is a file, not a directory; pass a directory"
    ]
