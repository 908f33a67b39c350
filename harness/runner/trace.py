"""A new trace document for one scenario run, filled in as the run goes.

The format, its file names, writing and reading are ``harness.traces``. Traces are raw:
everything the server said is kept; timings are recorded, never compared.
"""

from __future__ import annotations

import datetime
from typing import Any

from harness import __version__
from harness.scenarios.model import Scenario
from harness.traces import TRACE_FORMAT


def new_trace(scenario: Scenario, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_format": TRACE_FORMAT,
        "harness_version": __version__,
        "scenario": {
            "name": scenario.name,
            "file": str(scenario.file),
            "digest": scenario.digest,
            "description": scenario.description,
            "tags": list(scenario.tags),
            "compare": scenario.compare,
        },
        "target": target,
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        "finished_at": None,
        "outcome": None,
        "definitions": {"task_defs": [], "workflows": []},
        "steps": [],
        "exchanges": [],
        "workers": [],
        "stub_requests": [],
        "timings": {},
    }
