"""`downstream:`, `resources:` and `tracking:`: the classifiers, the machines and MLflow."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    field_validator,
)

from synthscale.config.common import (
    TRACKING_SCHEMES,
    Calibration,
    Classifier,
    Section,
    listed_once,
)


class XGBoostConfig(Section):
    n_estimators: int = Field(100, gt=0, description="boosting rounds")
    max_depth: int = Field(6, gt=0, description="tree depth")
    learning_rate: float = Field(0.3, gt=0, description="shrinkage")


class RandomForestConfig(Section):
    n_estimators: int = Field(200, gt=0, description="trees")
    max_depth: int | None = Field(None, description="tree depth; null grows fully")


class LogisticRegressionConfig(Section):
    C: float = Field(1.0, gt=0, description="inverse L2 strength")
    max_iter: int = Field(1000, gt=0, description="solver iterations")


class DownstreamConfig(Section):
    classifiers: list[Classifier] = Field(["xgboost"], description="classifiers fitted per point")
    calibration: Calibration = Field(
        "sigmoid",
        description="how every fitted classifier is recalibrated for the *_cal risks: sigmoid (Platt) or "
        "isotonic on the calibration rows (split.calibration_size), class-balanced; prior_shift: the "
        "log-odds moved to a 50/50 class prior, no rows needed; none: no *_cal risks",
    )
    xgboost: XGBoostConfig = XGBoostConfig()
    random_forest: RandomForestConfig = RandomForestConfig()
    logistic_regression: LogisticRegressionConfig = LogisticRegressionConfig()

    _classifiers_once = field_validator("classifiers")(listed_once)

    @field_validator("classifiers")
    @classmethod
    def _some_classifier(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one of xgboost, random_forest, logistic_regression")
        return value


class ResourcesConfig(Section):
    cpus_per_trial: float = Field(1, gt=0, description="CPUs Ray reserves per trial")
    fits_per_trial: int = Field(
        40, gt=0, description="fits batched into one Ray Tune trial (amortizes trial overhead)"
    )
    max_failures: int = Field(
        1,
        ge=0,
        description="retries of a failed trial; a trial whose worker is lost is also run again in up "
        "to this many fresh rounds",
    )
    num_cpus: int | None = Field(None, gt=0, description="CPUs of the embedded local Ray; null: all")
    generator_cpus: int | None = Field(
        None,
        gt=0,
        description="CPUs per pool-building task (per worker) of an LLM; null: 1 beside a GPU, else a "
        "whole node (shared among generator_workers)",
    )
    generator_gpus: Annotated[float, Field(ge=0)] | Literal["auto"] = Field(
        "auto",
        description="GPUs per LLM pool-building task (per worker), e.g. 0.5 for two builds per GPU; "
        "auto: none on a cluster without GPUs, else a share of one GPU by the model: "
        "1/4 for the tiny model (four of its trainings share a GPU at about the speed of one), "
        "1 for any other",
    )
    generator_workers: int = Field(
        1,
        ge=1,
        description="processes that build one LLM pool together through Ray Train: the model trained "
        "data-parallel (each on its slice of every global batch) and the rows sampled in shares, "
        "each worker with generator_gpus GPUs, or generator_cpus CPUs (null: a node's CPUs / workers)",
    )

    @field_validator("generator_gpus", mode="before")
    @classmethod
    def _auto_not_null(cls, value: Any) -> Any:
        if value is None:  # a ValueError, which pydantic reports under the key
            raise ValueError("null is not a setting here: write auto (the default) or a number of GPUs")  # noqa: TRY004
        return value


class TrackingConfig(Section):
    uri: str | None = Field(
        None,
        description="MLflow tracking URI: sqlite:///PATH, http(s)://HOST:PORT of an mlflow server, "
        "databricks, or a database URL (postgresql://, mysql://, mssql://); null: sqlite:///<out>/mlflow.db",
    )
    experiment: str = Field("synthscale", description="MLflow experiment name")

    @field_validator("uri")
    @classmethod
    def _a_store_mlflow_opens(cls, value: str | None) -> str | None:
        """MLflow 3 refuses a file store, and an unknown scheme fails only once the sweep runs."""
        if value is None:
            return value
        scheme = value.partition("://")[0].split("+")[0] if "://" in value else ""
        if value == "databricks" or value.startswith("databricks://") or scheme in TRACKING_SCHEMES:
            return value
        if scheme in ("", "file"):
            raise ValueError(
                f"{value!r} is a plain file store, which MLflow 3 refuses; use a sqlite file, e.g. "
                "sqlite:///runs/mlflow.db, or an mlflow server, e.g. http://HOST:5000"
            )
        raise ValueError(
            f"{value!r}: MLflow has no store for the scheme {scheme}://; use sqlite:///PATH, "
            "http(s)://HOST:PORT, databricks, or postgresql://, mysql://, mssql://"
        )
