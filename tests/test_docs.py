"""The docs: the site builds strictly, its reference lists every key and command the code has,
every key has a description, and the README stays a short page whose install line CI runs."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from synthscale.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def docs_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install_step() -> str:
    """The README's first command, up to the quickstart run: what `.ci/run` must install."""
    command = re.search(r"```bash\n(.*?)\n```", README, re.S).group(1)
    return command.split(" && synthscale run", 1)[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    return out


def test_every_config_key_has_a_description():
    missing = [key for key, field in docs_hooks().leaf_fields() if not (field.description or "").strip()]
    assert missing == []


def test_the_built_site_lists_every_config_key(site):
    page = html.unescape((site / "reference" / "config" / "index.html").read_text())
    keys = [key for key, _ in docs_hooks().leaf_fields()]
    assert len(keys) >= 90  # every section's leaves, not just the top level
    assert [key for key in keys if f"<code>{key}</code>" not in page] == []


def test_the_built_site_shows_every_commands_help(site):
    page = html.unescape((site / "reference" / "cli" / "index.html").read_text())
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name, command in commands.items():
        assert f"synthscale {name}" in page
        assert all(option in page for action in command._actions for option in action.option_strings)


def test_the_built_site_has_every_guide_and_tutorial_page(site):
    pages = sorted(p.relative_to(ROOT / "docs").with_suffix("") for p in (ROOT / "docs").rglob("*.md"))
    assert [p for p in pages if not (site / p / "index.html").exists() and p.name != "index"] == []
    assert "Run on a cluster" in (site / "tutorials" / "cluster" / "index.html").read_text()  # included


def test_the_readme_is_short_undated_and_its_links_resolve():
    assert len(README.splitlines()) <= 250
    assert re.findall(r"\b20\d\d-\d\d-\d\d\b", README) == []
    links = re.findall(r"\]\(((?!https?:)[^)#]+)", README)
    assert links and [link for link in links if not (ROOT / link).exists()] == []


def test_the_install_line_is_short_and_is_what_ci_runs():
    step = install_step()
    assert len(step) <= 200 and "==" not in step.split("torch==2.13.0", 1)[1]  # no package list
    ci = (ROOT / ".ci" / "run").read_text()
    for part in step.split(" && "):
        assert part in ci, part
