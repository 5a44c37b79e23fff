"""The user-facing exceptions: the CLI prints them without a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SynthscaleError(Exception):
    """Bad input or configuration; the message names the thing and the fix."""


class SamplerFailure(SynthscaleError):
    """A sampler that ran could not make the rows asked for on this table (a generator that
    never drew the target, an oversampler that added nothing): with generator.on_failure=record
    the sweep records it for the fits that needed the rows and goes on."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A '; did you mean X?' suffix for an unknown name, or '' when nothing is close."""
    matches = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""
