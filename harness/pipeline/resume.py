"""What a resumed run carries from its earlier invocations into its report's ``run``: the time
they took, the servers they restarted afresh, the runs they played again, the calls their
servers had refused. An invocation records only what happened in it; the run folder's last
report holds what happened before (``--resume`` reads it before writing the new one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report import REPORT_FILE

_SUMMED = ("rechecks", "blocked")


def earlier_run(folder: Path) -> dict[str, Any] | None:
    """The ``run`` of the report an earlier invocation of this run wrote, if one did."""
    try:
        report = json.loads((folder / REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    run = report.get("run") if isinstance(report, dict) else None
    return run if isinstance(run, dict) else None


def carried(earlier: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """``now`` (this invocation's ``run``) with what ``earlier`` recorded: seconds added, each
    target's restarts listed after the earlier ones (numbered on), re-checks and refused
    calls added, and its start time and isolation where this invocation started no server."""
    if not earlier:
        return now
    before = {t.get("target"): t for t in earlier.get("targets") or [] if isinstance(t, dict)}
    seconds = [s for s in (earlier.get("seconds"), now.get("seconds")) if s is not None]
    return {
        **now,
        "seconds": round(sum(seconds), 1) if seconds else None,
        "targets": [_target(before.get(t.get("target")), t) for t in now.get("targets") or []],
    }


def _target(earlier: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    if not earlier:
        return now
    joined = {**earlier, **{k: v for k, v in now.items() if v is not None}}
    for key in _SUMMED:
        values = [e[key] for e in (earlier, now) if isinstance(e.get(key), int)]
        if values:
            joined[key] = sum(values)
    old = list(earlier.get("restarts") or [])
    new = [{**r, "restart": len(old) + i} for i, r in enumerate(now.get("restarts") or [], 1)]
    joined["restarts"] = old + new
    return joined
