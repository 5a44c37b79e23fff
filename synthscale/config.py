"""The sweep configuration: one typed model, loaded from YAML in one place.

Every field has a default and a description, so `SweepConfig` doubles as the YAML reference
(`synthscale config --keys` prints it through `describe_config`).
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synthscale._io import atomic_write, hash_json, why_not_a_file
from synthscale.errors import SynthscaleError, did_you_mean

log = logging.getLogger(__name__)

Task = Literal["imbalance", "spurious"]
Protocol = Literal["ratio", "augment", "native"]
Classifier = Literal["xgboost", "random_forest", "logistic_regression"]
DataAccess = Literal["seed", "train"]
DATA_ACCESSES = ("seed", "train")
Calibration = Literal["sigmoid", "isotonic", "prior_shift", "none"]
CALIBRATION_WITH_ROWS = ("sigmoid", "isotonic")  # the methods fitted on the calibration rows
# N rows are split half per class and, in the spurious task, half again per group: a multiple
# of 4 gives every class and group the same count (split.seed_size is one too)
N_ROW_STEP = 4
N_AUG_KEY = "experiment.augment.n_aug"
# two calibration rows per group: the least from which both classes are seen twice
MIN_CALIBRATION_ROWS = 8


# numpy's legacy RandomState and XGBoost's random_state take 32-bit seeds; a seed is also
# offset per stage, so the cap leaves room below 2**32
MAX_SEED = 2**31 - 1
TRACKING_SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql")
PATH_CHARACTERS = "/\\\0:"  # separators on any OS, NUL, and Windows' drive colon


class _Section(BaseModel):
    # inf and nan are no setting's value: refused with the key (a sampling temperature of .inf
    # would otherwise fail only after training)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def path_safe(value: str | None) -> str | None:
    """A name that becomes part of a file name (fits/<dataset>-..., runs/<name>, figures):
    no directory separators or NUL, and not . or .. (which would write outside --out)."""
    if value is None:
        return value
    bad = sorted({c for c in value if c in PATH_CHARACTERS or ord(c) < 32})
    if bad or value.strip() in ("", ".", ".."):
        problem = f"cannot hold {', '.join(repr(c) for c in bad)}" if bad else "cannot be only dots"
        safe = "".join("_" if c in bad else c for c in value).strip("._ ") or "data"
        raise ValueError(
            f"{value!r} becomes part of file names and {problem}; use letters, digits, - _ . and "
            f"spaces, e.g. {safe!r}"
        )
    return value


def listed_once(values: list[Any]) -> list[Any]:
    """A grid axis lists each value once: a repeat would fit the same point twice."""
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice; list each value once")
        seen.add(value)
    return values


BUILTIN_DATASETS = ("craft", "adult")


class DatasetConfig(_Section):
    name: str | None = Field(
        "craft",
        description="built-in dataset: craft (simulated), adult (OpenML), or keel/<table> (the KEEL "
        "imbalanced collection: `synthscale datasets` lists it); null with path",
    )
    path: str | None = Field(None, description="CSV or Parquet file; set name: null when used")
    label: str | None = Field(None, description="binary label column (built-ins have a default)")
    spurious: str | Literal[False] | None = Field(
        None, description="binary spurious attribute column, optional; false: none (drops a built-in's)"
    )
    # bool and float kept as YAML read them: a True/False or 0.0/1.0 column is matched by value,
    # and a `yes` that YAML made True is named as such in the error
    minority: str | bool | int | float | None = Field(
        None, description="minority label value; default: the rarer value"
    )
    spurious_positive: str | bool | int | float | None = Field(
        None,
        description="spurious value paired with the minority label in the 'agree' groups; "
        "default: the larger of the two sorted values",
    )
    missing: Literal["drop", "error"] = Field(
        "drop", description="rows with missing values: drop them (counted) or stop with an error"
    )
    na_values: list[str] = Field(
        ["?", ""],
        description="the strings a CSV cell must be to be read as missing, exactly these (an empty "
        "cell is ''); NA, None, null and the like stay values unless listed",
    )
    sep: str = Field(",", min_length=1, description="the CSV's field delimiter, e.g. ';' or '\\t' (a tab)")
    encoding: str = Field("utf-8", description="the CSV's text encoding, e.g. latin-1 or cp1252")
    decimal: Literal[".", ","] = Field(
        ".", description="the CSV's decimal mark: ',' reads 1,5 as the number 1.5 (use with sep=';')"
    )
    craft_rows: int = Field(8000, gt=0, description="rows of the simulated craft table")
    craft_seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the craft table's generating process")
    cache_dir: str = Field(
        "~/.cache/synthscale/openml", description="where the adult loader caches OpenML files"
    )
    alias: str | None = Field(
        None, description="the dataset's name in results and MLflow; default: built-in name or file stem"
    )

    _alias_is_a_file_name = field_validator("alias")(path_safe)

    @field_validator("label", "spurious", mode="before")
    @classmethod
    def _column_names_are_text(cls, value: Any) -> Any:
        """A CSV header is text: `dataset.label=0` names the column '0' (YAML read a number)."""
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("name")
    @classmethod
    def _known_name(cls, value: str | None) -> str | None:
        if value is None or value in BUILTIN_DATASETS or (value.startswith("keel/") and len(value) > 5):
            return value
        hint = did_you_mean(value, BUILTIN_DATASETS)
        raise ValueError(
            f"unknown dataset {value!r}{hint}; use craft, adult, keel/<table>, or null with path"
        )

    @field_validator("sep")
    @classmethod
    def _tab_as_written(cls, value: str) -> str:
        """`--set dataset.sep=\\t` arrives as a backslash and a t: the user means a tab."""
        return "\t" if value == "\\t" else value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; e.g. utf-8, latin-1, cp1252") from None
        return value

    @model_validator(mode="after")
    def _one_source(self) -> DatasetConfig:
        if (self.name is None) == (self.path is None):
            raise ValueError(
                "set exactly one of dataset.name (craft, adult, keel/<table>) and dataset.path "
                "(e.g. --set dataset.name=null --set dataset.path=data.csv)"
            )
        return self


class SplitConfig(_Section):
    test_fraction: float = Field(0.3, gt=0, lt=1, description="held-out test share")
    seed_size: int = Field(200, gt=0, description="rows of the balanced seed set (s); divisible by 4")
    calibration_size: int | None = Field(
        None,
        ge=0,
        description="real training rows per replicate held out, balanced over groups (classes), to "
        "recalibrate every classifier (the *_cal risks); no classifier or generator sees them; "
        "null: split.seed_size; 0: none (downstream.calibration prior_shift or none)",
    )

    @model_validator(mode="after")
    def _divisible(self) -> SplitConfig:
        for name, rows in (("seed_size", self.seed_size), ("calibration_size", self.calibration_rows)):
            if rows % 4:
                raise ValueError(
                    f"split.{name}={rows} must be divisible by 4 (the set is balanced over four groups)"
                )
        if 0 < self.calibration_rows < MIN_CALIBRATION_ROWS:
            raise ValueError(
                f"split.calibration_size={self.calibration_rows}: a calibration set needs at least "
                f"{MIN_CALIBRATION_ROWS} rows (2 per group), or 0 for none"
            )
        return self

    @property
    def calibration_rows(self) -> int:
        """The calibration set's size: split.calibration_size, or s when it is null."""
        return self.seed_size if self.calibration_size is None else self.calibration_size


