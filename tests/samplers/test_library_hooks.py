"""The peer libraries' internals synthscale hooks into are still where it looks for them."""

from __future__ import annotations

import importlib
import types

import pytest

from synthscale.samplers.library_hooks import INTERNALS, swapped


@pytest.mark.parametrize("module_name", sorted(INTERNALS))
def test_every_hooked_attribute_is_still_in_its_library(module_name):
    library = module_name.partition(".")[0]
    pytest.importorskip(library)
    module = importlib.import_module(module_name)
    for name in INTERNALS[module_name]:
        assert hasattr(module, name), (
            f"{module_name}.{name} moved: update synthscale/samplers/library_hooks.py"
        )


def test_a_swap_is_undone_also_when_the_block_fails():
    module = types.ModuleType("library")
    module.walk = original = object()
    with pytest.raises(ValueError), swapped(module, "walk", "replacement"):
        assert module.walk == "replacement"
        raise ValueError
    assert module.walk is original


def test_a_moved_attribute_is_named():
    with (
        pytest.raises(AttributeError, match="library has no attribute 'walk'"),
        swapped(types.ModuleType("library"), "walk", None),
    ):
        pass
