"""Recorded trace directories: read, check against the trace schema, group by scenario.

A directory holds the traces of one target (``conductor-compat run --out DIR``), one
file per scenario run; repeated runs of a scenario (``--repeats``) carry ``repeat`` 2,
3... Anything else in the directory (reports, logs) is ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import BadInputError
from harness.schemas import schema_errors

SUFFIX = ".trace.json"


@dataclass(frozen=True, slots=True)
class TraceSet:
    """The traces of one directory: scenario name -> runs (repeat order)."""

    directory: Path
    target: dict[str, Any]
    runs: dict[str, list[tuple[Path, dict[str, Any]]]]

    @property
    def scenarios(self) -> list[str]:
        return sorted(self.runs)

    def restrict(self, names: set[str]) -> TraceSet:
        """Only the scenarios in ``names`` (a run's selection)."""
        kept = {n: r for n, r in self.runs.items() if n in names}
        return TraceSet(self.directory, self.target, kept)


def load_trace(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read the trace {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{path}:{exc.lineno}:{exc.colno}: not a JSON trace ({exc.msg})"
        ) from exc
    errors = schema_errors("trace", data)
    if errors:
        raise BadInputError(f"{path}: not a valid trace: at {errors[0]}", details=errors[1:6])
    trace: dict[str, Any] = data
    return trace


def load_trace_set(directory: Path, *, expected: dict[str, Any] | None = None) -> TraceSet:
    """The traces under ``directory``. With ``expected`` (the target a run meant to record
    there), a missing or empty directory is an empty set for that target, not an error:
    an interrupted run may not have finished any scenario yet."""
    if expected is not None and not any(directory.rglob(f"*{SUFFIX}")):
        return TraceSet(directory, dict(expected), {})
    if not directory.is_dir():
        raise BadInputError(f"{directory} is not a directory of traces")
    files = sorted(directory.rglob(f"*{SUFFIX}"))
    if not files:
        raise BadInputError(
            f"no traces (*{SUFFIX}) under {directory}; record some with "
            f"`conductor-compat run --target TARGET --out {directory} scenarios/`"
        )
    runs: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    targets: dict[str, Path] = {}
    for path in files:
        trace = load_trace(path)
        targets.setdefault(str(trace["target"].get("target")), path)
        runs.setdefault(trace["scenario"]["name"], []).append((path, trace))
    if len(targets) > 1:
        listed = ", ".join(f"{t} ({p.name})" for t, p in targets.items())
        raise BadInputError(
            f"{directory} mixes traces of several targets: {listed}; keep one target per directory"
        )
    for recorded in runs.values():
        recorded.sort(key=lambda pair: (int(pair[1].get("repeat", 1)), str(pair[0])))
    first = runs[min(runs)][0][1]
    return TraceSet(directory, dict(first["target"]), runs)
