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


def edge_config(experiment: dict, methods=("raw", "smote", "llm")):
    from synthscale.config import validate_config

    return validate_config(
        {
            "name": "edge",
            "dataset": {"name": "craft", "craft_rows": 2000},
            "split": {"seed_size": 40},
            "experiment": {"tasks": ["imbalance"], "seeds": [0], **experiment},
            "methods": list(methods),
            "generator": {"llm": {"max_steps": 5}},
        }
    )


def test_the_balanced_baseline_alone_runs_without_pools(ray_local, tmp_path):
    """k = 0 alone: every method fits the balanced seed set itself, the same loss as raw, no
    pool built, no generator trained (it crashed on an empty pool, leaving a half-written dir)."""
    from synthscale.sweep.plan import plan_sweep
    from synthscale.sweep.runner import run_sweep

    config = edge_config({"protocols": ["ratio"], "ratio": {"ks": [0]}})
    assert plan_sweep(config).pool_specs == []
    results = run_sweep(config, tmp_path / "out", show_progress=False).results
    assert sorted(results["method"]) == ["llm", "raw", "smote"]
    assert results["minority_ce"].nunique() == 1 and results["n_synthetic"].eq(0).all()


def test_no_augmentation_alone_runs_with_the_balancing_rows_only(ray_local, tmp_path):
    from synthscale.sweep.runner import run_sweep

    config = edge_config({"protocols": ["augment"], "augment": {"n_aug": [0]}}, methods=("raw", "smote"))
    results = run_sweep(config, tmp_path / "out", show_progress=False).results.set_index("method")
    assert results.loc["raw", "n_synthetic"] == 0 and results.loc["smote", "n_synthetic"] > 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("methods=[raw,smote,raw]", "methods: 'raw' is listed twice; list each value once"),
        ("experiment.seeds=[0,1,0]", "experiment.seeds: 0 is listed twice"),
        ("experiment.ratio.ks=[1,2,1]", "experiment.ratio.ks: 1 is listed twice"),
        ("experiment.augment.n_aug=[2,2.0]", "experiment.augment.n_aug: 2 is listed twice"),
        ("downstream.classifiers=[xgboost,xgboost]", "downstream.classifiers: 'xgboost' is listed twice"),
        ("dataset.encoding=utf-99", "dataset.encoding: unknown encoding 'utf-99'; e.g. utf-8, latin-1"),
        # an empty axis ran '0 fits' and wrote a header-only results.csv; a temperature of inf
        # failed only after the generator had trained
        ("experiment.ratio.ks=[]", "experiment.ratio.ks is empty, so the ratio protocol would fit nothing"),
        (
            "experiment.augment.n_aug=[]",
            "experiment.augment.n_aug is empty, so the augment protocol would fit",
        ),
        ("downstream.classifiers=[]", "downstream.classifiers: list at least one of xgboost, random_forest"),
        ("generator.llm.temperature=.inf", "generator.llm.temperature: Input should be a finite number"),
        ("split.test_fraction=.nan", "split.test_fraction: Input should be a finite number"),
        # a traceback from numpy or XGBoost once the sweep ran
        (
            "experiment.seeds=[1099511627776]",
            "experiment.seeds.0: Input should be less than or equal to 2147483647",
        ),
        ("resources.num_cpus=0", "resources.num_cpus: Input should be greater than 0"),
        ("tracking.uri=foo://bar", "tracking.uri: 'foo://bar': MLflow has no store for the scheme foo://"),
        (
            "tracking.uri=file:///tmp/mlruns",
            "is a plain file store, which MLflow 3 refuses; use a sqlite file",
        ),
        ("tracking.uri=mlruns", "'mlruns' is a plain file store"),
        # a name that becomes part of a file name wrote outside --out, or into a subfolder
        (
            "dataset.alias=../../evil",
            "dataset.alias: '../../evil' becomes part of file names and cannot hold '/'",
        ),
        ("dataset.alias=a/b", "use letters, digits, - _ . and spaces, e.g. 'a_b'"),
        ("name=..", "name: '..' becomes part of file names and cannot be only dots"),
        # a 5-line PyYAML message
        (
            "experiment.seeds=[0, 1",
            "the value is not valid YAML (expected ',' or ']', but got '<stream end>' at",
        ),
        # surfaced as a Ray traceback from the pool-building task, the out dir half made
        ("generator.llm.model=/nowhere/model.gguf", "llm.model: GGUF file '/nowhere/model.gguf' not found"),
        # a 2-row test set gave an AUC of 1.0
        ("split.test_fraction=0.001", "split.test_fraction=0.001 gives group (X6=-1, Target=0) 2 test rows"),
    ],
)
def test_a_bad_grid_value_or_unknown_encoding_names_its_key(tmp_path, capsys, override, message):
    code = main(["run", "sweeps/quickstart.yaml", "--out", str(tmp_path / "out"), "--set", override])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and len(error) == 1 and message in error[0], error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fit", "results.csv", "--theory-alpha", "nan"],
            "argument --theory-alpha: 'nan': give a finite number above 0",
        ),
        (["fit", "results.csv", "--epsilon", "0"], "argument --epsilon: '0': give a finite number above 0"),
        (
            ["report", "results.csv", "--theory-alpha", "inf"],
            "argument --theory-alpha: 'inf': give a finite number",
        ),
    ],
)
def test_a_fit_number_that_is_not_a_positive_finite_number_is_refused(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == EXIT_USER_ERROR and message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["run", "{loop}"], "sweep file '{loop}' is a symbolic link that leads to no file (a loop"),
        (["run", "{folder}"], "sweep file '{folder}' is a directory, not a file; pass a YAML sweep file"),
        (["config", "{loop}"], "sweep file '{loop}' is a symbolic link"),
        (["fit", "{loop}", "--no-mlflow"], "results file '{loop}' is a symbolic link that leads to no file"),
    ],
)
def test_a_folder_or_a_symlink_loop_is_not_reported_as_not_found(tmp_path, capsys, command, message):
    loop, folder = tmp_path / "loop.yaml", tmp_path / "folder.yaml"
    loop.symlink_to(loop)
    folder.mkdir()
    paths = {"loop": loop, "folder": folder}
    code = main([part.format(**paths) for part in command])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR and len(error) == 1 and message.format(**paths) in error[0], error
