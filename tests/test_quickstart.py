"""The README's promise: the quickstart sweep runs from the command line, exactly tracked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from synthscale.config import load_config
from synthscale.sweep.plan import plan_sweep

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "sweeps" / "quickstart.yaml"


@pytest.mark.slow
def test_quickstart_sweep_from_the_command_line(tmp_path):
    out_dir = tmp_path / "quickstart"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthscale",
            "run",
            str(QUICKSTART),
            "--out",
            str(out_dir),
            "--no-progress",
            "--set",
            f"generator.llm.cache_dir={tmp_path / 'models'}",  # train here, not from ~/.cache
        ],
        check=True,
        timeout=1500,
        capture_output=True,
        text=True,
    )
    assert "Failed to fetch metrics" not in run.stderr + run.stdout  # Tune's noise stays quiet
    results = pd.read_csv(out_dir / "results.csv")
    grid_keys = [g.key for g in plan_sweep(load_config(QUICKSTART)).grid]
    assert results["grid_key"].tolist() == grid_keys
    assert set(results["method"]) == {
        *("raw", "llm", "ros", "smote", "adasyn", "independent", "gaussian_copula", "oracle"),
        *("llm_aug", "ros_aug", "smote_aug", "adasyn_aug", "all_real"),
    }
    assert results[["minority_ce", "auc", "brier", "balanced_ce_cal", "minority_ce_cal"]].notna().all().all()
    # the oracle at spurious N = 18s needs more real rows of craft's rarest group than are left
    oracle = results[
        (results["method"] == "oracle") & (results["dose"] == 1) & (results["n_aug_units"] <= 18)
    ]
    assert len(oracle) == 2 * 2 * (10 + 10) - 2 and "the oracle is left out at 1 point" in run.stderr
    ladder = results[(results["method"] == "oracle") & (results["dose"] != 1)]
    assert len(ladder) == 2 * 2 * (9 * 3 + 2)  # 3 doses at k = 1..9, 2 of the augment base
    pools = pd.read_csv(out_dir / "pools.csv")
    llm = pools.loc[pools["sampler"] == "llm"]
    assert len(llm) == 12 and (llm["validity"] == 1.0).all()  # 2 seeds x (2 classes + 4 groups)
    assert sorted(llm["model_reused"].tolist()) == [0.0] * 4 + [1.0] * 8  # one model per seed

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out_dir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("synthscale")
    runs = client.search_runs([experiment.experiment_id], max_results=10000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    fits = [r for r in children if "synthscale.grid_key" in r.data.tags]
    assert sorted(r.data.tags["synthscale.grid_key"] for r in fits) == sorted(grid_keys)
    generators = [r for r in children if "synthscale.generator_model" in r.data.tags]
    assert len(generators) == 2 and len(children) == len(fits) + 2  # one model per seed, nothing else
