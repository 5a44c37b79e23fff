"""What every section of the sweep configuration shares: the value types, the limits, the
frozen base model, and the checks that name an unknown or invalid key."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
)

from synthscale.errors import SynthscaleError, did_you_mean

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


class Section(BaseModel):
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


SectionT = TypeVar("SectionT", bound=BaseModel)


def validate_section(model: type[SectionT], raw: dict[str, Any], where: str) -> SectionT:
    """One section from a dict the Python API was given, its errors named after `where`
    (e.g. "LLMOverSampler(llm=...)") and the section's own keys."""
    try:
        reject_unknown_keys(raw, model, "")
        return model.model_validate(raw)
    except SynthscaleError as exc:
        raise SynthscaleError(f"{where}: {exc}") from None
    except ValidationError as exc:
        message = describe_validation_error(exc).removeprefix("invalid sweep config: ")
        raise SynthscaleError(f"{where}: {message}") from None


def reject_unknown_keys(raw: Any, model: type[BaseModel], prefix: str) -> None:
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
            reject_unknown_keys(value, annotation, f"{dotted}.")
        item = _section_list_item(annotation)
        if item is not None and isinstance(value, list):
            for index, entry in enumerate(value):
                reject_unknown_keys(entry, item, f"{dotted}.{index}.")


def _section_list_item(annotation: Any) -> type[BaseModel] | None:
    """The section type of a `list[Section]` field (datasets), else None."""
    args = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is list and args and isinstance(args[0], type):
        return args[0] if issubclass(args[0], BaseModel) else None
    return None


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        where = prefix + ".".join(str(part) for part in err["loc"]) or "config"
        message = err["msg"].removeprefix("Value error, ")
        got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
        lines.append(f"{where}: {message}{got}")
    return "invalid sweep config: " + "; ".join(lines)
