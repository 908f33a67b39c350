"""A change that shows only across a rollback, on traces recorded from real servers.

fixtures/upgrade/pg-rollback-delay.tar.xz: upgrade-fork-half-done on PostgreSQL, played
wholly on oss:3.32.1, oss:3.21.14 and netflix:3.15.0, and carried across three rollbacks:
oss:3.32.1 to netflix:3.15.0 and to oss:3.21.14, oss:3.21.14 to netflix:3.15.0. From
oss:3.32.1, the JOIN waiting at the switch was held (its queue row left popped): the step
that completes its last branch did not settle, and the run ended there. From oss:3.21.14
it went on.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import pytest

from harness.classify import RunResult, assess_run
from harness.classify.catalog import BACKWARD, FORWARD, Catalog, Change
from harness.classify.model import Finding
from harness.traces import TraceSet, load_trace_set
from tests.unit import library
from tests.unit.traces import rollback_delay_traces, scenario_names, trace

CHANGE = "postgres-rollback-join-delay"
NAME = "upgrade-fork-half-done"
FROM_332 = "oss-3.32.1-netflix-3.15.0"
FROM_321 = "oss-3.21.14-netflix-3.15.0"
TO_321 = "oss-3.32.1-oss-3.21.14"


@functools.cache
def traces(name: str) -> TraceSet:
    return load_trace_set(rollback_delay_traces(name))


def _change() -> Change:
    return library.settings().catalog.by_id()[CHANGE]


def _assessed(baseline: str, candidate: str, *, without: str = "") -> RunResult:
    settings = library.settings()
    if without:
        kept = tuple(c for c in settings.catalog.changes if c.id != without)
        settings = replace(settings, catalog=Catalog(settings.catalog.files, kept))
    return assess_run(traces(baseline), traces(candidate), settings)


def _findings(result: RunResult) -> list[Finding]:
    (scenario,) = result.scenarios
    return scenario.findings


def _at(findings: list[Finding], level: str, shape: str, kind: str = "") -> Finding:
    found = [
        f
        for f in findings
        if f.difference.level == level
        and f.difference.shape == shape
        and (not kind or f.difference.kind == kind)
    ]
    assert len(found) == 1, (level, shape, kind, found)
    return found[0]


@pytest.mark.parametrize("rollback", [FROM_332, TO_321])
def test_the_recorded_rollbacks_from_oss_3_32_held_the_join(rollback: str) -> None:
    (run,) = [t for _, t in traces(rollback).runs[NAME]]
    assert run["target"]["upgrade_from"]["version"] == "3.32.1"
    assert run["target"]["backend"] == run["target"]["upgrade_from"]["backend"] == "postgres"
    assert run["outcome"]["status"] == "failed_expectation"
    assert "did not settle" in run["outcome"]["reason"]


@pytest.mark.parametrize("rollback", [FROM_332, TO_321])
def test_the_held_join_is_the_catalogued_rollback_delay_and_asks_for_action(
    rollback: str,
) -> None:
    result = _assessed("oss-3.32.1", rollback)
    findings = _findings(result)
    assert result.verdict == "action_required"
    assert [f for f in findings if f.disposition == "open"] == []
    join = _at(findings, "tasks", "wf1.*.status")
    assert join.disposition == "catalogued" and join.requires_action
    assert (join.difference.baseline, join.difference.candidate) == ("COMPLETED", "IN_PROGRESS")
    assert join.change is not None and join.change["id"] == CHANGE
    assert join.change["direction"] == FORWARD and join.change["across"] == "rollback"
    (status,) = [c for c in result.changes if c.change["id"] == CHANGE]
    assert status.requires_action and status.findings == 1 and status.scenarios == (NAME,)
    delayed = [f for f in findings if f.change is not None and f.change["id"] == CHANGE]
    assert all(f is join or f.consequence_of == join.fingerprint for f in delayed)
    assert {f.difference.level for f in delayed} == {"status", "tasks", "attempts", "data", "api"}


@pytest.mark.parametrize("rollback", [FROM_332, TO_321])
def test_what_the_run_that_ended_early_lost_follows_from_the_held_workflow(
    rollback: str,
) -> None:
    """The run's outcome, the steps it never played and the captures at its end are
    consequences, shown under the JOIN; the workflow still RUNNING is the change's effect."""
    findings = _findings(_assessed("oss-3.32.1", rollback))
    join = _at(findings, "tasks", "wf1.*.status")
    workflow = _at(findings, "status", "wf1.status")
    assert (workflow.difference.baseline, workflow.difference.candidate) == ("COMPLETED", "RUNNING")
    lost = [
        _at(findings, "status", "scenario", "added"),
        _at(findings, "status", "scenario", "removed"),
        _at(findings, "status", "wf1", "removed"),
        _at(findings, "tasks", "wf1", "removed"),
        *[f for f in findings if f.difference.shape.startswith('["capture ')],
    ]
    assert len(lost) >= 6
    for finding in (workflow, *lost, _at(findings, "attempts", "wf1.*.executed")):
        assert finding.disposition == "consequence", finding.difference
        assert finding.consequence_of == join.fingerprint, finding.difference
        assert not finding.gates


