"""Assess a whole run: every scenario of a baseline trace set against a candidate's.

The verdict, per candidate and overall, answers a migrating team's question:

    incompatible     an unexplained difference reaches fail-on (a regression, or a change
                     nobody catalogued), or the candidate hung or failed intermittently
    inconclusive     a scenario errored, or its baseline is not deterministic
    action required  catalogued breaking or behavioral changes that the scenarios reach and
                     the team has not accepted: the list is the team's to-do list
    compatible       nothing left but additive, cosmetic or accepted changes

in that order of precedence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.classify.assess import Context, Views, assess_scenario
from harness.classify.imported import placeholder_notices
from harness.classify.model import RunResult, ScenarioResult
from harness.classify.runaways import runaway_notices
from harness.classify.settings import Settings
from harness.traces import TraceSet

PRECEDENCE = ("incompatible", "inconclusive", "action_required", "compatible")


def assess_run(
    baseline: TraceSet,
    candidate: TraceSet,
    settings: Settings,
    *,
    on_scenario: Callable[[ScenarioResult], None] | None = None,
    names: Sequence[str] | None = None,
    views: Views | None = None,
) -> RunResult:
    """Every scenario of either set, or exactly ``names`` (a run's selection, where a
    scenario that neither side finished is reported as not run). ``views``: scrubbed
    views shared with other comparisons of the same traces."""
    context = Context(settings, baseline.target, candidate.target, views or Views())
    scenarios: list[ScenarioResult] = []
    chosen = sorted(set(baseline.runs) | set(candidate.runs)) if names is None else sorted(names)
    for name in chosen:
        result = assess_scenario(
            name, baseline.runs.get(name, []), candidate.runs.get(name, []), context
        )
        scenarios.append(result)
        if on_scenario:
            on_scenario(result)
    ledger = context.ledger
    changes = ledger.statuses(settings.fail_on, settings.fail_on_known)
    verdict, reason = overall(scenarios)
    return RunResult(
        verdict=verdict,
        reason=reason,
        fail_on=settings.fail_on,
        fail_on_known=settings.fail_on_known,
        baseline={"directory": str(baseline.directory), **baseline.target},
        candidate={"directory": str(candidate.directory), **candidate.target},
        scenarios=scenarios,
        changes=changes,
        catalog_files=list(settings.catalog.files),
        acceptance_file=settings.acceptances.file if settings.acceptances else None,
        acceptances=ledger.acceptance_statuses(),
        notices=[
            *ledger.notices(),
            *placeholder_notices(baseline, chosen, "the baseline"),
            *placeholder_notices(candidate, chosen, str(candidate.target.get("target"))),
            *runaway_notices(baseline.restrict(set(chosen)), "the baseline"),
            *runaway_notices(candidate.restrict(set(chosen)), str(candidate.target.get("target"))),
            *profile_notices(baseline.target, candidate.target),
        ],
        settings={
            "fail_on": settings.fail_on,
            "fail_on_known": settings.fail_on_known,
            "recheck": settings.recheck,
            "today": settings.today.isoformat(),
            "scrub_spec": settings.spec.describe(),
            "severity_rules": {
                "files": list(settings.severity.files),
                "rules": [r.describe() for r in settings.severity.rules],
            },
            "catalog": {"files": list(settings.catalog.files), "changes": len(ledger.reached)},
        },
    )


def overall(scenarios: list[ScenarioResult]) -> tuple[str, str]:
    count = {
        v: sum(1 for s in scenarios if s.verdict == v) for v in (*PRECEDENCE, "not_applicable")
    }
    total = len(scenarios)
    if count["incompatible"]:
        return "incompatible", f"{count['incompatible']} of {total} scenarios incompatible"
    if count["inconclusive"]:
        return "inconclusive", f"{count['inconclusive']} of {total} scenarios inconclusive"
    if count["action_required"]:
        changes = sorted(
            {
                f.change["id"]
                for s in scenarios
                for f in s.findings
                if f.requires_action and f.change is not None
            }
        )
        return "action_required", (
            f"{len(changes)} catalogued change{'s' * (len(changes) != 1)} to handle, reached "
            f"by {count['action_required']} of {total} scenarios"
        )
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
    if not complete and "incompatible" not in statuses:
        statuses.add("inconclusive")
    status = next(v for v in PRECEDENCE if v in statuses or v == "compatible")
    if not complete:
        reason = "the run was interrupted: the report covers what finished; " + reason
    return status, reason


def profile_notices(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[str]:
    """Two sides started with different server configurations: say so (a remote target's
    configuration is its own, and says nothing)."""
    old, new = baseline.get("profile"), candidate.get("profile")
    if old is None or new is None or old == new:
        return []
    return [
        f"the baseline's servers ran with the {old} profile and {candidate.get('target')}'s "
        f"with the {new} profile: a difference may come from the configuration, not the "
        "version"
    ]
