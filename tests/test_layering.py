"""STYLE.md "synthscale's shape": data flows one way, and heavy libraries stay in their stage.

Every module under synthscale/ is parsed with `ast` (imports inside functions count too) and
checked against the stage order: a lower stage never imports a higher one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "synthscale"
STAGES = (
    "data",
    "targets",
    "splits",
    "samplers",
    "downstream",
    "risks",
    "calibration",
    "diagnostics",
    "experiments",
    "sweep",
    "fit",
    "gains",
    "worth",
    "leaderboard",
    "report",
    "cli",
    "__main__",  # `python -m synthscale`: the command line, run as a module
)
LEAVES = ("errors", "config", "_io", "_version")
ROOT, LEAF = "synthscale", "leaf"
# top-level third-party package -> the module path prefixes (relative to synthscale/) allowed to import it
HEAVY_IMPORTS = {
    "ray": ("sweep/",),
    "mlflow": ("sweep/tracking.py",),
    "torch": ("samplers/llm/", "samplers/great.py"),  # great: GReaT's language model, a peer
    "transformers": ("samplers/llm/", "samplers/great.py"),
    "accelerate": ("samplers/llm/",),
}
PRINT_ALLOWED = ("cli/__init__.py", "cli/commands.py")
# public names the package root re-exports (lazily, in __getattr__): `synthscale.LLMOverSampler`
ROOT_EXPORTS = ("synthscale.samplers.imblearn_api",)


def module_files() -> dict[str, Path]:
    """'synthscale.samplers.base' -> its file; a package is named by its __init__.py."""
    files = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


MODULES = module_files()


def stage_of(module: str) -> str:
    """The stage a synthscale module belongs to: its first name below the package."""
    parts = module.split(".")
    if parts == [ROOT]:
        return ROOT
    if parts[1] in LEAVES:
        return LEAF
    if parts[1] in STAGES:
        return parts[1]
    raise AssertionError(
        f"{module} belongs to no stage; add it to a stage package or to STAGES/LEAVES in {__file__}"
    )


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in `source`, at any depth.

    `from synthscale import errors` counts as importing synthscale.errors; calls to
    importlib.import_module / __import__ with a literal name count too.
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule if submodule in MODULES else base, node.lineno))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.args[0].value, node.lineno))
    return found


def layering_violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Imports of `module` that point up the stage order (or out of a leaf)."""
    own = stage_of(module)
    problems = []
    for name, line in imported_modules(module, source, is_package):
        if name.split(".")[0] != ROOT:
            continue
        target = stage_of(name)
        if target in (LEAF, own):
            continue
        if own == LEAF:
            problems.append(f"{module}:{line} is a leaf but imports stage module {name}")
        elif own == ROOT and name in ROOT_EXPORTS:
            continue
        elif own == ROOT or target == ROOT:
            problems.append(f"{module}:{line} imports {name}: the package root may import only leaves")
        elif STAGES.index(target) > STAGES.index(own):
            problems.append(f"{module}:{line} ({own}) imports {name} from the higher stage {target}")
    return problems


def relative_path(module: str) -> str:
    return MODULES[module].relative_to(PACKAGE_DIR).as_posix()


def heavy_import_violations(module: str, source: str, path: str, is_package: bool = False) -> list[str]:
    problems = []
    for name, line in imported_modules(module, source, is_package):
        top = name.split(".")[0]
        allowed = HEAVY_IMPORTS.get(top)
        if allowed is not None and not path.startswith(allowed):
            problems.append(f"{path}:{line} imports {top}; only {' and '.join(allowed)} may")
    return problems


def print_calls(source: str) -> list[int]:
    """Lines that use the builtin print (called or passed around)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if (isinstance(node, ast.Name) and node.id == "print" and isinstance(node.ctx, ast.Load))
        or (
            isinstance(node, ast.Attribute)
            and node.attr == "print"
            and getattr(node.value, "id", "") == "builtins"
        )
    ]


def read(module: str) -> str:
    return MODULES[module].read_text()


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def test_the_package_has_its_stage_modules():
    assert {
        "synthscale.data.loaders",
        "synthscale.splits",
        "synthscale.experiments",
        "synthscale.cli",
    } <= set(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_belongs_to_a_stage_or_is_a_leaf(module):
    assert stage_of(module) in (*STAGES, LEAF, ROOT)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_stage(module):
    assert layering_violations(module, read(module), is_package(module)) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_heavy_libraries_are_imported_only_where_allowed(module):
    assert heavy_import_violations(module, read(module), relative_path(module), is_package(module)) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_print_only_in_cli_and_report(module):
    if relative_path(module) in PRINT_ALLOWED:
        return
    assert print_calls(read(module)) == [], f"{relative_path(module)} prints; log or return instead"


def test_lower_stages_load_without_the_heavy_libraries():
    """The point of the rules above: data..experiments import (transitively) none of them."""
    lower = [m for m in MODULES if stage_of(m) in (LEAF, *STAGES[:8]) and stage_of(m) != "samplers"]
    script = (
        "import importlib, sys\n"
        f"for name in {lower!r}: importlib.import_module(name)\n"
        f"print(sorted(set({sorted(HEAVY_IMPORTS)!r}) & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"{lower} pulled in {result.stdout.strip()}"


# The checkers themselves, on hand-written sources: each must catch what it is there to catch.


def test_checker_flags_an_upward_import_at_any_depth():
    source = "def f():\n    from synthscale.experiments import Point\n"
    assert layering_violations("synthscale.splits", source) == [
        "synthscale.splits:2 (splits) imports synthscale.experiments from the higher stage experiments"
    ]


def test_checker_resolves_relative_and_package_imports():
    assert layering_violations("synthscale.samplers.base", "from ..sweep import grid\n") == [
        "synthscale.samplers.base:1 (samplers) imports synthscale.sweep.grid from the higher stage sweep"
    ]
    assert layering_violations("synthscale.data", "from . import craft\n", is_package=True) == []
    assert layering_violations("synthscale.risks", "from synthscale import config, errors\n") == []
    assert len(layering_violations("synthscale.data.craft", "import synthscale.cli\n")) == 1


def test_checker_allows_downward_and_leaf_imports():
    source = "from synthscale.splits import make_split\nfrom synthscale.errors import SynthscaleError\n"
    assert layering_violations("synthscale.experiments", source) == []


def test_checker_keeps_leaves_and_root_out_of_stages():
    assert len(layering_violations("synthscale.config", "from synthscale.data import loaders\n")) == 1
    assert (
        len(layering_violations("synthscale", "from synthscale.sweep import runner\n", is_package=True)) == 1
    )


def test_checker_flags_heavy_imports_outside_their_stage():
    source = "import importlib\ndef f():\n    import torch.nn\n    return importlib.import_module('ray')\n"
    assert heavy_import_violations("synthscale.downstream", source, "downstream.py") == [
        "downstream.py:3 imports torch; only samplers/llm/ and samplers/great.py may",
        "downstream.py:4 imports ray; only sweep/ may",
    ]
    assert heavy_import_violations(
        "synthscale.sweep.runner", "from mlflow import MlflowClient\n", "sweep/runner.py"
    ) == ["sweep/runner.py:1 imports mlflow; only sweep/tracking.py may"]
    assert heavy_import_violations("synthscale.sweep.tracking", "import mlflow\n", "sweep/tracking.py") == []


def test_checker_finds_print_but_not_the_word():
    assert print_calls('"""print( in a docstring"""\nx = 1  # print(\n') == []
    assert print_calls("def f():\n    print('x')\n") == [2]
    assert print_calls("log = print\n") == [1]
