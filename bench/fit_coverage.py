"""Recovery and coverage of the scaling-law fitter on simulated sweeps with known alpha.

For alpha in {0.5, 1, 2} and three laws, the saturating one (L_inf = 0.8 > 0), the pure
power law (L_inf = 0) and the shifted law in (N0 + N) (`--laws shifted`: N0 = 3,000 rows,
L_inf = 0.5, a fall of 0.6 across the scaling sweep's geometric grid of 16 N from 48 to 51,200
rows, as the scaling sweep's curves fall): one noise-free curve (the estimate must be within +-0.05), then
`--sweeps` noisy sweeps (the default augment grid N = 2s..18s, s = 200, 5 seeds, Gaussian
noise of sd `--noise` per point) in two settings: independent noise only, and a level per
seed (sd `--seed-sd`) shared by all of the seed's points, as one split and one nested pool
per seed produce in a real sweep. Each sweep is fitted with the default model (a level per
seed) and, for comparison, without seed levels. For the pure law the seed levels are centred:
its average seed's asymptote is 0, as the model says (uncentred, some seeds would have a
negative asymptote, which no loss has). Prints the share of 95 % intervals of the
reported law (profile, and the cluster bootstrap over seeds) that cover the true alpha, and
how often the generating law was the one chosen; target >= 0.90.

usage: python bench/fit_coverage.py [--sweeps 200] [--noise 0.03] [--seed-sd 0.05] [--replicates 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from synthscale.fit import Curve, fit_curve

N_GRID = np.arange(2, 20, 2) * 200.0
SEEDS, L_INF, C = 5, 0.8, 0.5
WIDE_GRID = np.round(np.geomspace(48, 51_200, 16))  # the scaling sweep's N
SHIFT, SHIFTED_L_INF, SHIFTED_FALL = 3_000.0, 0.5, 0.6


def simulate(
    alpha: float, noise: float, seed_sd: float, rng: np.random.Generator, l_inf: float = L_INF
) -> Curve:
    n = np.repeat(N_GRID, SEEDS)
    seed = np.tile(np.arange(SEEDS), len(N_GRID))
    level = rng.normal(0.0, seed_sd, SEEDS)
    if l_inf == 0.0:  # the pure law: the average seed's asymptote is 0 (a loss cannot go below it)
        level -= level.mean()
    loss = l_inf + level[seed] + C * (n / N_GRID.max()) ** (-alpha) + rng.normal(0.0, noise, len(n))
    return Curve(n, loss, seed)


def simulate_shifted(alpha: float, noise: float, seed_sd: float, rng: np.random.Generator) -> Curve:
    """L_inf + C ((N0 + N) / (N0 + N_max))^-alpha on the wide grid, C set so the curve falls by
    SHIFTED_FALL from its smallest to its largest N whatever alpha is."""
    n = np.repeat(WIDE_GRID, SEEDS)
    seed = np.tile(np.arange(SEEDS), len(WIDE_GRID))
    x = (SHIFT + n) / (SHIFT + WIDE_GRID.max())
    c = SHIFTED_FALL / (x.min() ** (-alpha) - 1)
    level = rng.normal(0.0, seed_sd, SEEDS)
    loss = SHIFTED_L_INF + level[seed] + c * x ** (-alpha) + rng.normal(0.0, noise, len(n))
    return Curve(n, loss, seed)


def coverage(rows: list[dict], alpha: float, law: str) -> tuple[float, float, float, float]:
    """(profile cover, bootstrap cover, mean estimate, share of fits that chose `law`)."""
    profile = np.mean([r["alpha_ci_low"] <= alpha <= r["alpha_ci_high"] for r in rows])
    boot = np.mean([r["alpha_boot_low"] <= alpha <= r["alpha_boot_high"] for r in rows])
    chosen = np.mean([r["law"] == law for r in rows])
    return float(profile), float(boot), float(np.mean([r["alpha"] for r in rows])), float(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.03, help="sd of the independent noise per point")
    parser.add_argument(
        "--seed-sd", type=float, default=0.05, help="sd of the level shared by a seed's points"
    )
    parser.add_argument("--replicates", type=int, default=100, help="bootstrap replicates per fit")
    parser.add_argument(
        "--laws", default="saturating,power,shifted", help="generating laws to run, comma-separated"
    )
    parser.add_argument(
        "--no-comparison", action="store_true", help="fit the default model only (no independent-points fit)"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{args.sweeps} sweeps per row; noise sd {args.noise}; coverage of the 95 % intervals")
    print(
        f"{'law':>10s} {'alpha':>5s} {'seed sd':>7s} {'model':>12s} {'noise-free':>10s} {'profile cover':>13s} "
        f"{'bootstrap cover':>15s} {'mean alpha':>10s} {'law chosen':>10s} {'s':>5s}"
    )
    simulators = {
        "saturating": lambda alpha, noise, seed_sd: simulate(alpha, noise, seed_sd, rng, L_INF),
        "power": lambda alpha, noise, seed_sd: simulate(alpha, noise, seed_sd, rng, 0.0),
        "shifted": lambda alpha, noise, seed_sd: simulate_shifted(alpha, noise, seed_sd, rng),
    }
    for law in args.laws.split(","):
        simulator = simulators[law]
        for alpha in (0.5, 1.0, 2.0):
            for seed_sd in (0.0, args.seed_sd):
                started = time.perf_counter()
                exact = fit_curve(simulator(alpha, 0.0, 0.0), bootstrap_replicates=0)["alpha"]
                curves = [simulator(alpha, args.noise, seed_sd) for _ in range(args.sweeps)]
                models = ((True, "seed levels"),) + (() if args.no_comparison else ((False, "independent"),))
                for seed_effects, model in models:
                    rows = [fit_curve(curve, bootstrap_replicates=args.replicates, bootstrap_seed=i,
                                      seed_effects=seed_effects) for i, curve in enumerate(curves)]  # fmt: skip
                    profile, boot, mean, chosen = coverage(rows, alpha, law)
                    print(
                        f"{law:>10s} {alpha:5.1f} {seed_sd:7.2f} {model:>12s} {exact:10.4f} {profile:13.3f} "
                        f"{boot:15.3f} {mean:10.3f} {chosen:10.2f} {time.perf_counter() - started:5.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
