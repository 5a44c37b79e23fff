"""`SweepConfig`: the whole sweep, its sections and the checks across them."""

from __future__ import annotations

from typing import Any

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from synthscale._io import hash_json
from synthscale.config.common import (
    CALIBRATION_WITH_ROWS,
    N_AUG_KEY,
    N_ROW_STEP,
    Section,
    describe_validation_error,
    listed_once,
    path_safe,
    reject_unknown_keys,
)
from synthscale.config.data import DatasetConfig, SplitConfig
from synthscale.config.experiment import ExperimentConfig
from synthscale.config.generator import GeneratorConfig
from synthscale.config.run import DownstreamConfig, ResourcesConfig, TrackingConfig
from synthscale.errors import SynthscaleError


class SweepConfig(Section):
    name: str = Field("sweep", description="sweep name: MLflow parent run and default out dir")
    _name_is_a_file_name = field_validator("name")(path_safe)
    dataset: DatasetConfig = DatasetConfig()
    datasets: list[DatasetConfig] = Field(
        [],
        description="several datasets in one sweep, each a dataset section (replaces dataset); "
        "the grid runs over all of them",
    )
    split: SplitConfig = SplitConfig()
    experiment: ExperimentConfig = ExperimentConfig()
    methods: list[str] = Field(
        ["raw", "ros", "smote", "adasyn", "ros_aug", "smote_aug", "adasyn_aug"],
        description="raw, all_real, a sampler (ros, smote, adasyn, independent, gaussian_copula, llm; "
        "with the peers installed: great, ctgan, tvae, smote_variants.<Name>), or <sampler>_aug",
    )
    generator: GeneratorConfig = GeneratorConfig()
    downstream: DownstreamConfig = DownstreamConfig()
    resources: ResourcesConfig = ResourcesConfig()
    tracking: TrackingConfig = TrackingConfig()

    _methods_once = field_validator("methods")(listed_once)

    @model_validator(mode="before")
    @classmethod
    def _resolve_geometric_n_aug(cls, data: Any) -> Any:
        """A geometric N grid becomes the list of N it stands for; the rounding needs s."""
        experiment = data.get("experiment") if isinstance(data, dict) else None
        augment = experiment.get("augment") if isinstance(experiment, dict) else None
        if not isinstance(augment, dict) or not isinstance(augment.get("n_aug"), dict):
            return data
        try:
            split = data.get("split", {})
            seed_size = (
                split if isinstance(split, SplitConfig) else SplitConfig.model_validate(split)
            ).seed_size
        except ValidationError:
            return data  # reported by the split section
        n_aug = resolve_geometric_n_aug(augment["n_aug"], seed_size)
        return {**data, "experiment": {**experiment, "augment": {**augment, "n_aug": n_aug}}}

    @model_validator(mode="after")
    def _whole_n_aug_rows(self) -> SweepConfig:
        seed_size = self.split.seed_size
        for n in self.experiment.augment.n_aug:
            rows = n * seed_size
            if abs(rows - round(rows)) > 1e-6 or round(rows) % N_ROW_STEP:
                nearest = max(N_ROW_STEP, round(rows / N_ROW_STEP) * N_ROW_STEP)
                raise SynthscaleError(
                    f"invalid sweep config: {N_AUG_KEY}: N={n} is {rows:g} rows at split.seed_size="
                    f"{seed_size}; N*s must be a multiple of {N_ROW_STEP} rows (half per class, a quarter "
                    f"per group): use {_units(nearest, seed_size)}"
                )
        return self

    @model_validator(mode="after")
    def _dataset_or_datasets(self) -> SweepConfig:
        if self.datasets and "dataset" in self.model_fields_set and self.dataset != DatasetConfig():
            raise ValueError(
                "set either dataset (one table) or datasets (a list of them), not both; "
                "move the dataset section into the datasets list"
            )
        return self

    @model_validator(mode="after")
    def _calibration_has_rows(self) -> SweepConfig:
        method = self.downstream.calibration
        if method in CALIBRATION_WITH_ROWS and self.split.calibration_rows == 0:
            raise ValueError(
                f"downstream.calibration={method} is fitted on calibration rows but "
                "split.calibration_size=0; hold some out (e.g. split.calibration_size=200), or use "
                "downstream.calibration=prior_shift (no rows) or none"
            )
        return self

    @model_validator(mode="after")
    def _batch_splits_over_workers(self) -> SweepConfig:
        batch, workers = self.generator.llm.batch_size, self.resources.generator_workers
        if batch % workers:
            raise ValueError(
                f"generator.llm.batch_size={batch} rows per step do not split evenly over "
                f"resources.generator_workers={workers}; set batch_size to a multiple of {workers}"
            )
        return self

    def dataset_configs(self) -> list[DatasetConfig]:
        """The datasets the grid runs over, in the order given."""
        return list(self.datasets) or [self.dataset]

    def config_hash(self) -> str:
        """Hash of everything that ran; feeds cache keys."""
        return hash_json(self.model_dump(mode="json"))


class GeometricGrid(Section):
    start: float = Field(gt=0, description="first N, in units of s")
    stop: float = Field(gt=0, description="last N, in units of s")
    points: int = Field(ge=2, description="values spaced evenly in log N")
    include_zero: bool = Field(True, description="also N = 0, the no-augmentation level")

    @model_validator(mode="after")
    def _increasing(self) -> GeometricGrid:
        if self.start >= self.stop:
            raise ValueError(f"start={self.start:g} must be below stop={self.stop:g}")
        return self


class _GeometricSpec(Section):
    geometric: GeometricGrid


def resolve_geometric_n_aug(spec: dict[str, Any], seed_size: int) -> list[int | float]:
    """`{geometric: {start, stop, points}}` (units of s) -> sorted distinct N, each N*s rounded
    to a multiple of N_ROW_STEP rows, led by N = 0 unless `include_zero: false`."""
    reject_unknown_keys(spec, _GeometricSpec, f"{N_AUG_KEY}.")
    try:
        grid = _GeometricSpec.model_validate(spec).geometric
    except ValidationError as exc:
        raise SynthscaleError(describe_validation_error(exc, f"{N_AUG_KEY}.")) from None
    step = N_ROW_STEP / seed_size  # units of s
    ratio = grid.stop / grid.start
    rows = {round(grid.start * ratio ** (i / (grid.points - 1)) / step) for i in range(grid.points)}
    where = f"invalid sweep config: {N_AUG_KEY}: geometric start={grid.start:g}"
    if 0 in rows:
        smallest = _units(N_ROW_STEP, seed_size)
        raise SynthscaleError(
            f"{where} is under 2 rows at split.seed_size={seed_size}; use start >= {smallest}"
        )
    if len(rows) < 2:
        raise SynthscaleError(
            f"{where}, stop={grid.stop:g} give a single N ({next(iter(rows)) * N_ROW_STEP} rows; N*s is "
            f"rounded to a multiple of {N_ROW_STEP} rows at split.seed_size={seed_size}); widen start..stop"
        )
    return [0] * grid.include_zero + [_units(n * N_ROW_STEP, seed_size) for n in sorted(rows)]


def _units(rows: int, seed_size: int) -> int | float:
    """Rows in units of s: an int when whole (N=2s), else the float."""
    units = rows / seed_size
    return int(units) if units.is_integer() else units
