"""Imported scenarios that failed on the baseline with the input the importer chose.

``conductor-compat import`` starts a workflow with a value for every input it reads, and
where it cannot know a value it writes a text placeholder (``sample <key>``). A workflow
that then ends FAILED, TIMED_OUT or TERMINATED may have failed on that input rather than
by its own behaviour: the report says so, for each such scenario, and how to give a real
input (``import --input FILE``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from harness.traces import TraceSet

PLACEHOLDER = "sample "  # harness/importer/inputs.py writes 'sample <key>'
ENDED_BADLY = frozenset({"FAILED", "TIMED_OUT", "TERMINATED"})


def placeholder_notices(traces: TraceSet, names: Iterable[str], side: str) -> list[str]:
    """A notice per imported scenario whose workflow, started with a placeholder input,
    ended badly in ``traces`` (its first run), which are ``side``'s ('the baseline')."""
    notices = []
    for name in names:
        runs = traces.runs.get(name) or []
        if not runs:
            continue
        trace = runs[0][1]
        if "imported" not in ((trace.get("scenario") or {}).get("tags") or []):
            continue
        placeholders = _placeholders(trace)
        status = _main_status(trace)
        if placeholders and status in ENDED_BADLY:
            shown = ", ".join(placeholders[:3]) + (" ..." if len(placeholders) > 3 else "")
            notices.append(
                f"{name}: the workflow ended {status} on {side}, started with the "
                f"importer's placeholder input ({shown}): its failure may be the input's, "
                "not the workflow's; give a real input with `conductor-compat import --input FILE`"
            )
    return notices


def _start(trace: Mapping[str, Any]) -> Mapping[str, Any] | None:
    steps = trace.get("steps") or []
    first = steps[0] if steps else None
    return first if isinstance(first, dict) and first.get("action") == "start" else None


def _placeholders(trace: Mapping[str, Any]) -> list[str]:
    start = _start(trace)
    given = ((start or {}).get("args") or {}).get("input")
    text = json.dumps(given) if given is not None else ""
    return sorted({part.split('"')[0] for part in text.split(f'"{PLACEHOLDER}')[1:]})


def _main_status(trace: Mapping[str, Any]) -> str | None:
    """The started workflow's status in the last snapshot that shows it."""
    start = _start(trace)
    first = ((start or {}).get("snapshots") or [{}])[0]
    main = first.get("workflowId") if isinstance(first, dict) else None
    status = None
    for step in trace.get("steps") or []:
        for document in step.get("snapshots") or []:
            if isinstance(document, dict) and document.get("workflowId") == main:
                status = document.get("status")
    return str(status) if status is not None else None
