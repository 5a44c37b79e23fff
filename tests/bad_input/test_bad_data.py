"""Bad input, data surface: tables a user points a sweep or the Python API at. Each is refused
with one line that names the column or value and the fix, before anything is written."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from synthscale.cli import EXIT_USER_ERROR, main
from synthscale.data import make_craft, prepare_dataset
from synthscale.errors import SynthscaleError


def sweep_on(tmp_path, data_path, label: str) -> tuple[list[str], object]:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump(
            {
                "name": "bad",
                "dataset": {"name": None, "path": str(data_path), "label": label},
                "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0]},
                "methods": ["raw"],
            }
        )
    )
    return ["run", str(sweep), "--out", str(tmp_path / "out"), "--no-progress"], tmp_path / "out"


def test_a_csv_repeating_the_label_name_is_refused_not_renamed(tmp_path, capsys):
    """pandas would call the second 'target' 'target.1' and the sweep would take the first,
    another feature, as the label: a silent wrong result (AUC 0.5)."""
    table = make_craft(600, 0)
    table.columns = ["Target", *table.columns[1:]]  # X1 named Target, and the real label, last, too
    path = tmp_path / "people.csv"
    table.to_csv(path, index=False)
    command, out = sweep_on(tmp_path, path, "Target")
    assert main(command) == EXIT_USER_ERROR
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    last = len(table.columns)
    assert f"people.csv has the column name 'Target' 2 times (columns 1, {last}); rename them" in error[0]
    assert not out.exists()


def test_a_dataframe_with_a_repeated_column_is_refused_by_the_python_api():
    table = make_craft(200, 0)
    table = pd.concat([table, table[["X3"]]], axis=1)
    with pytest.raises(
        SynthscaleError, match="has the column name 'X3' 2 times .*every column name is unique"
    ):
        prepare_dataset(table, label="Target")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "is a directory; pass the results.csv of a sweep"),
        (b"", "the file is empty; pass the results.csv of a sweep"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfa", "not UTF-8 text"),
        (b"a,b\n1,2\n3,4,5,6\n", "not a readable CSV"),
    ],
)
@pytest.mark.parametrize("command", ["fit", "report", "export"])
def test_an_unreadable_results_file_is_one_line_with_the_fix(tmp_path, capsys, command, content, message):
    path = tmp_path / "results.csv"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    extra = ["-o", str(tmp_path / "out")] if command == "export" else ["--no-mlflow"]
    code = main([command, str(path), *extra])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and len(error) == 1 and message in error[0], error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "message"), [("dir", "is a directory; pass the CSV"), ("empty", "is empty")]
)
def test_a_data_path_that_is_a_directory_or_empty_says_so(tmp_path, capsys, make, message):
    path = tmp_path / "people.csv"
    path.mkdir() if make == "dir" else path.write_text("")
    command, out = sweep_on(tmp_path, path, "label")
    assert main(command) == EXIT_USER_ERROR
    assert message in capsys.readouterr().err and not out.exists()
