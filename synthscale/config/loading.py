"""Reading a sweep: built-in sweeps by name, YAML, `--set` overrides, validation with every
problem named, saving, and the key reference `synthscale config --keys` prints."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from synthscale._io import atomic_write, why_not_a_file
from synthscale.config.common import describe_validation_error, reject_unknown_keys
from synthscale.config.data import DatasetConfig
from synthscale.config.sweep import SweepConfig
from synthscale.errors import SynthscaleError, did_you_mean

log = logging.getLogger(__name__)


def builtin_sweeps() -> dict[str, Path]:
    """The sweep files that ship inside the package, by name (quickstart, paper_ratio, ...)."""
    folder = Path(__file__).resolve().parents[1] / "sweeps"
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
    reject_unknown_keys(raw, SweepConfig, "")
    try:
        return SweepConfig.model_validate(raw)
    except ValidationError as exc:
        raise SynthscaleError(describe_validation_error(exc)) from None


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


def leaf_fields(model: type[BaseModel] = SweepConfig, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, field) for every setting; a section's fields under its name."""
    leaves = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            leaves.extend(leaf_fields(annotation, f"{prefix}{name}."))
        else:
            leaves.append((f"{prefix}{name}", field))
    return leaves


def describe_config(model: type[BaseModel] = SweepConfig, prefix: str = "") -> list[str]:
    """One 'key: default - description' line per setting, for `synthscale config --keys`."""
    return [f"{key}: {field.default!r} - {field.description}" for key, field in leaf_fields(model, prefix)]