class RatioConfig(_Section):
    ks: list[int] = Field(list(range(10)), description="k values: n_maj/n_min = 1 + k (Figures 1-2)")
    aug_size: int = Field(3, ge=0, description="+aug variants add aug_size * s synthetic rows")
    aug_weight: float = Field(0.5, gt=0, description="sample weight of +aug rows")

    _ks_once = field_validator("ks")(listed_once)


class AugmentConfig(_Section):
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
            raise ValueError("a {geometric: ...} grid needs a valid split.seed_size; fix split first")
        return value

    @field_validator("n_aug", mode="after")
    @classmethod
    def _whole_numbers_as_int(cls, value: list[int | float]) -> list[int | float]:
        """2.0 is 2: grid keys read N=2s, as they did when N was a list of integers."""
        return listed_once([int(n) if float(n).is_integer() else n for n in value])


class NativeConfig(_Section):
    folds: int = Field(
        5,
        ge=2,
        description="stratified folds of the table as it is; seed r tests fold r mod folds of the "
        "partition drawn with seed r // folds (seeds 0-4: one 5-fold cross-validation)",
    )


class ExperimentConfig(_Section):
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

    _axes_once = field_validator("tasks", "protocols", "seeds")(listed_once)

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


class LLMConfig(_Section):
    model: str = Field(
        "tiny",
        description="tiny (GPT-2 built from scratch), a local model directory, a hub id, or a .gguf file",
    )
    # small, one-kernel GELU and no dropout: a step's cost is the rows it processes times the
    # model's size, and on CPU dropout's masks cost a third of a step (bench/RESULTS.md)
    tiny_layers: int = Field(2, gt=0, description="tiny: transformer layers")
    tiny_width: int = Field(96, gt=0, description="tiny: embedding width (a multiple of tiny_heads)")
    tiny_heads: int = Field(4, gt=0, description="tiny: attention heads")
    tiny_dropout: float = Field(
        0.0, ge=0, lt=1, description="tiny: dropout of embeddings, attention and residuals (GPT-2's: 0.1)"
    )
    # GPT-2's tanh approximation as one kernel: gelu_new computes it in Python-level ops
    tiny_activation: Literal["gelu_pytorch_tanh", "gelu_new", "gelu", "relu"] = Field(
        "gelu_pytorch_tanh",
        description="tiny: activation of the MLP blocks (gelu_pytorch_tanh = GPT-2's gelu_new in one kernel)",
    )
    epochs: float = Field(400, gt=0, description="passes over the visible rows (capped by max_steps)")
    max_steps: int = Field(1500, gt=0, description="most optimizer steps of fine-tuning")
    holdout_share: float = Field(
        0.0,
        ge=0,
        lt=0.5,
        description="share of the visible rows (per class) held out to stop training once their loss "
        "stops falling, keeping the best step's weights (e.g. 0.1); 0: train every step",
    )
    eval_every: int = Field(50, gt=0, description="steps between evaluations of the held-out loss")
    patience: int = Field(
        4, gt=0, description="evaluations without a new best held-out loss before training stops"
    )
    interpolated_rows: float = Field(
        2.0,
        ge=0,
        description="SMOTE rows added to the training rows per real row of each class, between "
        "near neighbours (generator.k_neighbors) of that class; they teach the model each class's "
        "joint structure from a small seed set (0: real rows only)",
    )
    column_order: Literal["auto", "random", "fixed"] = Field(
        "auto",
        description="order of the feature columns in training rows: random per row (any column "
        "can be conditioned on, and a model that sees each row many times copies less), fixed, the "
        "table's own (a column is learned as a function of those before it, e.g. a product), or "
        "auto: fixed when training passes over its rows at most 10 times (a large table), else random",
    )
    learning_rate: float = Field(1e-3, gt=0, description="peak AdamW learning rate (cosine decay)")
    batch_size: int = Field(
        64,
        gt=0,
        description="rows per training step, all processes together (each of W trains on batch_size/W)",
    )
    minority_share: float = Field(
        0.5, gt=0, lt=1, description="share of each training batch drawn from the minority class"
    )
    temperature: float = Field(
        1.4,
        gt=0,
        description="sampling temperature; above 1 widens the rows of a model trained on a small "
        "seed set (1.3-1.4 measured best on craft and adult with interpolated rows; 1.4 keeps "
        "the rows further from the ones the model saw)",
    )
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling mass (1: off)")
    top_k: int = Field(0, ge=0, description="sample among the k likeliest tokens (0: off)")
    guidance: Annotated[float, Field(ge=1.0)] | Literal["auto"] = Field(
        "auto",
        description="label guidance: each token's log-probability is pushed away from what the "
        "same prompt with the other label predicts, by this factor: rows more typical of their "
        "class (1: off; above 1 doubles the sampling cost); auto: 1.5 for a model trained in "
        "fixed column order, else 1",
    )
    condition_features: int = Field(
        0,
        ge=0,
        description="feature values each prompt copies from a random real row of the target, "
        "the model writing the rest (0: the prompt is the label, and the attribute, alone)",
    )
    max_rows_per_batch: int = Field(512, gt=0, description="rows generated per batch (per process)")
    lora_rank: int = Field(
        0,
        ge=0,
        description="0: fine-tune every weight; r > 0: LoRA of rank r (needs peft) plus the row tokens",
    )
    train_seed: int = Field(
        0, ge=0, le=MAX_SEED, description="seed of initialisation, batches and column orders"
    )
    bf16: bool = Field(True, description="bf16 mixed precision on GPU (ignored on CPU)")
    cache_dir: str = Field(
        "~/.cache/synthscale/models", description="trained generators, reused by every later sweep"
    )

    @model_validator(mode="after")
    def _heads_divide_width(self) -> LLMConfig:
        if self.tiny_width % self.tiny_heads:
            raise ValueError(
                f"llm.tiny_width={self.tiny_width} is not a multiple of llm.tiny_heads={self.tiny_heads}"
            )
        if self.condition_features and self.column_order == "fixed":
            raise ValueError(
                f"llm.condition_features={self.condition_features} copies feature columns in a random "
                "order, which a model trained with llm.column_order=fixed never saw; set "
                "llm.column_order=random or llm.condition_features=0"
            )
        return self


