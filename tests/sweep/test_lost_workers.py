"""Trials whose worker dies: Tune retries them, and a trial Tune gives up on is run again in a
fresh round (Tune does not retry one whose reused worker dies while it hands over the next
batch); an error in the trial's own code is not run again by the rounds."""

from __future__ import annotations

import os

from ray import tune
from ray.exceptions import RayActorError

from synthscale.sweep.trials import TRIAL_PARAM, fit_trials, run_rounds


def flaky_trainable(attempts_dir, deaths: int):
    """Batch "dies" kills its worker `deaths` times before reporting; batch "bug" raises."""

    def trainable(config):
        batch = config[TRIAL_PARAM]
        marker = attempts_dir / batch
        with marker.open("a") as f:
            f.write("x")
        if batch == "bug":
            raise ValueError("a bug in the batch's own code")
        if batch == "dies" and len(marker.read_text()) <= deaths:
            os._exit(1)
        tune.report({"done": 1})

    return trainable


def attempts(attempts_dir, batch: str) -> int:
    return len((attempts_dir / batch).read_text())


def rounds(tmp_path, batches: list[str], deaths: int, max_failures: int) -> list[Exception]:
    attempts_dir = tmp_path / "attempts"
    attempts_dir.mkdir()
    trainable = flaky_trainable(attempts_dir, deaths)

    def fit(ids, name):
        return fit_trials(trainable, ids, name, [], tmp_path / "ray_results", max_failures)

    return run_rounds(fit, batches, "trials", max_failures)


def test_a_trial_tune_gives_up_on_after_losing_its_worker_runs_again_in_a_new_round(tmp_path, ray_local):
    # max_failures 1: Tune runs "dies" twice and gives up; the next round's run reports
    errors = rounds(tmp_path, ["dies", "fine"], deaths=2, max_failures=1)
    assert errors == []
    assert attempts(tmp_path / "attempts", "dies") == 3
    assert attempts(tmp_path / "attempts", "fine") == 1
    assert sorted(p.name for p in (tmp_path / "ray_results").iterdir()) == ["trials", "trials-retry1"]


def test_lost_workers_past_every_round_and_a_bug_are_the_errors_left(tmp_path, ray_local):
    errors = rounds(tmp_path, ["dies", "bug", "fine"], deaths=10, max_failures=1)
    assert len(errors) == 2
    assert sum(isinstance(e, RayActorError) for e in errors) == 1
    assert any("a bug in the batch's own code" in str(e) for e in errors)
    assert attempts(tmp_path / "attempts", "dies") == 4  # two rounds of Tune's two tries
    assert attempts(tmp_path / "attempts", "bug") == 2  # Tune's two tries, no second round
    assert attempts(tmp_path / "attempts", "fine") == 1


def test_without_retries_a_lost_worker_fails_the_trial_once(tmp_path, ray_local):
    errors = rounds(tmp_path, ["dies"], deaths=1, max_failures=0)
    assert len(errors) == 1 and isinstance(errors[0], RayActorError)
    assert attempts(tmp_path / "attempts", "dies") == 1
