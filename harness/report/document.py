"""report.json: the whole comparison as one document, the only input of every report writer.

Built from a ``RunResult``, checked against ``harness/schemas/report.schema.json``
before it is written (a report that breaks its own schema is a harness bug), written
atomically.
"""

from __future__ import annotations

import datetime
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import __version__
from harness.classify import SEVERITIES, Finding, RunResult, ScenarioResult, combine
from harness.compare import LEVELS
from harness.schemas import schema_errors

REPORT_FORMAT = 2
REPORT_FILE = "report.json"


class ReportInvalid(Exception):
    """The report built does not match its schema: a bug in the harness."""


def finding_json(finding: Finding, steps: dict[int, dict[str, Any]]) -> dict[str, Any]:
    d = finding.difference
    return {
        "fingerprint": finding.fingerprint,
        "level": d.level,
        "kind": d.kind,
        "severity": finding.severity,
        "rule": finding.rule,
        "disposition": finding.disposition,
        "gates": finding.gates,
        "path": d.path,
        "shape": d.shape,
        "paths": list(d.paths),
        "baseline": d.baseline,
        "candidate": d.candidate,
        "missing": d.missing or None,
        "step": _step(d.step, steps),
        "steps": [s for s in d.steps if s is not None],
        "known": finding.known,
        "note": finding.note or None,
    }


def _step(index: int | None, steps: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    if index is None:
        return {"index": None, "action": "workers", "name": None, "line": None}
    if index < 0:
        return {"index": -1, "action": "setup", "name": None, "line": None}
    return steps.get(index, {"index": index, "action": "?", "name": None, "line": None})


def scenario_json(result: ScenarioResult) -> dict[str, Any]:
    steps = {int(s["index"]): s for s in result.steps}
    return {
        "name": result.name,
        "file": result.file,
        "description": result.description,
        "verdict": result.verdict,
        "reason": result.reason,
        "levels": result.levels,
        "baseline_runs": [_run(r) for r in result.baseline],
        "candidate_runs": [_run(r) for r in result.candidate],
        "noise_checked": result.noise_checked,
        "rechecked": result.rechecked,
        "counts": _counts(result.findings),
        "findings": [finding_json(f, steps) for f in result.findings],
        "noise": [finding_json(f, steps) for f in result.noise],
        "scrubbed": result.scrub,
        "omitted": result.omitted,
        "steps": result.steps,
    }


def _run(run: Any) -> dict[str, Any]:
    return {"file": run.file, "repeat": run.repeat, "outcome": run.outcome, "reason": run.reason}


def _counts(findings: list[Finding]) -> dict[str, Any]:
    return {
        "total": len(findings),
        "gating": sum(1 for f in findings if f.gates),
        "by_severity": {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES},
        "by_level": {lv: sum(1 for f in findings if f.difference.level == lv) for lv in LEVELS},
        "by_disposition": dict(Counter(f.disposition for f in findings)),
    }


def comparison_json(result: RunResult) -> dict[str, Any]:
    findings = [f for s in result.scenarios for f in s.findings]
    verdicts = Counter(s.verdict for s in result.scenarios)
    return {
        "candidate": result.candidate,
        "verdict": {"status": result.verdict, "reason": result.reason, "fail_on": result.fail_on},
        "summary": {
            "scenarios": len(result.scenarios),
            "by_verdict": {
                v: verdicts.get(v, 0)
                for v in ("compatible", "incompatible", "inconclusive", "not_applicable")
            },
            **_counts(findings),
            "noise": sum(len(s.noise) for s in result.scenarios),
        },
        "policy_failures": result.policy_failures,
        "allowlist": {
            "file": result.allowlist_file,
            "entries": [
                {
                    **s.entry,
                    "matched": s.matched,
                    "in_scope": s.in_scope,
                    "expired": s.expired,
                    "stale": s.stale,
                }
                for s in result.allowlist
            ],
        },
        "scenarios": [scenario_json(s) for s in result.scenarios],
    }


def build_report(
    results: RunResult | Sequence[RunResult],
    *,
    command: list[str] | None = None,
    complete: bool = True,
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One report for one baseline and one or more candidates (a column each)."""
    results = [results] if isinstance(results, RunResult) else list(results)
    if not results:
        raise ValueError("a report needs at least one comparison")
    status, reason = combine(results, complete=complete)
    return {
        "report_format": REPORT_FORMAT,
        "harness_version": __version__,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "complete": complete,
        "verdict": {"status": status, "reason": reason, "fail_on": results[0].fail_on},
        "baseline": results[0].baseline,
        "comparisons": [comparison_json(r) for r in results],
        "settings": results[0].settings,
        "run": run,
    }


def report_errors(report: Any) -> list[str]:
    return schema_errors("report", report)


def write_report(out_dir: Path, report: dict[str, Any]) -> Path:
    errors = report_errors(report)
    if errors:
        raise ReportInvalid(f"report.json breaks report.schema.json: {errors[:3]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
