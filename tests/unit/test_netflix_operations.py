"""Changes of the Netflix line that a workflow's operations show (skip, remove, terminate),
on traces recorded from the versions either side of each change."""

from __future__ import annotations

from typing import Any

import pytest

from harness.classify import assess_run
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, NETFLIX_LINE


def _kept(older: str, newer: str, scenario: str) -> list[Any]:
    result = assess_run(
        load_trace_set(NETFLIX_LINE / older),
        load_trace_set(NETFLIX_LINE / newer),
        library.settings(),
    )
    (found,) = [s for s in result.scenarios if s.name == scenario]
    return [f for f in found.findings if f.disposition != "noise"]


def _changes(findings: list[Any]) -> dict[str, str | None]:
    return {f.difference.path: (f.change or {}).get("id") for f in findings}


def test_a_skipped_task_gains_its_end_time() -> None:
    kept = _kept("netflix-3.12.0", "netflix-3.13.0", "terminate-skip-decide")
    assert _changes(kept) == {"wf1.skipped#0.endTime": "skipped-task-end-time"}
    (found,) = kept
    assert (found.difference.baseline, found.difference.candidate) == ("<unset>", "<time>")


def test_a_removed_workflow_leaves_no_task_in_its_queue() -> None:
    kept = _kept("netflix-3.13.2", "netflix-3.13.3", "remove-variants")
    assert _changes(kept) == {
        '["step GET /api/tasks/queue/size #1"].body': "remove-workflow-dequeues-tasks"
    }
    (found,) = kept
    assert (found.difference.baseline, found.difference.candidate) == (1, 0)
    assert found.disposition == "catalogued"


def test_a_terminated_workflow_read_back_has_the_update_time_of_its_end() -> None:
    """A workflow that holds a WAIT, terminated, read through the API: 3.11.3's conversion
    drops its updateTime, 3.15.0 keeps it. That is workflow-update-time (the conversion),
    not wait-task-async (whose worker stamps a running workflow's time), while the same
    workflow's snapshots taken when it still ran are wait-task-async's."""
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0"),
        load_trace_set(NETFLIX_LINE / "netflix-3.11.3"),
        library.settings(),
    )
    (found,) = [s for s in result.scenarios if s.name == "upgrade-terminated-and-removed"]
    times = {
        f.difference.path: (f.change or {}).get("id")
        for f in found.findings
        if f.difference.path.endswith("updateTime") and f.disposition != "noise"
    }
    assert times['["step GET /api/workflow/{{workflow.stopped}} #1"].body.updateTime'] == (
        "workflow-update-time"
    )
    assert times["wf2.updateTime"] == "wait-task-async"
    assert [f.difference.path for f in found.findings if f.disposition == "open"] == []
    assert not [f for f in found.findings if f.ambiguous]


@pytest.mark.parametrize("scenario", ["failure-workflow-from-input", "event-handler-actions"])
def test_every_copy_of_a_failed_workflow_reason_is_the_reason_change(scenario: str) -> None:
    """From 3.13.7 a workflow that a task's failure ends says "Task <id> failed with status:
    ... and reason: '...'" ('null' when the task gave none, where the reason was missing
    before); the failure workflow's input.reason and what its handler reads are copies of
    it. 3.12.0 and 3.15.0, both with the lock off."""
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0-lock-off"),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.12.0").restrict({scenario}),
        library.settings(),
    )
    (found,) = [s for s in result.scenarios if s.name == scenario]
    reasons = [
        f
        for f in found.findings
        if "reason" in f.difference.path.lower() and f.disposition != "noise"
    ]
    assert reasons
    assert {(f.change or {}).get("id") for f in reasons} == {
        "failed-task-reason-in-workflow-reason"
    }
    assert [f.difference.path for f in found.findings if f.disposition == "open" and f.gates] == []


def test_a_failed_branch_fails_the_workflow_as_soon_as_the_join_is_evaluated() -> None:
    """3.12.0 leaves the workflow RUNNING after a branch failed, the other branch's WAIT
    still running, and its JOIN ends CANCELED; 3.13.0's asynchronous JOIN fails at once,
    and the workflow with it (both with the lock off)."""
    kept = _kept("lock-off/netflix-3.12.0", "lock-off/netflix-3.13.0", "fork-join-failure")
    roots = {f.difference.path for f in kept if f.disposition == "catalogued"}
    assert "wf1.join#0.status" in roots
    follows = {f.difference.path for f in kept if f.disposition == "consequence"}
    assert {"wf1.status", "wf1.gate#0.status", "wf1.reasonForIncompletion"} <= follows
    assert {(f.change or {}).get("id") for f in kept} == {"join-async"}


def test_a_failed_branch_is_decided_at_once_and_its_join_canceled() -> None:
    """3.13.7 leaves a failed branch to the JOIN, which fails (with the branch's output and
    reason) when next evaluated; 3.13.8 decides the workflow at the task's update: FAILED at
    once, the JOIN CANCELED (both with the lock off)."""
    kept = _kept("lock-off/netflix-3.13.7", "lock-off/netflix-3.13.8", "fork-join-failure")
    roots = {
        f.difference.path: (f.difference.baseline, f.difference.candidate)
        for f in kept
        if f.disposition == "catalogued"
    }
    assert set(roots) == {"wf1.join#0.status"}
    assert roots["wf1.join#0.status"][1] == "CANCELED"
    assert {(f.change or {}).get("id") for f in kept} == {"fork-branch-failure-decided-at-once"}
    assert not [f for f in kept if f.disposition == "open"]


def test_a_where_clause_holds_in_any_place_of_a_grouped_difference() -> None:
    """Against 3.15.0, 3.12.0's WAIT and JOIN are both IN_PROGRESS where 3.15.0 canceled
    them: one difference in two places, the WAIT's first. The change whose cause is the
    JOIN's status (where taskType JOIN) still explains it, and nothing is left open."""
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0-lock-off"),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.12.0").restrict(
            {"fork-join-failure"}
        ),
        library.settings(),
    )
    (found,) = [s for s in result.scenarios if s.name == "fork-join-failure"]
    (grouped,) = [f for f in found.findings if f.difference.shape == "wf1.*.status"]
    assert {p[1] for p in grouped.difference.all_parts} == {"gate#0", "join#0"}
    assert (grouped.change or {}).get("id") == "fork-branch-failure-decided-at-once"
    assert [f.difference.path for f in found.findings if f.disposition == "open"] == []