class GeometricGrid(_Section):
    start: float = Field(gt=0, description="first N, in units of s")
    stop: float = Field(gt=0, description="last N, in units of s")
    points: int = Field(ge=2, description="values spaced evenly in log N")
    include_zero: bool = Field(True, description="also N = 0, the no-augmentation level")

    @model_validator(mode="after")
    def _increasing(self) -> GeometricGrid:
        if self.start >= self.stop:
            raise ValueError(f"start={self.start:g} must be below stop={self.stop:g}")
        return self


class _GeometricSpec(_Section):
    geometric: GeometricGrid


class PeersConfig(_Section):
    """The peer generators of other libraries (ctgan, tvae, great): installed apart, see the README."""

    epochs: int = Field(300, gt=0, description="training epochs (ctgan's default: 300)")
    batch_size: int = Field(
        500, gt=0, multiple_of=10, description="rows per training step (a multiple of CTGAN's pac, 10)"
    )
    train_seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the training's random draws")
    max_rounds: int = Field(
        50,
        gt=0,
        description="sampling budget per target, in rounds of max(n, 256) rows: a generator that "
        "cannot be conditioned draws rows and keeps the target's; it fails once the acceptance "
        "so far says the budget cannot make the rest",
    )
    great_model: str = Field(
        "tiny",
        description="great: tiny (GPT-2 from scratch at llm.tiny_* size, BPE tokenizer of the rows' "
        "text), a local model directory or a hub id (the paper: distilgpt2)",
    )
    # 600 steps of 32 rows: the length bench/generator.py compared with the LLM's
    great_steps: int = Field(600, gt=0, description="great: optimizer steps of fine-tuning")
    great_batch_size: int = Field(32, gt=0, description="great: rows per training step")
    great_learning_rate: float = Field(1e-3, gt=0, description="great: AdamW learning rate (1e-3 suits tiny)")
    great_temperature: float = Field(0.7, gt=0, description="great: sampling temperature (GReaT's 0.7)")
    great_float_digits: int | None = Field(
        3, ge=0, description="great: decimals a float keeps in the row's text (null: all)"
    )


