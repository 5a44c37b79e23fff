"""`experiment:`: the tasks, protocols, grids and seeds."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from synthscale.config.common import MAX_SEED, Protocol, Section, Task, listed_once


class RatioConfig(Section):
    ks: list[int] = Field(list(range(10)), description="k values: n_maj/n_min = 1 + k (Figures 1-2)")
    aug_size: int = Field(3, ge=0, description="+aug variants add aug_size * s synthetic rows")
    aug_weight: float = Field(0.5, gt=0, description="sample weight of +aug rows")

    _ks_once = field_validator("ks")(listed_once)


class AugmentConfig(Section):
    majority_size: int = Field(4, gt=0, description="real majority rows added to the seed set, in units of s")
    n_aug: list[int | Annotated[float, Field(allow_inf_nan=False)]] = Field(
        list(range(0, 20, 2)),
        description="augmentation sizes N in units of s (Figures 3-4): a list (N*s a multiple of 4 rows), "
        "or {geometric: {start, stop, points, include_zero: true}}, resolved to a sorted list",
    )
    aug_weight: float = Field(0.5, gt=0, description="sample weight of the N augmentation rows")
    reference: bool = Field(True, description="also fit on all real training rows (all_real)")

    @field_validator("n_aug", mode="before")
    @classmethod
    def _resolved_list(cls, value: Any) -> Any:
        if isinstance(value, dict):  # SweepConfig resolves it; here only when split is invalid
            # a ValueError, which pydantic reports under the key
            raise ValueError("a {geometric: ...} grid needs a valid split.seed_size; fix split first")  # noqa: TRY004
        return value

    @field_validator("n_aug", mode="after")
    @classmethod
    def _whole_numbers_as_int(cls, value: list[int | float]) -> list[int | float]:
        """2.0 is 2: grid keys read N=2s, the same key whether the YAML writes 2 or 2.0."""
        return listed_once([int(n) if float(n).is_integer() else n for n in value])


class NativeConfig(Section):
    folds: int = Field(
        5,
        ge=2,
        description="stratified folds of the table as it is; seed r tests fold r mod folds of the "
        "partition drawn with seed r // folds (seeds 0-4: one 5-fold cross-validation)",
    )


class ExperimentConfig(Section):
    tasks: list[Task] = Field(["imbalance", "spurious"], description="imbalance, spurious")
    protocols: list[Protocol] = Field(
        ["ratio", "augment"],
        description="ratio, augment (the paper's), or native alone (k-fold on the table as it is, "
        "each sampler balancing the training fold: the oversampling literature's protocol)",
    )
    seeds: list[Annotated[int, Field(ge=0, le=MAX_SEED)]] = Field(
        [0, 1, 2, 3, 4], description="replicates: each seeds the split, generator and fit"
    )
    ratio: RatioConfig = RatioConfig()
    augment: AugmentConfig = AugmentConfig()
    native: NativeConfig = NativeConfig()
    oracle_doses: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        [0.25, 0.5, 2.0],
        description="the oracle's dose ladder, as multiples of the rows a method adds: besides its own "
        "point, the oracle adds these multiples of them (ratio: at every k > 0; augment: the balancing "
        "rows below N = 0, and N above the largest N), so that each point has the risk of m real rows "
        "as a function of m, from which a method's rows are priced in real rows (worth); [] for none",
    )

    _axes_once = field_validator("tasks", "protocols", "seeds", "oracle_doses")(listed_once)

    @field_validator("oracle_doses", mode="after")
    @classmethod
    def _doses_beside_one(cls, value: list[float]) -> list[float]:
        if 1.0 in value:
            raise ValueError(
                "1 is the oracle's own point, always fitted; list the other doses, e.g. [0.25, 0.5, 2]"
            )
        return sorted(value)

    @model_validator(mode="after")
    def _non_empty(self) -> ExperimentConfig:
        for name in ("tasks", "protocols", "seeds"):
            if not getattr(self, name):
                raise ValueError(f"experiment.{name} must list at least one value")
        if "native" in self.protocols and len(self.protocols) > 1:
            raise ValueError(
                f"experiment.protocols={self.protocols}: native splits the table into folds, other "
                "splits than ratio's and augment's; run native in a sweep of its own"
            )
        for protocol, key, values in (
            ("ratio", "ratio.ks", self.ratio.ks),
            ("augment", "augment.n_aug", self.augment.n_aug),
        ):
            if protocol in self.protocols and not values:
                raise ValueError(
                    f"experiment.{key} is empty, so the {protocol} protocol would fit nothing; list at "
                    f"least one value or drop {protocol} from experiment.protocols"
                )
        if any(k < 0 for k in self.ratio.ks) or any(n < 0 for n in self.augment.n_aug):
            raise ValueError("experiment.ratio.ks and experiment.augment.n_aug must be >= 0")
        return self
