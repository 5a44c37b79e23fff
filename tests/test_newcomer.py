"""What a newcomer types first: the README's own-data example, help that names no file outside
the clone, and every method listed where keys are listed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from synthscale.cli import main
from synthscale.config import load_config
from synthscale.data import make_craft
from synthscale.samplers.registry import sampler_names

README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = ("run", "fit", "report", "export", "generate", "config")


def own_data_example() -> list[str]:
    """The first `synthscale run` command under the README's "Your own data"."""
    section = README.read_text().split("**Your own data.**", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return shlex.split(block.replace("\\\n", " "))[1:]  # drop the program name


def test_the_readmes_own_data_example_runs_on_a_csv(ray_local, tmp_path, monkeypatch, capsys):
    table = make_craft(2000, 0).rename(columns={"Target": "income", "X6": "sex"})
    table["income"] = table["income"].map({0: "<=50K", 1: ">50K"})
    table = table.drop(table.index[table["income"].eq(">50K")][:400])  # a minority, as in adult
    table.to_csv(tmp_path / "adult.csv", index=False)
    monkeypatch.chdir(tmp_path)  # the example's relative paths
    args = own_data_example()
    assert "--set" in args and "dataset.path=adult.csv" in args and "dataset.name=null" not in args
    assert args[1] == "quickstart"  # the built-in sweep, by name
    small = ["methods=[raw,smote]", "experiment.seeds=[0]", "experiment.protocols=[ratio]",
             "experiment.ratio.ks=[0,2]", "split.seed_size=40"]  # fmt: skip
    assert main([*args, "--no-progress", *[x for s in small for x in ("--set", s)]]) == 0
    out = capsys.readouterr().out  # the UI page to open: the runs table, not MLflow 3's GenAI view
    assert re.search(r"then open http://127\.0\.0\.1:5000/#/experiments/\d+/runs", out)
    results = pd.read_csv(tmp_path / "runs" / "adult" / "results.csv")
    assert set(results["dataset"]) == {"adult"} and set(results["task"]) == {"imbalance", "spurious"}


def test_a_path_from_set_replaces_the_files_builtin_name_but_not_one_from_set(tmp_path):
    sweep = README.parent / "sweeps" / "quickstart.yaml"
    config = load_config(sweep, ["dataset.path=data.csv", "dataset.label=y"])
    assert (config.dataset.name, config.dataset.path) == (None, "data.csv")
    with pytest.raises(Exception, match="set exactly one of dataset.name"):
        load_config(sweep, ["dataset.path=data.csv", "dataset.name=craft", "dataset.label=y"])


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_no_file_outside_the_clone(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "../shared" not in text and "%%" not in text


def test_the_readme_names_no_file_outside_the_clone():
    assert "../shared" not in README.read_text()


def test_config_keys_lists_every_registered_method(capsys):
    assert main(["config", "--keys"]) == 0
    methods_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("methods"))
    missing = [
        name for name in sampler_names() if name not in methods_line and not name.endswith("_unconditional")
    ]
    assert missing == []
