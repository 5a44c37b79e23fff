"""Bad input, data surface: tables a user points a sweep or the Python API at. Each is refused
with one line that names the column or value and the fix, before anything is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from synthscale.cli import EXIT_USER_ERROR, main
from synthscale.config import load_config
from synthscale.data import load_dataset, make_craft, prepare_dataset, reading
from synthscale.data.schema import TARGET_COLUMN
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


def test_a_column_named_like_synthscales_target_column_is_refused():
    """Pools store each row's target in that column beside the features: a feature of the same
    name would be overwritten by it."""
    table = make_craft(200, 0).rename(columns={"X3": TARGET_COLUMN})
    with pytest.raises(SynthscaleError, match=f"a column named '{TARGET_COLUMN}'.*rename that column"):
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


def write_people(tmp_path, sep=",", encoding="utf-8", name="people.csv"):
    """A small table with a latin-1 friendly name in it."""
    table = make_craft(600, 0).assign(town=lambda t: ["Zürich" if i % 2 else "Bern" for i in range(len(t))])
    path = tmp_path / name
    table.to_csv(path, index=False, sep=sep, encoding=encoding)
    return path


def assert_reads(config) -> None:
    dataset = load_dataset(config.dataset)
    assert len(dataset.y) == 600 and set(dataset.features["town"]) == {"Zürich", "Bern"}


def run_on(tmp_path, path, capsys, *overrides):
    command, out = sweep_on(tmp_path, path, "Target")
    code = main([*command, *[item for o in overrides for item in ("--set", o)]])
    return code, capsys.readouterr().err.strip().splitlines(), out


@pytest.mark.parametrize(("sep", "shown"), [(";", "';'"), ("\t", "'\\t'"), ("|", "'|'")])
def test_another_delimiter_is_named_with_the_setting_that_reads_it(tmp_path, capsys, sep, shown):
    path = write_people(tmp_path, sep=sep)
    code, error, out = run_on(tmp_path, path, capsys)
    assert code == EXIT_USER_ERROR and len(error) == 1, error
    assert (
        f"people.csv reads as one column with dataset.sep=','; its lines look {shown}-separated: " in error[0]
    )
    assert error[0].endswith(f"set dataset.sep={shown}") and not out.exists()
    written = "\\t" if sep == "\t" else sep  # as a shell user types it
    assert_reads(
        load_config(
            None,
            [
                f"dataset.path={path}",
                "dataset.label=Target",
                f"dataset.sep='{written}'",
                "dataset.minority=1",
            ],
        )
    )


def test_another_encoding_is_named_with_the_setting_that_reads_it(tmp_path, capsys):
    path = write_people(tmp_path, encoding="latin-1")
    code, error, out = run_on(tmp_path, path, capsys)
    assert code == EXIT_USER_ERROR and len(error) == 1, error
    assert "people.csv is not utf-8 text (byte 0xfc at offset" in error[0]
    assert error[0].endswith("set dataset.encoding to the file's encoding, e.g. dataset.encoding=latin-1")
    assert not out.exists()
    assert_reads(
        load_config(
            None,
            [
                f"dataset.path={path}",
                "dataset.label=Target",
                "dataset.encoding=latin-1",
                "dataset.minority=1",
            ],
        )
    )


def test_a_binary_file_named_csv_is_refused_as_binary(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, error, out = run_on(tmp_path, path, capsys)
    assert code == EXIT_USER_ERROR and error == [
        "error: dataset.path: people.csv holds binary data, not CSV text; pass a CSV or Parquet file"
    ]
    assert not out.exists()


@pytest.mark.parametrize("missing", ["drop", "error"])
def test_an_empty_column_is_named_not_blamed_on_the_label(mixed_table, missing):
    """Dropping its incomplete rows would drop every row, and then the label would have 0
    values; and missing=error would suggest missing=drop: a loop."""
    mixed_table["notes"] = float("nan")
    with pytest.raises(SynthscaleError) as caught:
        prepare_dataset(mixed_table, label="income", missing=missing)
    assert str(caught.value) == "column 'notes' has no values (all 12 missing); remove it from the table"


def test_rows_all_missing_something_are_named_per_column(mixed_table):
    mixed_table["a"] = [None, 1.0] * 6
    mixed_table["b"] = [2.0, None] * 6
    with pytest.raises(SynthscaleError, match=r"every one of the 12 rows has a missing value \(missing per "
                       r"column: 'a' \(6\), 'b' \(6\)\); fill them, or remove the columns"):  # fmt: skip
        prepare_dataset(mixed_table, label="income")


def test_the_larger_value_of_a_spurious_column_coded_9_and_10_is_10():
    """Sorted as text, '10' came before '9' and the groups swapped silently."""
    table = make_craft(400, craft_seed=0).assign(X6=lambda t: t["X6"].map({-1: 9, 1: 10}))
    dataset = prepare_dataset(table, label="Target", spurious="X6", minority=1)
    assert dataset.schema.spurious_values == (9, 10)
    assert (dataset.a == (table["X6"] == 10).to_numpy()).all()  # a = 1 for the larger value


def test_a_results_table_with_repeated_fits_is_refused_by_fit(tmp_path, capsys):
    """Rows that appear twice weighed twice in the curve and changed the verdict."""
    rows = [
        {"dataset": "craft", "task": "imbalance", "experiment": "augment", "method": "smote", "classifier": "xgboost",
         "data_access": "seed", "seed": seed, "n_aug": n, "minority_ce": 1.0 + 1 / (1 + n), "grid_key": f"k{seed}-{n}"}
        for seed in range(2) for n in (0, 400, 800, 1600)
    ]  # fmt: skip
    results = tmp_path / "results.csv"
    pd.DataFrame(rows + rows[:3]).to_csv(results, index=False)
    assert main(["fit", str(results), "--no-mlflow", "--out", str(tmp_path / "fit")]) == EXIT_USER_ERROR
    error = capsys.readouterr().err.strip().splitlines()
    assert (
        len(error) == 1
        and "3 augment rows repeat a fit already in it (same curve, N and seed; e.g. grid_key 'k0-0')"
        in error[0]
    ), error


@pytest.mark.parametrize("text", ["None", "NA", "null", "n/a", "NaN"])
def test_a_category_spelled_like_missing_stays_a_value(tmp_path, text):
    """pandas' own NA strings dropped these rows silently, and na_values=[] did not stop it."""
    table = make_craft(400, 0).assign(kind=lambda t: [text if i % 3 else "some" for i in range(len(t))])
    path = tmp_path / "people.csv"
    table.to_csv(path, index=False)
    config = load_config(None, [f"dataset.path={path}", "dataset.label=Target", "dataset.minority=1"])
    dataset = load_dataset(config.dataset)
    assert dataset.n_dropped_missing == 0 and len(dataset.y) == 400
    assert set(dataset.features["kind"]) == {text, "some"}


