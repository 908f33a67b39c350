"""Normalize traces with a declarative scrub spec, so that only meaningful differences remain.

>>> spec = load_spec()
>>> scrubbed = scrub_trace(trace, spec)
>>> scrubbed.summary()          # what each rule changed: {"ids": {"count": 41, ...}}
"""

from __future__ import annotations

from harness.normalize.paths import Pattern, generalize, render
from harness.normalize.scrub import Scrubbed, scrub_trace, scrub_value
from harness.normalize.spec import Rule, ScrubSpec, default_spec_path, load_spec

__all__ = [
    "Pattern",
    "Rule",
    "ScrubSpec",
    "Scrubbed",
    "default_spec_path",
    "generalize",
    "load_spec",
    "render",
    "scrub_trace",
    "scrub_value",
]
