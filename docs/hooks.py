"""MkDocs hook: the reference pages are generated from the code at every build, so they cannot
drift from it: every YAML key from the config model (type, default, description) and every
command's `--help` from the argument parser."""

from __future__ import annotations

import os
import types
import typing
from typing import Any

from mkdocs.structure.files import File, Files
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from synthscale.cli import build_parser
from synthscale.config import describe_builtin_sweeps, leaf_fields

CONFIG_PAGE = "reference/config.md"
CLI_PAGE = "reference/cli.md"
HELP_WIDTH = "100"  # argparse wraps --help to $COLUMNS: fixed, so a build does not depend on the terminal


def on_files(files: Files, config: Any) -> Files:
    for page, content in ((CONFIG_PAGE, config_reference()), (CLI_PAGE, cli_reference())):
        existing = files.get_file_from_path(page)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, page, content=content))
    return files


def type_name(annotation: Any) -> str:
    """A YAML reader's name for a field's type: `list[str]`, `int | null`, `one of 'seed', 'train'`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a).lower() if isinstance(a, bool) else repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(type_name(a) for a in args)}]"
    return getattr(annotation, "__name__", str(annotation)).replace("Config", " section")


def default_text(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if value is None:
        return "`null`"
    return f"`{value!r}`" if not isinstance(value, str) else f"`{value}`"


def cell(text: str) -> str:
    """Table-cell safe: no column breaks, and `<table>` in a description is text, not HTML."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def config_reference() -> str:
    lines = [
        "# YAML keys",
        "",
        "Every key a sweep file (or `--set KEY=VALUE`) accepts, generated from the config model "
        "(`synthscale/config/`) at every docs build; `synthscale config --keys` prints the same "
        "list in a terminal and `synthscale config SWEEP` the values a sweep resolves to. Unknown "
        "keys are refused with the closest known one.",
        "",
    ]
    sections: dict[str, list[str]] = {}
    for key, field in leaf_fields():
        section = key.split(".")[0] if "." in key else "top level"
        sections.setdefault(section, []).append(
            f"| `{key}` | {cell(type_name(field.annotation))} | {cell(default_text(field))} | "
            f"{cell(field.description or '')} |"
        )
    top = sections.pop("top level")
    for section, rows in {"top level": top, **sections}.items():
        lines += ["", f"## {section}", "", "| key | type | default | meaning |", "|---|---|---|---|", *rows]
    lines += ["", "## Built-in sweeps", "", "Run by name (`synthscale run quickstart`):", "", "```text"]
    lines += [*describe_builtin_sweeps(), "```", ""]
    return "\n".join(lines)


def cli_reference() -> str:
    os.environ["COLUMNS"] = HELP_WIDTH
    parser = build_parser()
    lines = [
        "# Command line",
        "",
        "Every command's `--help`, generated from the parser (`synthscale/cli/parser.py`) at every docs "
        "build. `python -m synthscale` is the same program.",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
    ]
    commands = next(a for a in parser._actions if a.dest == "command")  # argparse keeps subparsers here
    for name, command in commands.choices.items():
        lines += ["", f"## synthscale {name}", "", "```text", command.format_help().rstrip(), "```"]
    return "\n".join(lines) + "\n"
