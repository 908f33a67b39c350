"""The trace format in one place: file names, writing, reading, and trace sets.

A trace is one JSON document per scenario run (``trace_format`` 1, described by
harness/schemas/trace.schema.json). Traces are raw: everything the server said is kept;
normalizing is the comparison's job. The runner writes them (``write_trace``); compare,
the pipeline and the CLI read them (``read_trace``, ``load_trace_set``, ``finished_runs``).

A trace set is a directory of the traces of one target (``run --out DIR``, or a run
folder's ``traces/<target>/``): ``<scenario>.trace.json``, and for repeated runs
(``--repeats``) ``<scenario>.run2.trace.json``... whose trace carries ``repeat`` 2, 3...
Anything else in the directory (reports, logs, a write in progress) is ignored.

A base layer, like ``errors`` and ``schemas``: every layer may use it; it uses only them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import BadInputError
from harness.schemas import schema_errors

__all__ = [
    "SUFFIX",
    "TRACE_FORMAT",
    "TraceSet",
    "finished_runs",
    "load_trace_set",
    "read_trace",
    "repeat_of",
    "set_aside_stale",
    "trace_errors",
    "trace_files",
    "trace_path",
    "write_trace",
]

TRACE_FORMAT = 1
SUFFIX = ".trace.json"

Trace = dict[str, Any]


def trace_errors(trace: Any) -> list[str]:
    """Schema violations of ``trace``, as 'path: message' lines (empty when valid)."""
    return schema_errors("trace", trace)


def repeat_of(trace: Trace) -> int:
    """Which run of its scenario ``trace`` is: 1, or 2, 3... with ``--repeats``."""
    return int(trace.get("repeat", 1))


def trace_path(directory: Path, scenario: str, repeat: int = 1) -> Path:
    """``<scenario>.trace.json``; a repeated run ``<scenario>.run2.trace.json``."""
    run = f".run{repeat}" if repeat > 1 else ""
    return directory / f"{scenario}{run}{SUFFIX}"


# Trace files this process has checked against the schema (or written after checking
# them), by path, with what identifies that content: inode, size and modification time.
# Reading one again skips the schema (a run reads its traces several times: to resume,
# to count, to assess, to re-check); a file replaced or changed since is checked again.
_CHECKED: dict[str, tuple[int, int, int]] = {}


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """What identifies a file's content while it is unchanged: inode, size, mtime (ns)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def write_trace(directory: Path, trace: Trace, *, checked: bool = False) -> Path:
    """Write atomically (a temporary file renamed), so a trace on disk is always whole.
    ``checked``: the caller has checked ``trace`` against the schema."""
    directory.mkdir(parents=True, exist_ok=True)
    path = trace_path(directory, trace["scenario"]["name"], repeat_of(trace))
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(trace, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    if checked and (identity := file_identity(path)) is not None:
        _CHECKED[str(path)] = identity
    return path


def read_trace(path: Path) -> Trace:
    """The trace in ``path``, checked against the trace schema; ``BadInputError`` (with
    file:line:column for JSON errors) when it cannot be read or is not a valid trace."""
    before = file_identity(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read the trace {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{path}:{exc.lineno}:{exc.colno}: not a JSON trace ({exc.msg})"
        ) from exc
    key, still = str(path), before is not None and file_identity(path) == before
    if not (still and _CHECKED.get(key) == before):
        errors = trace_errors(data)
        if errors:
            raise BadInputError(f"{path}: not a valid trace: at {errors[0]}", details=errors[1:6])
        if still and before is not None:  # not changed while it was read
            _CHECKED[key] = before
    trace: Trace = data
    return trace


# where the traces of runs beside a server thread that never stopped are kept: never read
ASIDE = "beside-runaway"


def trace_files(directory: Path) -> list[Path]:
    """The trace files under ``directory``, in name order (none if it does not exist);
    those set aside under a ``beside-runaway`` folder left out."""
    if not directory.is_dir():
        return []
    found = directory.rglob(f"*{SUFFIX}")
    return sorted(p for p in found if ASIDE not in p.relative_to(directory).parts)


@dataclass(frozen=True, slots=True)
class TraceSet:
    """The traces of one directory: scenario name -> runs (repeat order)."""

    directory: Path
    target: dict[str, Any]
    runs: dict[str, list[tuple[Path, Trace]]]

    @property
    def scenarios(self) -> list[str]:
        return sorted(self.runs)

    def restrict(self, names: set[str]) -> TraceSet:
        """Only the scenarios in ``names`` (a run's selection)."""
        kept = {n: r for n, r in self.runs.items() if n in names}
        return TraceSet(self.directory, self.target, kept)


def load_trace_set(directory: Path, *, expected: dict[str, Any] | None = None) -> TraceSet:
    """The traces under ``directory``. With ``expected`` (the target a run meant to record
    there), a missing or empty directory is an empty set for that target, not an error:
    an interrupted run may not have finished any scenario yet."""
    files = trace_files(directory)
    if expected is not None and not files:
        return TraceSet(directory, dict(expected), {})
    if not directory.is_dir():
        raise BadInputError(f"{directory} is not a directory of traces")
    if not files:
        raise BadInputError(
            f"no traces (*{SUFFIX}) under {directory}; record some with "
            f"`conductor-compat run --target TARGET --out {directory} scenarios/`"
        )
    runs: dict[str, list[tuple[Path, Trace]]] = {}
    targets: dict[str, Path] = {}
    for path in files:
        trace = read_trace(path)
        targets.setdefault(str(trace["target"].get("target")), path)
        runs.setdefault(trace["scenario"]["name"], []).append((path, trace))
    if len(targets) > 1:
        listed = ", ".join(f"{t} ({p.name})" for t, p in targets.items())
        raise BadInputError(
            f"{directory} mixes traces of several targets: {listed}; keep one target per directory"
        )
    for recorded in runs.values():
        recorded.sort(key=lambda pair: (repeat_of(pair[1]), str(pair[0])))
    first = runs[min(runs)][0][1]
    return TraceSet(directory, dict(first["target"]), runs)


def finished_runs(directory: Path, digests: dict[str, str]) -> set[tuple[str, int]]:
    """(scenario, repeat) whose trace is on disk, whole, and of the scenario as it is now
    (``digests``: scenario name -> digest of its file).

    A trace of an older version of the scenario file (its digest differs) does not count,
    nor does a run its server's death cut short, nor a file that is not a valid trace:
    that run is made again.
    """
    done: set[tuple[str, int]] = set()
    for path in trace_files(directory):
        try:
            trace = read_trace(path)
        except BadInputError:
            continue  # a partial or foreign file: the run is made again
        scenario = trace["scenario"]
        died = "server_died" in (trace.get("outcome") or {})
        if digests.get(scenario["name"]) == scenario["digest"] and not died:
            done.add((scenario["name"], repeat_of(trace)))
    return done


def set_aside_stale(directory: Path, digests: dict[str, str], aside: Path) -> int:
    """Move the traces under ``directory`` of an older version of their scenario file (its
    digest differs from ``digests``) into ``aside``, kept and out of the way: those runs are
    made again, and none of the old ones is judged beside the new. Returns how many."""
    moved = 0
    for path in trace_files(directory):
        try:
            scenario = read_trace(path)["scenario"]
        except BadInputError:
            continue  # a partial or foreign file: finished_runs makes the run again
        wanted = digests.get(scenario["name"])
        if wanted is not None and wanted != scenario["digest"]:
            target = aside / path.relative_to(directory)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            moved += 1
    return moved
