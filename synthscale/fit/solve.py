"""Given alpha every law is linear: the bounded least squares that profiles alpha (and N0).

L_inf is bounded to [0, the design's ceiling] (`power`: fixed at 0). One bounded coefficient in
a convex quadratic: its constrained optimum is the unconstrained one clipped to the bounds, with
the other coefficients solved again at the clipped value.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from synthscale.fit.design import Design
from synthscale.fit.laws import FittedLaw

ALPHA_BOUNDS = (1e-3, 10.0)  # searched range of the exponent
PROFILE_GRID = 120  # log-spaced starting grid for alpha before the bounded refinement
SHIFT_GRID = 32  # log-spaced values of N0 in [N_min / 10, SHIFT_MAX_FACTOR * N_ref], plus 0
SHIFT_MAX_FACTOR = 30.0
SHIFTED_PROFILE_GRID = 40  # alpha grid of the shifted law, whose every point solves a grid of N0


def solve_given_alpha(design: Design, alpha: float, law: str) -> tuple[np.ndarray, float]:
    """Weighted least squares of the loss on (1, x^-alpha, seed levels) with L_inf bounded to
    [0, l_inf_max] (`saturating`, `theory`, `shifted` at the design's N0) or fixed at 0
    (`power`): (L_inf, C, levels...), RSS.

    One bounded coefficient in a convex quadratic: its constrained optimum is the unconstrained
    one clipped to the bounds, with the other coefficients solved again at the clipped value.
    This runs thousands of times per curve (profile, interval, bootstrap), hence plain lstsq."""
    root_w = np.sqrt(design.weights)
    power = design.x ** (-alpha)
    scale = power.max()  # keeps lstsq from dropping the intercept when x^-alpha spans decades
    free = np.column_stack([power / scale, design.levels]) * root_w[:, None]
    target = design.loss * root_w
    if law == "power":
        l_inf = 0.0
    else:
        full = np.column_stack([root_w, free])
        unconstrained = np.linalg.lstsq(full, target, rcond=None)[0]
        l_inf = float(np.clip(unconstrained[0], 0.0, design.l_inf_max))
        if l_inf == unconstrained[0]:  # inside its bounds: already the constrained optimum
            rss = float(np.sum((target - full @ unconstrained) ** 2))
            return np.concatenate([[l_inf, unconstrained[1] / scale], unconstrained[2:]]), rss
    rest = np.linalg.lstsq(free, target - l_inf * root_w, rcond=None)[0]
    rss = float(np.sum((target - l_inf * root_w - free @ rest) ** 2))
    return np.concatenate([[l_inf, rest[0] / scale], rest[1:]]), rss


def fitted_values(design: Design, alpha: float, coef: np.ndarray) -> np.ndarray:
    """The law at the design's points, each with its seed's level."""
    law = FittedLaw(coef[0], coef[1], alpha, design.n_ref, design.shift)
    return law.predict(design.n) + design.levels @ coef[2:]


def law_fit(design: Design, alpha: float, law: str) -> tuple[np.ndarray, float, Design]:
    """(coefficients, RSS, design) of a law at this alpha; for `shifted` the design carries the
    best N0 (a log grid, then a bounded refinement of log N0), i.e. the profile over N0 too."""
    if law != "shifted":
        return (*solve_given_alpha(design, alpha, law), design)
    shifts = np.concatenate(
        [[0.0], np.geomspace(design.n.min() / 10, SHIFT_MAX_FACTOR * design.n_ref, SHIFT_GRID)]
    )
    rss = [solve_given_alpha(design.shifted(n0), alpha, "saturating")[1] for n0 in shifts]
    best = int(np.argmin(rss))
    if 0 < best < len(shifts) - 1:
        refined = optimize.minimize_scalar(
            lambda log_n0: solve_given_alpha(design.shifted(np.exp(log_n0)), alpha, "saturating")[1],
            bounds=(
                np.log(shifts[best - 1]) if best > 1 else np.log(shifts[1]) - 1,
                np.log(shifts[best + 1]),
            ),
            method="bounded",
        )
        if refined.fun < rss[best]:
            shifted = design.shifted(np.exp(refined.x))
            return (*solve_given_alpha(shifted, alpha, "saturating"), shifted)
    shifted = design.shifted(shifts[best])
    return (*solve_given_alpha(shifted, alpha, "saturating"), shifted)


def best_alpha(
    design: Design, law: str, grid_points: int = PROFILE_GRID, shift_points: int = SHIFT_GRID
) -> float:
    """The alpha minimizing the RSS: a log-spaced grid, then a bounded refinement (for
    `shifted`, a joint grid of alpha and N0, then a joint refinement: `shifted_optimum`)."""
    if law == "shifted":
        return shifted_optimum(design, min(grid_points, SHIFTED_PROFILE_GRID), shift_points)[0]

    def rss(alpha: float) -> float:
        return law_fit(design, alpha, law)[1]

    grid = np.geomspace(*ALPHA_BOUNDS, grid_points)
    best = grid[int(np.argmin([rss(a) for a in grid]))]
    step = (ALPHA_BOUNDS[1] / ALPHA_BOUNDS[0]) ** (1 / (grid_points - 1))
    bracket = (max(best / step, ALPHA_BOUNDS[0]), min(best * step, ALPHA_BOUNDS[1]))
    return float(optimize.minimize_scalar(rss, bounds=bracket, method="bounded").x)


def shift_bounds(design: Design) -> tuple[float, float]:
    """Searched range of N0 in the joint fit: from a thousandth of the smallest N (there the
    law is the saturating one to 0.1 %) to SHIFT_MAX_FACTOR times N_ref."""
    return design.n.min() / 1000, SHIFT_MAX_FACTOR * design.n_ref


def shifted_optimum(design: Design, alpha_points: int, shift_points: int) -> tuple[float, float]:
    """(alpha, N0) minimizing the RSS of the shifted law: the best point of a log grid of both
    (every point solved at once, `shifted_rss_grid`), then Nelder-Mead in (log alpha, log N0).
    A joint search: profiling N0 inside a scalar search of alpha gives a jagged profile that
    stops short of the optimum. Fast enough for the bootstrap's refits."""
    alphas = np.geomspace(*ALPHA_BOUNDS, alpha_points)
    shifts = np.geomspace(*shift_bounds(design), shift_points)
    i, j = np.unravel_index(np.argmin(shifted_rss_grid(design, alphas, shifts)), (alpha_points, shift_points))

    def rss(log_params: np.ndarray) -> float:
        alpha, shift = np.exp(log_params)
        return solve_given_alpha(design.shifted(shift), alpha, "saturating")[1]

    refined = optimize.minimize(
        rss,
        np.log([alphas[i], shifts[j]]),
        method="Nelder-Mead",
        bounds=[np.log(ALPHA_BOUNDS), np.log(shift_bounds(design))],
        options={"xatol": 1e-4, "fatol": 1e-12},
    )
    return float(np.exp(refined.x[0])), float(np.exp(refined.x[1]))


def shifted_rss_grid(design: Design, alphas: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """RSS of the shifted law at every (alpha, N0) of a grid, (alphas, shifts): the same bounded
    least squares as `solve_given_alpha`, batched through numpy's stacked pseudo-inverse."""
    x = (design.n[None, :] + shifts[:, None]) / (design.n_ref + shifts[:, None])
    power = x[None] ** (-alphas[:, None, None])
    power = power / power.max(axis=-1, keepdims=True)
    root_w = np.sqrt(design.weights)
    levels = np.broadcast_to(design.levels, (*power.shape, design.seed_columns))
    free = np.concatenate([power[..., None], levels], axis=-1) * root_w[:, None]
    full = np.concatenate([np.broadcast_to(root_w[:, None], (*power.shape, 1)), free], axis=-1)
    target = design.loss * root_w
    coef = np.einsum("...pn,n->...p", np.linalg.pinv(full), target)
    rss = np.sum((target - np.einsum("...np,...p->...n", full, coef)) ** 2, axis=-1)
    l_inf = np.clip(coef[..., 0], 0.0, design.l_inf_max)
    clipped = l_inf != coef[..., 0]
    if clipped.any():  # L_inf at its bound: the other coefficients solved again, as in solve_given_alpha
        rest_target = target - l_inf[clipped][:, None] * root_w
        rest = np.einsum("...pn,...n->...p", np.linalg.pinv(free[clipped]), rest_target)
        residual = rest_target - np.einsum("...np,...p->...n", free[clipped], rest)
        rss[clipped] = np.sum(residual**2, axis=-1)
    return rss
