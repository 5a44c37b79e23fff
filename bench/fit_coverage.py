"""Recovery and coverage of the scaling-law fitter on simulated sweeps with known alpha.

For alpha in {0.5, 1, 2}: one noise-free curve (the estimate must be within +-0.05), then
`--sweeps` noisy sweeps (the default augment grid N = 2s..18s, s = 200, 5 seeds, Gaussian
noise of sd `--noise` per point). Prints the share of 95 % intervals (profile likelihood, and
the cluster bootstrap over seeds) that cover the true alpha; target >= 0.90.

usage: python bench/fit_coverage.py [--sweeps 200] [--noise 0.03] [--replicates 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from synthscale.fit import Curve, fit_curve

N_GRID = np.arange(2, 20, 2) * 200.0
SEEDS, L_INF, C = 5, 0.8, 0.5


def simulate(alpha: float, noise: float, rng: np.random.Generator) -> Curve:
    n = np.repeat(N_GRID, SEEDS)
    loss = L_INF + C * (n / N_GRID.max()) ** (-alpha) + rng.normal(0.0, noise, len(n))
    return Curve(n, loss, np.tile(np.arange(SEEDS), len(N_GRID)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.03)
    parser.add_argument("--replicates", type=int, default=100, help="bootstrap replicates per fit")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"{'alpha':>5s} {'noise-free':>10s} {'profile cover':>13s} {'bootstrap cover':>15s} {'mean alpha':>10s} {'s':>5s}"
    )
    for alpha in (0.5, 1.0, 2.0):
        started = time.perf_counter()
        exact = fit_curve(simulate(alpha, 0.0, rng), bootstrap_replicates=0)["alpha"]
        rows = [fit_curve(simulate(alpha, args.noise, rng), bootstrap_replicates=args.replicates,
                          bootstrap_seed=i) for i in range(args.sweeps)]  # fmt: skip
        profile = np.mean([r["alpha_ci_low"] <= alpha <= r["alpha_ci_high"] for r in rows])
        boot = np.mean([r["alpha_boot_low"] <= alpha <= r["alpha_boot_high"] for r in rows])
        mean = np.mean([r["alpha"] for r in rows])
        print(
            f"{alpha:5.1f} {exact:10.4f} {profile:13.3f} {boot:15.3f} {mean:10.3f} {time.perf_counter() - started:5.0f}"
        )


if __name__ == "__main__":
    main()