class GeneratorConfig(_Section):
    data_access: DataAccess | list[DataAccess] = Field(
        "seed",
        description="rows a generator may see: seed (the seed set), train (all training rows), "
        "or a list of both (one more grid axis)",
    )
    k_neighbors: int = Field(5, gt=0, description="neighbours for smote and adasyn")
    diagnostics: bool = Field(
        True, description="score every pool against the real rows (detection AUC, distances)"
    )
    on_failure: Literal["stop", "record"] = Field(
        "stop",
        description="a sampler that cannot make a target's rows on one table (e.g. a peer that never "
        "draws the minority): stop the sweep, or record the failure in the fits that needed the "
        "rows (results.csv column failure, metrics empty) and go on",
    )
    llm: LLMConfig = LLMConfig()
    peers: PeersConfig = PeersConfig()

    @field_validator("data_access", mode="before")
    @classmethod
    def _known_accesses(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ValueError("list at least one of seed, train")
        for access in values:
            if access not in DATA_ACCESSES:
                hint = did_you_mean(str(access), DATA_ACCESSES)
                raise ValueError(f"unknown data access {access!r}{hint}; use seed, train or [train, seed]")
        if len(set(values)) < len(values):
            raise ValueError(f"{values} lists an access twice; list each once")
        return value

    def data_accesses(self) -> list[str]:
        """The accesses the grid runs over, in the order given."""
        return list(self.data_access) if isinstance(self.data_access, list) else [self.data_access]


class XGBoostConfig(_Section):
    n_estimators: int = Field(100, gt=0, description="boosting rounds")
    max_depth: int = Field(6, gt=0, description="tree depth")
    learning_rate: float = Field(0.3, gt=0, description="shrinkage")


class RandomForestConfig(_Section):
    n_estimators: int = Field(200, gt=0, description="trees")
    max_depth: int | None = Field(None, description="tree depth; null grows fully")


class LogisticRegressionConfig(_Section):
    C: float = Field(1.0, gt=0, description="inverse L2 strength")
    max_iter: int = Field(1000, gt=0, description="solver iterations")


class DownstreamConfig(_Section):
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


class ResourcesConfig(_Section):
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
    generator_gpus: float | None = Field(
        None,
        ge=0,
        description="GPUs per LLM pool-building task (per worker); null: 1 when the cluster has GPUs, else 0",
    )
    generator_workers: int = Field(
        1,
        ge=1,
        description="processes that build one LLM pool together through Ray Train: the model trained "
        "data-parallel (each on its slice of every global batch) and the rows sampled in shares, "
        "each worker with generator_gpus GPUs, or generator_cpus CPUs (null: a node's CPUs / workers)",
    )


class TrackingConfig(_Section):
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


class SweepConfig(_Section):
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


def resolve_geometric_n_aug(spec: dict[str, Any], seed_size: int) -> list[int | float]:
    """`{geometric: {start, stop, points}}` (units of s) -> sorted distinct N, each N*s rounded
    to a multiple of N_ROW_STEP rows, led by N = 0 unless `include_zero: false`."""
    _reject_unknown_keys(spec, _GeometricSpec, f"{N_AUG_KEY}.")
    try:
        grid = _GeometricSpec.model_validate(spec).geometric
    except ValidationError as exc:
        raise SynthscaleError(_describe_validation_error(exc, f"{N_AUG_KEY}.")) from None
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


def builtin_sweeps() -> dict[str, Path]:
    """The sweep files that ship inside the package, by name (quickstart, paper_ratio, ...)."""
    folder = Path(__file__).resolve().parent / "sweeps"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def describe_builtin_sweeps() -> list[str]:
    """One 'name  first comment line' per built-in sweep, for `synthscale config --list`."""
    sweeps = builtin_sweeps()
    width = max(map(len, sweeps), default=0)
    return [f"{name:<{width}}  {_summary(path)}" for name, path in sweeps.items()]


def _summary(path: Path, width: int = 90) -> str:
    """The first sentence of the file's leading comment, cut to `width` at a word."""
    comment = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# ").strip())
    sentence = " ".join(comment).split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= width else sentence[: width - 1].rsplit(" ", 1)[0] + " …"


def sweep_file(reference: str | Path) -> Path:
    """A sweep file by path, or by a built-in sweep's name: `quickstart` runs from any folder
    once the package is installed. A file of that name in the working folder wins."""
    path = Path(reference)
    if path.exists() or path.is_symlink():
        return path
    sweeps = builtin_sweeps()
    name = path.name.removesuffix(".yaml").removesuffix(".yml")
    if str(reference) in sweeps or (path.parent == Path("sweeps") and name in sweeps):
        return sweeps[name]
    listed = ", ".join(sweeps)
    hint = did_you_mean(str(reference), list(sweeps))
    raise SynthscaleError(
        f"sweep file {str(reference)!r} {why_not_a_file(path)}; pass a YAML sweep file or a built-in "
        f"sweep's name ({listed}){hint}"
    )


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> SweepConfig:
    """Read YAML, apply `--set a.b=c` overrides, validate; every problem is a SynthscaleError.
    `path` is a sweep file or a built-in sweep's name (`builtin_sweeps`)."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = sweep_file(path)
        if not path.is_file():
            raise SynthscaleError(f"sweep file {str(path)!r} {why_not_a_file(path)}; pass a YAML sweep file")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SynthscaleError(f"{path}: not valid YAML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise SynthscaleError(
                f"{path}: not a text file ({exc.reason} at byte {exc.start}); pass a YAML sweep file"
            ) from exc
        if raw is None:  # an empty file would silently run the whole default grid
            raise SynthscaleError(
                f"{path}: the sweep file is empty; write the sections to run (as in sweeps/quickstart.yaml); "
                "`synthscale config` prints the defaults an empty section takes"
            )
        if not isinstance(raw, dict):
            raise SynthscaleError(f"{path}: expected a mapping of sections at the top level")
    _fill_empty_sections(raw, SweepConfig)
    for override in overrides or []:
        _apply_override(raw, override)
    _path_override_replaces_name(raw, overrides or [])
    return validate_config(raw)


def _path_override_replaces_name(raw: dict[str, Any], overrides: list[str]) -> None:
    """`--set dataset.path=…` plainly means "use this file": it replaces the built-in
    dataset.name of the sweep file (or the default), and says so. Both set by --set stays an error."""
    keys = {override.partition("=")[0].strip() for override in overrides}
    dataset = raw.get("dataset")
    if "dataset.path" not in keys or "dataset.name" in keys or not isinstance(dataset, dict):
        return
    replaced = dataset.get("name", DatasetConfig.model_fields["name"].default)
    if replaced is not None and dataset.get("path") is not None:
        dataset["name"] = None
        log.warning("dataset.path from --set replaces dataset.name: %s of the sweep", replaced)


def _fill_empty_sections(raw: dict[str, Any], model: type[BaseModel]) -> None:
    """`dataset:` with nothing under it reads as None: make it an empty section."""
    for key, value in list(raw.items()):
        field = model.model_fields.get(key)
        annotation = field.annotation if field else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if value is None:
                raw[key] = {}
            elif isinstance(value, dict):
                _fill_empty_sections(value, annotation)


def validate_config(raw: dict[str, Any]) -> SweepConfig:
    """Validate a plain dict; unknown keys get the nearest valid key as a suggestion."""
    _reject_unknown_keys(raw, SweepConfig, "")
    try:
        return SweepConfig.model_validate(raw)
    except ValidationError as exc:
        raise SynthscaleError(_describe_validation_error(exc)) from None


SectionT = TypeVar("SectionT", bound=BaseModel)


def validate_section(model: type[SectionT], raw: dict[str, Any], where: str) -> SectionT:
    """One section from a dict the Python API was given, its errors named after `where`
    (e.g. "LLMOverSampler(llm=...)") and the section's own keys."""
    try:
        _reject_unknown_keys(raw, model, "")
        return model.model_validate(raw)
    except SynthscaleError as exc:
        raise SynthscaleError(f"{where}: {exc}") from None
    except ValidationError as exc:
        message = _describe_validation_error(exc).removeprefix("invalid sweep config: ")
        raise SynthscaleError(f"{where}: {message}") from None


def save_config(config: SweepConfig, path: str | Path) -> None:
    """Write the config that ran, atomically, as YAML."""
    with atomic_write(path) as handle:
        yaml.safe_dump(config.model_dump(mode="json"), handle, sort_keys=False)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's message in one line: what it expected and at which character."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at character {mark.column + 1}" if mark is not None else problem


def _apply_override(raw: dict[str, Any], override: str) -> None:
    key, sep, text = override.partition("=")
    if not sep or not key:
        raise SynthscaleError(f"--set {override!r}: expected KEY=VALUE, e.g. dataset.label=income")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SynthscaleError(
            f"--set {override!r}: the value is not valid YAML ({_yaml_problem(exc)}); a list is "
            "[a, b], a text with , : [ ] { } # is quoted, e.g. --set 'dataset.label=\"a: b\"'"
        ) from None
    parts = key.split(".")
    node = raw
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise SynthscaleError(f"--set {override!r}: '{where}' is a value, not a section")
        node = child
    node[parts[-1]] = value


def _reject_unknown_keys(raw: Any, model: type[BaseModel], prefix: str) -> None:
    if not isinstance(raw, dict):
        return
    fields = model.model_fields
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            hint = did_you_mean(dotted, [f"{prefix}{name}" for name in fields])
            hint = hint or f"; valid keys: {', '.join(fields)}"
            raise SynthscaleError(f"unknown key '{dotted}'{hint}")
        annotation = fields[key].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _reject_unknown_keys(value, annotation, f"{dotted}.")
        item = _section_list_item(annotation)
        if item is not None and isinstance(value, list):
            for index, entry in enumerate(value):
                _reject_unknown_keys(entry, item, f"{dotted}.{index}.")


def _section_list_item(annotation: Any) -> type[BaseModel] | None:
    """The section type of a `list[Section]` field (datasets), else None."""
    args = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is list and args and isinstance(args[0], type):
        return args[0] if issubclass(args[0], BaseModel) else None
    return None


def _describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        where = prefix + ".".join(str(part) for part in err["loc"]) or "config"
        message = err["msg"].removeprefix("Value error, ")
        got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
        lines.append(f"{where}: {message}{got}")
    return "invalid sweep config: " + "; ".join(lines)


def describe_config(model: type[BaseModel] = SweepConfig, prefix: str = "") -> list[str]:
    """One 'key: default - description' line per field, for the README and `--help`."""
    lines = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines.extend(describe_config(annotation, f"{prefix}{name}."))
        else:
            lines.append(f"{prefix}{name}: {field.default!r} - {field.description}")
    return lines
