"""Bad input, config surface: sweep files and --set. Each is refused with one line that names
the file or key and the fix, before anything is written."""

from __future__ import annotations

import pytest

from synthscale.cli import EXIT_USER_ERROR, main


def run_file(tmp_path, content: bytes, capsys) -> tuple[int, list[str]]:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_bytes(content)
    code = main(["run", str(sweep), "--out", str(tmp_path / "out"), "--no-progress"])
    return code, capsys.readouterr().err.strip().splitlines()


def test_an_empty_sweep_file_is_refused_not_run_as_the_default_grid(tmp_path, capsys):
    code, error = run_file(tmp_path, b"", capsys)
    assert code == EXIT_USER_ERROR and len(error) == 1
    assert "the sweep file is empty; write the sections to run" in error[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"- raw\n- smote\n", "expected a mapping of sections at the top level"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a text file"),
        (b"methods: [raw\n", "not valid YAML"),
    ],
)
def test_a_sweep_file_that_is_not_a_mapping_of_sections_is_refused(tmp_path, capsys, content, message):
    code, error = run_file(tmp_path, content, capsys)
    assert code == EXIT_USER_ERROR and message in "\n".join(error)
    assert not (tmp_path / "out").exists()