def test_exactly_the_listed_strings_are_missing(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("x,kind,label\n1,?,0\n2,,1\n3,NA,0\n4,a,1\n5,a,0\n")
    table = load_dataset(load_config(None, [f"dataset.path={path}", "dataset.label=label"]).dataset)
    assert table.n_dropped_missing == 2 and sorted(table.features["kind"]) == ["NA", "a", "a"]
    kept = load_config(None, [f"dataset.path={path}", "dataset.label=label", "dataset.na_values=[]"])
    assert load_dataset(kept.dataset).n_dropped_missing == 0


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ([float("inf"), 1.0], "column 'X1' holds 200 infinite value(s) (first in row 0); replace them"),
        ([1.0, float("-inf")], "column 'X1' holds 200 infinite value(s) (first in row 1); replace them"),
        (
            [1e308, 1.0],
            "column 'X1' holds 1e+308, beyond what float32 holds (3.4e+38), which the classifiers read",
        ),
    ],
)
def test_infinite_and_float32_overflowing_values_are_named(tmp_path, capsys, column, message):
    table = make_craft(400, 0).assign(X1=column * 200)
    path = tmp_path / "people.csv"
    table.to_csv(path, index=False)
    code, error, out = run_on(tmp_path, path, capsys)
    assert code == EXIT_USER_ERROR and len(error) == 1 and message in error[0], error
    assert not out.exists()


