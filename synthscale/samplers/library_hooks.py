"""The one place synthscale reaches into a peer library's internals.

ctgan's synthesizers and GReaT's `fit` take no training callbacks, so the progress hooks swap
one module attribute for the length of a fit: ctgan's module-level `tqdm` (the walk over its
epochs) and be_great's `GReaTTrainer` (the trainer its fit builds). `INTERNALS` names every
attribute swapped; tests/samplers/test_library_hooks.py fails when an upgrade moves one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

# module -> the attributes swapped in it
INTERNALS = {
    "ctgan.synthesizers.ctgan": ("tqdm",),
    "ctgan.synthesizers.tvae": ("tqdm",),
    "be_great.great": ("GReaTTrainer",),
}


@contextlib.contextmanager
def swapped(module: ModuleType, name: str, replacement: Any) -> Iterator[None]:
    """Within it, `module.name` is `replacement`; the original comes back however the block
    ends. A name the module lacks is refused: the library's internals have moved."""
    if not hasattr(module, name):
        raise AttributeError(
            f"{module.__name__} has no attribute {name!r}: this version of the library moved what "
            "synthscale hooks into (see synthscale/samplers/library_hooks.py)"
        )
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)
