"""Targets: the six classes and groups, their keys, and what they say about a row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from synthscale.errors import SynthscaleError
from synthscale.samplers.base import as_target
from synthscale.targets import (
    AGREE_GROUPS,
    ALL_GROUPS,
    TASK_TARGETS,
    Target,
    class_keys,
    group_keys,
    labels_of,
)

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "synthscale"
# what parsing or building a target key by hand looks like
KEY_PARSING = [
    r"""\.(?:end|start)swith\(\s*["'](?:a|y[01]|_y[01])["']""",  # key.endswith("y1"), key.startswith("a")
    r"""np\.char\.\w+\(.*["'](?:a|_y|y1|y0)["']""",  # vectorised, on arrays of keys
    r"""\b(?:key|target|t)\[1\]""",  # the attribute digit
    r"""f["']a\{[^}]*\}_y\{""",  # f"a{a}_y{y}"
    r"""f["']y\{""",  # f"y{y}"
    r"""(?<![\w"'])["'](?:y[01]|a[01]_y[01])["']""",  # a key spelled out
]


def test_a_target_knows_its_label_attribute_and_key():
    assert Target("a0_y1").label == 1 and Target("a0_y1").attribute == 0 and Target("a0_y1").is_group
    assert Target.Y0.label == 0 and Target.Y0.attribute is None and not Target.Y0.is_group
    assert Target.of(1) is Target.Y1 and Target.of(0, 1) is Target.A1_Y0
    assert [Target.of(t.label, t.attribute) for t in Target] == list(Target)
    assert all(t.label == t.attribute for t in AGREE_GROUPS)
    assert str(Target.A1_Y1) == f"{Target.A1_Y1}" == "a1_y1" and json.dumps([Target.Y1]) == '["y1"]'


def test_a_target_is_its_key_in_dicts_and_arrays():
    assert {Target.Y1: 3}["y1"] == 3
    assert (np.array(["y0", "y1"]) == Target.Y1).tolist() == [False, True]
    assert TASK_TARGETS["spurious"].all == (*AGREE_GROUPS, Target.A1_Y0, Target.A0_Y1)


def test_row_keys_and_labels_of_rows():
    y, a = np.array([1, 0, 1, 0]), np.array([0, 0, 1, 1])
    assert class_keys(y).tolist() == ["y1", "y0", "y1", "y0"]
    assert group_keys(y, a).tolist() == ["a0_y1", "a0_y0", "a1_y1", "a1_y0"]
    assert labels_of(group_keys(y, a)).tolist() == y.tolist()
    assert sorted(set(group_keys(y, a).tolist())) == [t.value for t in ALL_GROUPS]


def test_describe_names_values(craft, mixed_dataset):
    assert Target.Y1.describe(craft.schema) == "(Target=1)"
    assert Target.A0_Y1.describe(craft.schema) == "(X6=-1, Target=1)"
    assert Target.A1_Y0.describe(mixed_dataset.schema) == "(sex=M, income=low)"


def test_a_key_that_names_no_target_is_refused_with_the_valid_ones():
    with pytest.raises(
        SynthscaleError, match=r"target 'y2' names no class or group; use one of 'y0', 'y1', 'a0_y0'"
    ):
        as_target("y2")
    assert as_target("a1_y0") is Target.A1_Y0


def key_parsing_sites(source: str) -> list[str]:
    """The lines of `source` that parse or build a target key by hand."""
    return [line.strip() for line in source.splitlines() if any(re.search(p, line) for p in KEY_PARSING)]


def test_the_patterns_catch_what_they_are_for():
    hand_parsed = """
label = 1 if target.endswith("y1") else 0
group = key.startswith("a")
a = int(key[1])
y = np.char.endswith(keys.astype(str), "y1")
k = f"a{a}_y{y}"
c = f"y{y}"
pools["a0_y1"]
"""
    assert len(key_parsing_sites(hand_parsed)) == 7
    assert key_parsing_sites('risks[f"ce_{target}"]\nname.endswith(".csv")\n"ce_y1"') == []


def test_no_module_outside_targets_parses_a_target_key():
    sites = {
        path.relative_to(PACKAGE_DIR).as_posix(): found
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if path.name != "targets.py" and (found := key_parsing_sites(path.read_text()))
    }
    assert sites == {}
