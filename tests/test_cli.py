"""The CLI: bad input is one 'error:' line, exit code 2, and no output directory."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from synthscale.cli import EXIT_USER_ERROR, main

REPO = Path(__file__).resolve().parents[1]


def write_sweep(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.fixture
def bad_label_csv(tmp_path: Path) -> Path:
    path = tmp_path / "three.csv"
    pd.DataFrame({"x": range(30), "y": ["a", "b", "c"] * 10}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("sweep", "overrides", "message"),
    [
        ("dataset:\n  lable: income\n", [], "unknown key 'dataset.lable'; did you mean 'dataset.label'"),
        ("methods: [raw, smoote]\n", [], "unknown method 'smoote'; did you mean 'smote'"),
        ("downstream:\n  classifiers: [xgbost]\n", [], "downstream.classifiers.0"),
        ("dataset:\n  name: mnist\n", [], "dataset.name"),
        ("split:\n  seed_size: 202\n", [], "divisible by 4"),
        ("experiment:\n  ratio:\n    ks: [0, 100]\n", [], "real rows of pool"),
        ("split:\n  seed_size: 8000\n", [], "training rows, the seed set needs 2000"),
        ("{}\n", ["dataset.name=null", "dataset.path=nowhere.csv", "dataset.label=y"], "not found"),
        (
            "experiment:\n  seeds: [-1]\n",
            [],
            "experiment.seeds.0: Input should be greater than or equal to 0",
        ),
        ("split:\n  test_fraction: 0.0001\n", [], "raise split.test_fraction"),
        ("generator:\n  k_neighbors: 60\n", [], "has 50 rows among the rows the sampler may see"),
    ],
)
def test_bad_input_is_one_clear_error_and_no_output(tmp_path, capsys, sweep, overrides, message):
    out_dir = tmp_path / "out"
    args = ["run", str(write_sweep(tmp_path, sweep)), "--out", str(out_dir), "--no-progress"]
    for override in overrides:
        args += ["--set", override]
    code, err = run_cli(args, capsys)
    assert code == EXIT_USER_ERROR
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err
    assert not out_dir.exists()


def test_label_with_three_values_and_missing_label_column(tmp_path, capsys, bad_label_csv):
    sweep = write_sweep(tmp_path, "{}\n")
    base = ["run", str(sweep), "--out", str(tmp_path / "out"), "--set", "dataset.name=null"]
    code, err = run_cli([*base, "--set", f"dataset.path={bad_label_csv}", "--set", "dataset.label=y"], capsys)
    assert code == EXIT_USER_ERROR and "has 3 distinct values" in err
    code, err = run_cli(
        [*base, "--set", f"dataset.path={bad_label_csv}", "--set", "dataset.label=yy"], capsys
    )
    assert code == EXIT_USER_ERROR and "column 'yy' not in the table; did you mean 'y'" in err


def test_spurious_task_without_spurious_column(tmp_path, capsys):
    path = tmp_path / "two.csv"
    pd.DataFrame({"x": range(400), "y": [0, 1, 1, 1] * 100}).to_csv(path, index=False)
    sweep = write_sweep(tmp_path, "{}\n")
    code, err = run_cli(
        [
            "run",
            str(sweep),
            "--set",
            "dataset.name=null",
            "--set",
            f"dataset.path={path}",
            "--set",
            "dataset.label=y",
        ],
        capsys,
    )
    assert code == EXIT_USER_ERROR and "set dataset.spurious=<column>" in err


def test_config_prints_the_resolved_yaml_with_overrides(capsys):
    assert main(["config", str(REPO / "sweeps" / "quickstart.yaml"), "--set", "experiment.seeds=[3]"]) == 0
    out = capsys.readouterr().out
    assert "name: quickstart" in out and "seeds:\n  - 3\n" in out


def test_help_lists_commands_and_keys():
    result = subprocess.run(
        [sys.executable, "-m", "synthscale", "run", "--help"], capture_output=True, text=True, check=True
    )
    assert "--set KEY=VALUE" in result.stdout and "--address" in result.stdout
    keys = subprocess.run(
        [sys.executable, "-m", "synthscale", "config", "--keys"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "dataset.label:" in keys.stdout and "experiment.augment.n_aug:" in keys.stdout


def test_an_out_dir_that_cannot_be_created_is_refused(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, err = run_cli(
        ["run", str(REPO / "sweeps" / "quickstart.yaml"), "--out", str(blocker / "out")], capsys
    )
    assert code == EXIT_USER_ERROR and "a-file is a file, not a directory; pass another path" in err


def test_a_malformed_csv_is_named_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "broken.csv"
    path.write_text('a,b,label\n1,2,0\n3,"4,1\n')
    sweep = write_sweep(tmp_path, "{}\n")
    overrides = ["dataset.name=null", f"dataset.path={path}", "dataset.label=label"]
    code, err = run_cli(["run", str(sweep), *[a for o in overrides for a in ("--set", o)]], capsys)
    assert code == EXIT_USER_ERROR and "cannot read broken.csv" in err


@pytest.mark.parametrize("command", ["fit", "report"])
def test_fit_and_report_help_show_defaults_and_the_mlflow_logging(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: minority_ce)" in text and "(default: 1.0)" in text
    assert "MLflow parent run (--no-mlflow: do not)" in text and "--no-mlflow" in text


def test_every_subcommand_has_examples_and_every_option_its_default(capsys):
    from synthscale.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == {"run", "fit", "report", "export", "generate", "datasets", "config"}
    for name, command in commands.choices.items():
        text = command.format_help()
        assert "\nexamples:\n  synthscale " in text, name
        assert "%%" not in text and "default: [])" not in text, name
        for action in command._actions:
            valued = action.default not in (None, [], argparse.SUPPRESS) and action.default is not False
            if valued and action.option_strings:
                shown = command._get_formatter()._format_action(action)
                assert "default" in shown, f"{name} {action.option_strings[0]}: {shown}"


def test_the_terminal_keeps_synthscales_warnings_and_every_error_only():
    import logging

    from synthscale.cli import actionable

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "message", None, None)

    assert actionable(record("synthscale.config", logging.WARNING))
    assert actionable(record("mlflow.store", logging.ERROR))
    assert not actionable(record("ray.tune.tune", logging.WARNING))
    assert not actionable(record("py.warnings", logging.WARNING))  # a library's warnings.warn


def test_a_reader_that_stops_early_gets_no_traceback():
    """`synthscale config --keys | head -1`: the pipe closes while synthscale still writes."""
    command = f"{shlex.quote(sys.executable)} -m synthscale config --keys | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
    assert done.stdout.startswith("name: ") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and done.returncode == 0


def test_the_fit_help_names_every_law_without_loading_the_fitting_libraries():
    """--help builds every command's description, the fit's from the law catalogue: the
    catalogue alone, not scipy or statsmodels, which would slow every command's start."""
    script = (
        "import sys\n"
        "from synthscale.cli.parser import build_parser\n"
        "build_parser()\n"
        "print(sorted({'scipy', 'statsmodels', 'synthscale.fit.solve'} & set(sys.modules)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
    described = subprocess.run(
        [sys.executable, "-m", "synthscale", "fit", "--help"], capture_output=True, text=True, check=True
    )
    text = " ".join(described.stdout.split())
    for law in ("shifted", "saturating", "power", "theory", "loglinear"):
        assert f"{law}: " in text
    assert "L_inf + C ((N0 + N)/(N0 + n_ref))^-alpha" in text