def test_without_the_entry_the_held_join_stays_unexplained_and_gates() -> None:
    """The consequences of a run that ended early hide nothing: with no change to explain
    the held workflow, they stand under it, unexplained, and the rollback is incompatible."""
    result = _assessed("oss-3.32.1", FROM_332, without=CHANGE)
    findings = _findings(result)
    assert result.verdict == "incompatible"
    workflow = _at(findings, "status", "wf1.status")
    assert workflow.disposition == "open" and workflow.gates
    outcome = _at(findings, "status", "scenario", "added")
    assert outcome.consequence_of == workflow.fingerprint and outcome.change is None


def _target(name: str) -> dict[str, Any]:
    return dict(traces(name).target)


def _wholly(name: str) -> dict[str, Any]:
    return {k: v for k, v in _target(name).items() if k != "upgrade_from"}


def test_it_reaches_only_a_run_carried_across_a_rollback_from_a_version_with_it() -> None:
    change = _change()
    across, base = _target(FROM_332), _target("oss-3.32.1")
    assert change.reach(base, across) == FORWARD
    assert change.reach(across, base) == BACKWARD
    assert change.reach(across, across) is None
    assert change.reach(base, _target("netflix-3.15.0")) is None  # versions played wholly
    assert change.reach(base, _wholly(FROM_332)) is None
    assert change.reach(_target("oss-3.21.14"), _target(FROM_321)) is None  # 3.21.14 lacks it
    assert change.reach(_target("oss-3.32.1"), _target(TO_321)) == FORWARD
    upgrade = {**base, "upgrade_from": _target("netflix-3.15.0")}  # 3.15.0 → 3.32.1
    assert change.reach(_target("netflix-3.15.0"), upgrade) is None
    redis = {
        **across,
        "backend": "redis",
        "upgrade_from": {**across["upgrade_from"], "backend": "redis"},
    }
    assert change.reach(base, redis) is None


def test_the_rollback_from_oss_3_21_meets_no_rollback_delay() -> None:
    result = _assessed("oss-3.21.14", FROM_321)
    assert CHANGE not in {c.change["id"] for c in result.changes}
    assert not [f for f in _findings(result) if f.change and f.change["id"] == CHANGE]
    assert {r.outcome for s in result.scenarios for r in s.candidate} == {"completed"}


def test_no_comparison_of_versions_played_wholly_reaches_it() -> None:
    """On their embedded stores (as the library is recorded) and on PostgreSQL."""
    change = _change()
    name = scenario_names()[0]
    targets = [trace(v, name)["target"] for v in ("netflix-3.15.0", "oss-3.21.14", "oss-3.32.1")]
    targets += [_target(v) for v in ("netflix-3.15.0", "oss-3.21.14", "oss-3.32.1")]
    assert all(change.reach(a, b) is None for a in targets for b in targets)