def test_a_parquet_uint64_beyond_int64_is_refused_not_wrapped(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    table = make_craft(400, 0).assign(X1=lambda t: np.arange(len(t), dtype=np.uint64) + np.uint64(2**63))
    path = tmp_path / "people.parquet"
    table.to_parquet(path)
    code, error, _ = run_on(tmp_path, path, capsys)
    assert code == EXIT_USER_ERROR and len(error) == 1, error
    assert "column 'X1' holds unsigned integers up to 9223372036854776207, beyond int64" in error[0]


@pytest.mark.parametrize("surface", ["run", "generate", "api"])
def test_a_table_of_the_label_alone_is_refused_on_every_surface(tmp_path, capsys, surface):
    table = make_craft(400, 0)[["Target"]]
    message = "the table holds only the label column 'Target': a classifier and a sampler need"
    if surface == "api":
        with pytest.raises(SynthscaleError, match=message):
            prepare_dataset(table, label="Target")
        return
    path = tmp_path / "people.csv"
    table.to_csv(path, index=False)
    if surface == "run":
        code, error, _ = run_on(tmp_path, path, capsys)
    else:
        out = tmp_path / "rows.csv"
        code = main(["generate", "--data", str(path), "--label", "Target", "--n", "10", "-o", str(out)])
        error = capsys.readouterr().err.strip().splitlines()
        assert not out.exists()
    assert code == EXIT_USER_ERROR and len(error) == 1 and message in error[0], error


def test_an_unreadable_file_and_a_symlink_loop_are_named(tmp_path, capsys, monkeypatch):
    path = write_people(tmp_path)
    with monkeypatch.context() as patched:  # as root every file reads: stand in for chmod 0
        patched.setattr(reading.os, "access", lambda *_: False)
        code, error, _ = run_on(tmp_path, path, capsys)
    assert (
        code == EXIT_USER_ERROR and "people.csv is not readable by this user; fix its permissions" in error[0]
    )
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    code, error, _ = run_on(tmp_path, loop, capsys)
    assert code == EXIT_USER_ERROR and "is a symbolic link that leads to no file (a loop" in error[0], error


def test_a_minority_of_1_matches_a_label_read_as_floats():
    """'1 is not a value (values: 0.0, 1.0)' refused what the user plainly meant."""
    table = make_craft(400, 0).assign(Target=lambda t: t["Target"].astype(float))
    dataset = prepare_dataset(table, label="Target", minority=1)
    assert dataset.schema.minority_value == 1.0
    assert (dataset.y == (table["Target"] == 1.0).to_numpy()).all()


def test_a_yes_that_yaml_read_as_a_boolean_gets_the_quoting_hint(tmp_path, capsys):
    table = make_craft(400, 0).assign(Target=lambda t: t["Target"].map({0: "no", 1: "yes"}))
    path = tmp_path / "people.csv"
    table.to_csv(path, index=False)
    code, error, _ = run_on(tmp_path, path, capsys, "dataset.minority=yes")
    assert code == EXIT_USER_ERROR and len(error) == 1, error
    assert "dataset.minority: True is not a value of column 'Target' (values: 'no', 'yes'); YAML read the " \
        "value as the boolean True: to mean the text, quote it, e.g. --set dataset.minority='\"yes\"'" in error[0]  # fmt: skip
    quoted = load_config(None, [f"dataset.path={path}", "dataset.label=Target", 'dataset.minority="yes"'])
    assert load_dataset(quoted.dataset).schema.minority_value == "yes"


def test_one_distinct_value_is_said_in_the_singular():
    table = make_craft(400, 0).assign(Target=1)
    with pytest.raises(SynthscaleError, match=r"has 1 distinct value \(1\); it must be binary"):
        prepare_dataset(table, label="Target")


def test_a_header_without_rows_is_said_so(tmp_path, capsys):
    path = tmp_path / "people.csv"
    make_craft(10, 0).head(0).to_csv(path, index=False)
    code, error, _ = run_on(tmp_path, path, capsys)
    assert code == EXIT_USER_ERROR and error == [
        "error: the table has no rows (a header alone); pass a table with data rows"
    ]


def test_a_label_column_named_by_a_number_is_found():
    """`dataset.label=7`: YAML reads 7, the CSV header holds '7'."""
    config = load_config(None, ["dataset.label=7", "dataset.spurious=0"])
    assert (config.dataset.label, config.dataset.spurious) == ("7", "0")


@pytest.mark.parametrize("command", ["fit", "report", "export"])
def test_a_data_table_passed_as_results_is_named_not_a_keyerror(tmp_path, capsys, command):
    path = tmp_path / "people.csv"
    make_craft(50, 0).to_csv(path, index=False)
    extra = ["-o", str(tmp_path / "out")] if command == "export" else ["--no-mlflow"]
    assert main([command, str(path), *extra]) == EXIT_USER_ERROR
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "people.csv: no column(s) dataset, task, experiment, method, seed, so not " \
        "the results of a sweep (a data table?)" in error[0], error  # fmt: skip


def test_numbers_with_a_decimal_comma_are_pointed_out_and_read_with_dataset_decimal(tmp_path, caplog):
    """Read as text they became a category of a value per row, without a word."""
    table = make_craft(400, 0)
    path = tmp_path / "people.csv"
    table.assign(X1=table["X1"].map(lambda v: f"{v:.4f}".replace(".", ","))).to_csv(
        path, index=False, sep=";"
    )
    options = [
        "dataset.name=null",
        f"dataset.path={path}",
        "dataset.label=Target",
        "dataset.minority=1",
        "dataset.sep=;",
    ]
    as_text = load_dataset(load_config(None, options).dataset)
    assert as_text.schema.columns[0].kind == "category"
    assert "column 'X1' reads as text, but its values look like numbers written with a comma" in caplog.text
    caplog.clear()
    as_numbers = load_dataset(load_config(None, [*options, "dataset.decimal=','"]).dataset)
    assert as_numbers.schema.columns[0].kind == "float" and caplog.text == ""
    assert np.allclose(as_numbers.features["X1"], table["X1"].round(4))


def test_a_category_with_a_value_per_row_is_pointed_out(caplog):
    table = make_craft(400, 0).assign(when=[f"2020-01-{i:04d}" for i in range(400)])
    prepare_dataset(table, label="Target", minority=1)
    assert (
        "column 'when' has 400 distinct values in 400 rows: as a category (an id, a timestamp" in caplog.text
    )


def test_label_values_differing_only_by_spaces_are_pointed_out():
    table = make_craft(400, 0).assign(Target=lambda t: ["yes " if i % 7 == 0 else "yes" if v else "no"
                                                        for i, v in enumerate(t["Target"])])  # fmt: skip
    with pytest.raises(
        SynthscaleError, match="has 3 distinct values .*; some differ only by spaces at their ends"
    ):
        prepare_dataset(table, label="Target")
