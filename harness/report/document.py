"""report.json: the whole comparison as one document, the only input of every report writer.

Built from a ``RunResult``, checked against ``harness/schemas/report.schema.json``
before it is written (a report that breaks its own schema is a harness bug), written
atomically. Format 3 is organized by change: per comparison, the catalogued changes the
candidate reached (``changes``), the distinct unexplained root causes (``unexplained``),
the team's acceptances, then every scenario with every finding.
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
from harness.classify.model import ChangeStatus
from harness.compare import LEVELS
from harness.schemas import schema_errors

REPORT_FORMAT = 3
REPORT_FILE = "report.json"
BY_VERDICT = ("compatible", "action_required", "incompatible", "inconclusive", "not_applicable")


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
        "requires_action": finding.requires_action,
        "path": d.path,
        "shape": d.shape,
        "paths": list(d.paths),
        "baseline": d.baseline,
        "candidate": d.candidate,
        "missing": d.missing or None,
        "step": _step(d.step, steps),
        "steps": [s for s in d.steps if s is not None],
        "change": finding.change,
        "accepted": finding.accepted,
        "consequence_of": finding.consequence_of,
        "rate": {"k": finding.rate[0], "n": finding.rate[1]} if finding.rate else None,
        "ambiguous": list(finding.ambiguous),
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


def change_json(status: ChangeStatus) -> dict[str, Any]:
    return {
        **status.change,
        "direction": status.change.get("direction"),
        "findings": status.findings,
        "consequences": status.consequences,
        "scenarios": list(status.scenarios),
        "fingerprints": list(status.fingerprints),
        "accepted": status.accepted,
        "requires_action": status.requires_action,
    }


def _changes(result: RunResult) -> list[dict[str, Any]]:
    """Breaking first, then behavioral, additive, cosmetic; most findings first within."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    changes = [change_json(c) for c in result.changes]
    return sorted(changes, key=lambda c: (rank.get(c["severity"], 9), -c["findings"], str(c["id"])))


def _unexplained(result: RunResult) -> list[dict[str, Any]]:
    """Open findings, and intermittent ones that gate, as distinct root causes: one per
    (level, kind, shape) across scenarios, most severe and widest first."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    for scenario in result.scenarios:
        steps = {int(s["index"]): s for s in scenario.steps}
        followers = Counter(f.consequence_of for f in scenario.findings if f.consequence_of)
        for f in scenario.findings:
            if not (f.disposition == "open" or (f.disposition == "intermittent" and f.gates)):
                continue
            d = f.difference
            key = (d.level, d.kind, d.shape)
            group = groups.get(key)
            if group is None:
                example = finding_json(f, steps)
                group = groups[key] = {
                    "level": d.level,
                    "kind": d.kind,
                    "shape": d.shape,
                    "severity": f.severity,
                    "gates": False,
                    "dispositions": [],
                    "findings": 0,
                    "consequences": 0,
                    "scenarios": [],
                    "fingerprints": [],
                    "example": {
                        "scenario": scenario.name,
                        "path": d.path,
                        "step": example["step"],
                        "baseline": d.baseline,
                        "candidate": d.candidate,
                        "missing": d.missing or None,
                        "rate": example["rate"],
                    },
                }
            if rank.get(f.severity, 9) < rank.get(group["severity"], 9):
                group["severity"] = f.severity
            group["gates"] = group["gates"] or f.gates
            if f.disposition not in group["dispositions"]:
                group["dispositions"].append(f.disposition)
            group["findings"] += 1
            group["consequences"] += followers.get(f.fingerprint, 0)
            if scenario.name not in group["scenarios"]:
                group["scenarios"].append(scenario.name)
            group["fingerprints"].append(f.fingerprint)
    return sorted(
        groups.values(),
        key=lambda g: (
            not g["gates"],
            rank.get(g["severity"], 9),
            -len(g["scenarios"]),
            g["level"],
            g["shape"],
            g["kind"],
        ),
    )


def _verdict(status: str, reason: str, result: RunResult) -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason,
        "fail_on": result.fail_on,
        "fail_on_known": result.fail_on_known,
    }


def comparison_json(result: RunResult) -> dict[str, Any]:
    findings = [f for s in result.scenarios for f in s.findings]
    verdicts = Counter(s.verdict for s in result.scenarios)
    return {
        "candidate": result.candidate,
        "verdict": _verdict(result.verdict, result.reason, result),
        "summary": {
            "scenarios": len(result.scenarios),
            "by_verdict": {v: verdicts.get(v, 0) for v in BY_VERDICT},
            **_counts(findings),
            "requires_action": sum(1 for f in findings if f.requires_action),
            "noise": sum(len(s.noise) for s in result.scenarios),
        },
        "changes": _changes(result),
        "unexplained": _unexplained(result),
        "acceptances": {
            "file": result.acceptance_file,
            "entries": [
                {**s.entry, "matched": s.matched, "expired": s.expired} for s in result.acceptances
            ],
        },
        "catalog": {"files": list(result.catalog_files)},
        "notices": list(result.notices),
        "scenarios": [scenario_json(s) for s in result.scenarios],
    }


def restart_notices(run: dict[str, Any] | None, candidate: str) -> list[str]:
    """A restart after which no run spun a thread alone: the thread is named, and that no
    cause was found (a cause has its notice from its trace)."""
    notices = []
    for entry in (run or {}).get("targets") or []:
        if entry.get("role") == "candidate" and entry.get("target") != candidate:
            continue
        side = "the baseline" if entry.get("role") == "baseline" else candidate
        for restart in entry.get("restarts") or []:
            if restart["causes"]:
                continue
            threads = ", ".join(f"'{t['thread']}' from {t['since']}" for t in restart["threads"])
            notices.append(
                f"on {side}, server threads ran without pause ({threads}): the server was "
                f"started afresh and the {len(restart['played_again'])} runs that had ended "
                "beside them played again there; none made a thread run without pause again"
            )
    return notices


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
    comparisons = [comparison_json(r) for r in results]
    for comparison in comparisons:
        comparison["notices"] += restart_notices(run, str(comparison["candidate"].get("target")))
    deaths = [str(d["summary"]) for d in (run or {}).get("server_deaths") or []]
    if deaths:  # the run stopped because a server died: say that, not "interrupted"
        _, reason = combine(results, complete=True)
        reason = f"{'; '.join(deaths)}: the report covers what finished; {reason}"
    return {
        "report_format": REPORT_FORMAT,
        "harness_version": __version__,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "complete": complete,
        "verdict": _verdict(status, reason, results[0]),
        "baseline": results[0].baseline,
        "comparisons": comparisons,
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
