"""`synthscale generate`: a table in, N valid rows of one class or group out."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from synthscale.cli import EXIT_USER_ERROR, main

SMALL = [
    "--set",
    "generator.llm.max_steps=10",
    "--set",
    "generator.llm.tiny_layers=1",
    "--set",
    "generator.llm.tiny_width=32",
    "--set",
    "generator.llm.tiny_heads=2",
]


@pytest.fixture
def table_csv(tmp_path, mixed_table) -> Path:
    path = tmp_path / "people.csv"
    pd.concat([mixed_table] * 4, ignore_index=True).to_csv(path, index=False)
    return path


def generate(tmp_path, table_csv, *extra: str) -> list[str]:
    cache = ["--set", f"generator.llm.cache_dir={tmp_path / 'models'}"]
    return [
        "generate",
        "--data",
        str(table_csv),
        "--label",
        "income",
        "--no-progress",
        *SMALL,
        *cache,
        *extra,
    ]


def test_generates_minority_rows_by_default(tmp_path, table_csv, capsys):
    out = tmp_path / "rows.csv"
    assert main(generate(tmp_path, table_csv, "--n", "25", "-o", str(out))) == 0
    rows = pd.read_csv(out)
    assert list(rows.columns) == ["age", "score", "job", "sex", "income"]
    assert len(rows) == 25 and (rows["income"] == "high").all()  # 'high' is the rarer label
    assert rows["job"].isin(["a", "b", "c"]).all()
    assert "25 rows of (income=high)" in capsys.readouterr().out


def test_generates_a_group(tmp_path, table_csv, capsys):
    out = tmp_path / "group.csv"
    args = ["--spurious", "sex", "--label-value", "low", "--spurious-value", "M", "--n", "12", "-o", str(out)]
    assert main(generate(tmp_path, table_csv, *args)) == 0
    rows = pd.read_csv(out)
    assert (rows["income"] == "low").all() and (rows["sex"] == "M").all()
    assert "validity 100.0%, 0 dropped" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--label-value", "medium"], r"--label-value 'medium': income takes 'low', 'high'"),
        (["--spurious-value", "M"], r"--spurious-value needs --spurious <column>"),
        (["--spurious", "sex", "--spurious-value", "X"], r"--spurious-value 'X': sex takes"),
        (["--set", "generator.llm.modle=tiny"], r"did you mean 'generator\.llm\.model'"),
        (["--set", "generator.llm.model=./missing-model"], r"model directory './missing-model' not found"),
    ],
)
def test_bad_input_is_one_clear_error_and_no_file(tmp_path, table_csv, capsys, extra, message):
    out = tmp_path / "never.csv"
    assert main(generate(tmp_path, table_csv, "--n", "5", "-o", str(out), *extra)) == EXIT_USER_ERROR
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert re.search(message, error), error
    assert not out.exists()
