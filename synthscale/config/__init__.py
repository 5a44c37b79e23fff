"""The sweep configuration: one typed model, loaded from YAML in one place.

Every field has a default and a description, so `SweepConfig` doubles as the YAML reference
(`synthscale config --keys` prints it through `describe_config`). One module per part:
`common` (types, limits, the base section and key checks), `data`, `experiment`, `generator`,
`run` (downstream, resources, tracking), `sweep` (the whole model) and `loading` (YAML in,
overrides, validation, the built-in sweeps).
"""

from synthscale.config.common import (
    CALIBRATION_WITH_ROWS,
    DATA_ACCESSES,
    MAX_SEED,
    MIN_CALIBRATION_ROWS,
    N_AUG_KEY,
    N_ROW_STEP,
    PATH_CHARACTERS,
    TRACKING_SCHEMES,
    Calibration,
    Classifier,
    DataAccess,
    Protocol,
    Section,
    SectionT,
    Task,
    describe_validation_error,
    listed_once,
    path_safe,
    reject_unknown_keys,
    validate_section,
)
from synthscale.config.data import (
    BUILTIN_DATASETS,
    DatasetConfig,
    SplitConfig,
)
from synthscale.config.experiment import (
    AugmentConfig,
    ExperimentConfig,
    NativeConfig,
    RatioConfig,
)
from synthscale.config.generator import (
    GeneratorConfig,
    LLMConfig,
    PeersConfig,
)
from synthscale.config.loading import (
    builtin_sweeps,
    describe_builtin_sweeps,
    describe_config,
    leaf_fields,
    load_config,
    save_config,
    sweep_file,
    validate_config,
)
from synthscale.config.run import (
    DownstreamConfig,
    LogisticRegressionConfig,
    RandomForestConfig,
    ResourcesConfig,
    TrackingConfig,
    XGBoostConfig,
)
from synthscale.config.sweep import (
    GeometricGrid,
    SweepConfig,
    resolve_geometric_n_aug,
)

__all__ = [
    "AugmentConfig",
    "BUILTIN_DATASETS",
    "CALIBRATION_WITH_ROWS",
    "Calibration",
    "Classifier",
    "DATA_ACCESSES",
    "DataAccess",
    "DatasetConfig",
    "DownstreamConfig",
    "ExperimentConfig",
    "GeneratorConfig",
    "GeometricGrid",
    "LLMConfig",
    "LogisticRegressionConfig",
    "MAX_SEED",
    "MIN_CALIBRATION_ROWS",
    "N_AUG_KEY",
    "N_ROW_STEP",
    "NativeConfig",
    "PATH_CHARACTERS",
    "PeersConfig",
    "Protocol",
    "RandomForestConfig",
    "RatioConfig",
    "ResourcesConfig",
    "Section",
    "SectionT",
    "SplitConfig",
    "SweepConfig",
    "TRACKING_SCHEMES",
    "Task",
    "TrackingConfig",
    "XGBoostConfig",
    "builtin_sweeps",
    "describe_builtin_sweeps",
    "describe_config",
    "leaf_fields",
    "describe_validation_error",
    "listed_once",
    "load_config",
    "path_safe",
    "reject_unknown_keys",
    "resolve_geometric_n_aug",
    "save_config",
    "sweep_file",
    "validate_config",
    "validate_section",
]
