"""Assess a whole run: every scenario of a baseline trace set against a candidate's.

The overall verdict: incompatible when any scenario is, or an allowlist entry has
expired (a decision that must be made again); otherwise inconclusive when any scenario
is (or none applied); otherwise compatible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.classify.assess import Context, Settings, assess_scenario
from harness.classify.model import EntryStatus, RunResult, ScenarioResult
from harness.compare.traces import TraceSet


def assess_run(
    baseline: TraceSet,
    candidate: TraceSet,
    settings: Settings,
    on_scenario: Callable[[ScenarioResult], None] | None = None,
    names: Sequence[str] | None = None,
) -> RunResult:
    """Every scenario of either set, or exactly ``names`` (a run's selection, where a
    scenario that neither side finished is reported as not run)."""
    context = Context(settings, baseline.target, candidate.target)
    scenarios: list[ScenarioResult] = []
    chosen = sorted(set(baseline.runs) | set(candidate.runs)) if names is None else sorted(names)
    for name in chosen:
        result = assess_scenario(
            name, baseline.runs.get(name, []), candidate.runs.get(name, []), context
        )
        scenarios.append(result)
        if on_scenario:
            on_scenario(result)
    statuses = _allowlist_statuses(context)
    policy = [
        f"allowlist entry '{s.entry['id']}' expired on {s.entry['expires']}: review it, then "
        f"renew its date or remove it"
        for s in statuses
        if s.expired
    ]
    verdict, reason = overall(scenarios, policy)
    return RunResult(
        verdict=verdict,
        reason=reason,
        fail_on=settings.fail_on,
        baseline={"directory": str(baseline.directory), **baseline.target},
        candidate={"directory": str(candidate.directory), **candidate.target},
        scenarios=scenarios,
        allowlist_file=settings.allowlist.file if settings.allowlist else None,
        allowlist=statuses,
        policy_failures=policy,
        settings={
            "fail_on": settings.fail_on,
            "recheck": settings.recheck,
            "today": settings.today.isoformat(),
            "scrub_spec": settings.spec.describe(),
            "severity_rules": {
                "files": list(settings.severity.files),
                "rules": [r.describe() for r in settings.severity.rules],
            },
        },
    )


def _allowlist_statuses(context: Context) -> list[EntryStatus]:
    allowlist = context.settings.allowlist
    if allowlist is None:
        return []
    today = context.settings.today
    return [
        EntryStatus(
            entry=e.describe(),
            matched=context.matched[e.id],
            in_scope=e.in_scope(context.baseline_target, context.candidate_target),
            expired=e.expired(today),
        )
        for e in allowlist.entries
    ]


def overall(scenarios: list[ScenarioResult], policy: list[str]) -> tuple[str, str]:
    count = {
        v: sum(1 for s in scenarios if s.verdict == v)
        for v in ("compatible", "incompatible", "inconclusive", "not_applicable")
    }
    if count["incompatible"] or policy:
        parts = []
        if count["incompatible"]:
            parts.append(f"{count['incompatible']} of {len(scenarios)} scenarios incompatible")
        if policy:
            parts.append(f"{len(policy)} expired allowlist entr{'ies' if len(policy) > 1 else 'y'}")
        return "incompatible", "; ".join(parts)
    if count["inconclusive"]:
        return "inconclusive", f"{count['inconclusive']} of {len(scenarios)} scenarios inconclusive"
    if not count["compatible"]:
        return "inconclusive", "no scenario applied to both targets"
    plural = "s" if count["compatible"] != 1 else ""
    return "compatible", f"{count['compatible']} scenario{plural} compatible" + (
        f", {count['not_applicable']} not applicable" if count["not_applicable"] else ""
    )


def combine(results: list[RunResult], *, complete: bool = True) -> tuple[str, str]:
    """The verdict over several candidates (a version matrix) and an unfinished run."""
    parts = [f"{r.candidate.get('target')}: {r.reason}" for r in results]
    single = len(results) == 1
    reason = results[0].reason if single else "; ".join(parts)
    statuses = {r.verdict for r in results}
    if "incompatible" in statuses:
        status = "incompatible"
    elif "inconclusive" in statuses or not complete:
        status = "inconclusive"
    else:
        status = "compatible"
    if not complete:
        reason = "the run was interrupted: the report covers what finished; " + reason
    return status, reason
