"""The trace document: build it, check it against its schema, write it safely.

One JSON document per scenario run (``trace_format`` 1, described by
harness/schemas/trace.schema.json). Traces are raw: everything the server said is
kept; normalizing is the comparison's job. Timings are recorded, never compared.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

from harness import __version__
from harness.scenarios.model import Scenario
from harness.schemas import schema_errors

TRACE_FORMAT = 1
SUFFIX = ".trace.json"


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


def trace_errors(trace: Any) -> list[str]:
    """Schema violations of ``trace``, as 'path: message' lines (empty when valid)."""
    return schema_errors("trace", trace)


def trace_path(out_dir: Path, scenario_name: str, repeat: int = 1) -> Path:
    """``<name>.trace.json``; a repeated run ``<name>.run2.trace.json``."""
    run = f".run{repeat}" if repeat > 1 else ""
    return out_dir / f"{scenario_name}{run}{SUFFIX}"


def write_trace(out_dir: Path, trace: dict[str, Any]) -> Path:
    """Write atomically (a temporary file renamed), so a trace on disk is always whole."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = trace_path(out_dir, trace["scenario"]["name"], int(trace.get("repeat", 1)))
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(trace, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_trace(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
