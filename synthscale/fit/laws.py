"""The five models a curve is fitted with, and a fitted law that residuals and figures evaluate.

Every free-alpha law is a case of L(N) = L_inf + C ((N0 + N) / (N0 + N_ref))^-alpha: `shifted`
has N0 free, `saturating` N0 = 0 with L_inf bounded, `power` N0 = 0 and L_inf = 0. `theory`
fixes alpha at the theory's value and `loglinear` (a + b log N) has no asymptote at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Law:
    """One model of the comparison: its name, its regression coefficients besides the seed
    levels (the error variance adds one to every model), whether alpha is estimated, how a
    verdict names it, and its formula (for --help and the report)."""

    name: str
    coefficients: int
    free_alpha: bool
    called: str
    formula: str


CATALOGUE = {
    law.name: law
    for law in (  # the free-alpha laws most general first: choice breaks AIC ties toward the later
        Law("shifted", 4, True, "the (N0 + N) law", "L_inf + C ((N0 + N)/(N0 + n_ref))^-alpha, N0 >= 0 free"),
        Law("saturating", 3, True, "the saturating law", "L_inf + C (N/n_ref)^-alpha"),
        Law("power", 2, True, "the pure power law", "C (N/n_ref)^-alpha (L_inf = 0)"),
        Law(
            "theory", 2, False, "the {theory} law", "L_inf + C (N/n_ref)^-alpha, alpha fixed at the theory's"
        ),
        Law("loglinear", 2, False, "log-linear decay", "a + b log N"),
    )
}
MODELS = tuple(CATALOGUE)
LAWS = tuple(name for name, law in CATALOGUE.items() if law.free_alpha)


def model_formulas() -> str:
    """Every model by name and formula, in one line of text."""
    return "; ".join(f"{law.name}: {law.formula}" for law in CATALOGUE.values())


@dataclass(frozen=True)
class FittedLaw:
    """L(N) = L_inf + C ((N0 + N) / (N0 + N_ref))^-alpha at a curve's fitted values; the one
    formula the residual table and the report's curves evaluate."""

    l_inf: float
    c: float
    alpha: float
    n_ref: float
    shift: float = 0.0

    @classmethod
    def from_row(cls, row: Mapping, n_ref: float | None = None) -> FittedLaw:
        """From an exponents row; a missing or NaN N0 is no shift, a missing n_ref is `n_ref`."""
        shift = row.get("N0", 0.0)
        return cls(
            float(row["L_inf"]),
            float(row["C"]),
            float(row["alpha"]),
            float(row.get("n_ref", n_ref)),
            float(shift) if np.isfinite(shift) else 0.0,
        )

    def shape(self, exponent: str) -> str:
        """How the loss decays, in words a figure's legend can hold: N^-alpha, or (N0 + N)^-alpha
        with the fitted N0."""
        return f"(N0 + N)^-{exponent}, N0 = {self.shift:.3g}" if self.shift > 0 else f"N^-{exponent}"

    def predict(self, n: np.ndarray) -> np.ndarray:
        """The law's loss at N rows (the average seed's, without seed levels)."""
        return self.l_inf + self.c * ((n + self.shift) / (self.n_ref + self.shift)) ** (-self.alpha)
