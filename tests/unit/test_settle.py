"""The settle rules, on workflow snapshots recorded from real servers.

fixtures/traces/ holds traces recorded with ``conductor-compat run --keep-poll-bodies``
(see fixtures/README.md), so every settle poll's body is a real intermediate state.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.runner.settle import child_ids, pending, poll_interval, projection, settle

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "traces"
TARGETS = ["netflix-3.15.0", "oss-3.21.14", "oss-3.32.1"]


def trace(target: str, scenario: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TRACES / target / f"{scenario}.trace.json").read_text())
    return data


def polled(target: str, scenario: str) -> Iterator[dict[str, Any]]:
    for exchange in trace(target, scenario)["exchanges"]:
        body = exchange.get("body")
        if exchange["origin"] == "settle" and isinstance(body, dict) and "tasks" in body:
            yield body


def nobody_owes(task: Any) -> None:
    return None


@pytest.mark.parametrize("target", TARGETS)
def test_every_recorded_step_snapshot_is_settled(target: str) -> None:
    for path in sorted((TRACES / target).glob("*.trace.json")):
        for step in json.loads(path.read_text())["steps"]:
            if "snapshots" in step:
                assert step["settle"]["settled"], (path.name, step["index"])
                assert pending(step["snapshots"], nobody_owes) == [], (path.name, step["index"])


def test_a_join_whose_branches_are_done_is_pending_on_3_15_0() -> None:
    # 3.15.0 re-checks a JOIN on a back-off: this state looked still, but was not final.
    states = [pending([b], nobody_owes) for b in polled("netflix-3.15.0", "fork-join")]
    assert ["JOIN join has all its branches done"] in states


def test_a_tree_that_stands_still_is_polled_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    # A recorded JOIN of 3.15.0 that waits for its back-off: pending, and the same every
    # poll. Time is virtual: each pause the loop asks for is counted, none is slept.
    stuck = next(
        b
        for b in polled("netflix-3.15.0", "fork-join")
        if pending([b], nobody_owes) == ["JOIN join has all its branches done"]
    )
    clock = [0.0]
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        clock[0] += seconds

    async def fetch() -> list[dict[str, Any]]:
        return [stuck]

    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(asyncio, "sleep", pause)
    result = asyncio.run(settle(fetch, nobody_owes, deadline_s=30.0))
    assert not result.settled and result.reasons == ["JOIN join has all its branches done"]
    assert sorted(set(pauses)) == [0.1, 0.25, 0.5]
    assert max(at for at, p in zip(_starts(pauses), pauses, strict=True) if p == 0.1) < 5.0
    assert min(at for at, p in zip(_starts(pauses), pauses, strict=True) if p == 0.5) >= 15.0
    assert 115 <= result.polls <= 125  # 50 + 40 + 30 and the last: at 0.1 s throughout, 300


def _starts(pauses: list[float]) -> list[float]:
    """When each pause began, from the first poll at 0."""
    starts, at = [], 0.0
    for seconds in pauses:
        starts.append(at)
        at += seconds
    return starts


def test_a_moving_tree_is_polled_at_the_fastest_interval() -> None:
    assert poll_interval(0.0) == poll_interval(4.9) == 0.1
    assert poll_interval(5.0) == 0.25 and poll_interval(15.0) == poll_interval(600.0) == 0.5
    assert poll_interval(20.0, fastest_s=1.0) == 1.0  # never faster than asked


@pytest.mark.parametrize("target", TARGETS)
def test_a_scheduled_http_task_is_pending(target: str) -> None:
    states = [pending([b], nobody_owes) for b in polled(target, "http")]
    assert any(any(r.startswith("HTTP ") and r.endswith("is scheduled") for r in s) for s in states)


@pytest.mark.parametrize("target", TARGETS)
def test_a_loop_between_iterations_is_pending(target: str) -> None:
    # Its first iteration's task has completed, its condition is not yet evaluated.
    states = [pending([b], nobody_owes) for b in polled(target, "do-while")]
    assert ["DO_WHILE loop has finished iteration 1"] in states


def test_a_running_workflow_with_nothing_left_is_pending() -> None:
    states = [pending([b], nobody_owes) for b in polled("oss-3.21.14", "sub-workflow")]
    # the parent, between its SUB_WORKFLOW ending and its next task being scheduled
    assert ["workflow parent_wf has no task left to run"] in states


@pytest.mark.parametrize("target", TARGETS)
def test_children_are_found_and_the_tree_settles_with_them(target: str) -> None:
    step = trace(target, "sub-workflow")["steps"][-1]
    parent, child = step["snapshots"]
    assert child_ids(parent) == [child["workflowId"]]
    assert child["workflowName"] == "child_wf" and child["status"] == "COMPLETED"


def test_a_worker_task_the_workers_owe_is_pending() -> None:
    snapshots = [b for t in TARGETS for b in polled(t, "simple-sequential")]
    with_scheduled = [b for b in snapshots if any(t["status"] == "SCHEDULED" for t in b["tasks"])]
    assert with_scheduled, "some poll caught a task before its worker did"
    snapshot = with_scheduled[0]
    (ref,) = [t["referenceTaskName"] for t in snapshot["tasks"] if t["status"] == "SCHEDULED"]
    reasons = pending(
        [snapshot],
        lambda task: (
            f"{task['referenceTaskName']} waits for its worker"
            if task["status"] == "SCHEDULED"
            else None
        ),
    )
    assert reasons == [f"{ref} waits for its worker"]


def test_projection_ignores_update_times_but_not_statuses() -> None:
    document = trace("oss-3.32.1", "simple-sequential")["steps"][-1]["snapshots"][0]
    later = json.loads(json.dumps(document))
    later["updateTime"] += 1000
    assert projection([document]) == projection([later])
    later["tasks"][0]["status"] = "FAILED"
    assert projection([document]) != projection([later])


def test_an_async_task_the_executor_put_back_waits_on_a_timer() -> None:
    # netflix:3.15.0, a WAIT rescheduled by retry: polled once, postponed 30 s, never started.
    postponed = {"referenceTaskName": "gate", "taskType": "WAIT", "status": "SCHEDULED",
                 "pollCount": 1, "callbackAfterSeconds": 30}  # fmt: skip
    fresh = {**postponed, "pollCount": 0}
    join = {**postponed, "taskType": "JOIN", "referenceTaskName": "join"}
    document = {"workflowId": "w", "status": "RUNNING", "tasks": [postponed]}
    assert pending([document], nobody_owes) == []
    assert pending([{**document, "tasks": [fresh]}], nobody_owes) == ["WAIT gate is scheduled"]
    assert pending([{**document, "tasks": [join]}], nobody_owes) == ["JOIN join is scheduled"]


@pytest.mark.parametrize("target", TARGETS)
def test_a_join_inside_a_loop_maps_its_branches_to_the_iteration(target: str) -> None:
    # joinOn says [left, right]; the tasks are left__2, right__2 in iteration 2.
    reasons = {r for b in polled(target, "do-while-fork") for r in pending([b], nobody_owes)}
    assert reasons & {
        "JOIN join__1 has all its branches done",
        "JOIN join__2 has all its branches done",
    }


def test_a_join_that_waits_on_nothing_is_pending_on_3_21_14() -> None:
    # joinOn: [] completes in 3.15.0's decision, on 3.21.14's executor pass a moment later.
    states = [
        pending([b], nobody_owes)
        for b in polled("oss-3.21.14", "oss-e2e.workflow_rate_limit_in_progress_parent")
    ]
    assert ["JOIN join_ref waits on nothing"] in states


@pytest.mark.parametrize("target", TARGETS)
def test_a_wait_inside_a_switch_holds_its_loop_iteration(target: str) -> None:
    held = [
        b
        for b in polled(target, "do-while-switch-wait")
        if {(t["referenceTaskName"], t["status"]) for t in b["tasks"]}
        >= {("pick__1", "COMPLETED"), ("gate__1", "IN_PROGRESS")}
    ]
    assert held, "some poll saw the SWITCH ended and its WAIT waiting"
    assert all(pending([b], nobody_owes) == [] for b in held)


@pytest.mark.parametrize("target", ["netflix-3.15.0", "oss-3.21.14"])
def test_a_wait_until_a_past_date_is_pending_until_it_ends(target: str) -> None:
    states = [pending([b], nobody_owes) for b in polled(target, "wait-until")]
    assert ["WAIT hold is past its time"] in states


def test_a_wait_is_due_by_its_until_or_its_duration() -> None:
    (document,) = trace("netflix-3.15.0", "wait-until")["steps"][0]["snapshots"]
    hold = next(t for t in document["tasks"] if t["referenceTaskName"] == "hold")
    running = {"workflowId": "w", "status": "RUNNING"}
    start = float(hold["startTime"])

    def due(input_data: dict[str, Any], now_ms: float) -> bool:
        task = {**hold, "status": "IN_PROGRESS", "inputData": input_data}
        return pending([{**running, "tasks": [task]}], nobody_owes, now_ms) != []

    assert due({"until": "2020-01-01 00:00 UTC"}, start)
    assert due({"until": "2020-01-01 00:00"}, start)  # no zone, but years past anywhere
    assert not due({"until": "2099-01-01 00:00 UTC"}, start)
    assert not due({"until": "next tuesday"}, start)  # the server fails it; nothing to wait for
    assert not due({"duration": "3 seconds"}, start + 2_000)
    assert due({"duration": "3 seconds"}, start + 3_000)
    assert due({"duration": "1m 2s"}, start + 62_000)
    assert not due({}, start + 10**9)  # a WAIT for a step


def test_a_failure_workflow_that_did_not_start_is_no_child() -> None:
    # netflix:3.15.0 puts the start error where the failure workflow's id would be.
    (failed, *_) = trace_of_baseline("failure-workflow-missing")["steps"][0]["snapshots"]
    assert failed["output"]["conductor.failure_workflow"].startswith("Error workflow")
    assert child_ids(failed) == []


def trace_of_baseline(scenario: str) -> dict[str, Any]:
    path = TRACES.parent / "baselines" / "netflix-3.15.0" / f"{scenario}.trace.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_a_task_a_decision_ends_at_once_is_pending_until_it_ends() -> None:
    """oss:3.32.1 decides a sub-workflow's child from a queue: a snapshot right after the
    start caught the child's INLINE IN_PROGRESS (fixtures/explore/inline-in-progress, a run
    made before this rule, which settled there too early)."""
    path = TRACES.parent / "explore" / "inline-in-progress" / "oss-3.32.1.trace.json"
    start, wait = json.loads(path.read_text())["steps"]
    assert pending(start["snapshots"], nobody_owes) == [
        "INLINE t3 is IN_PROGRESS, a task a decision ends at once"
    ]
    assert pending(wait["snapshots"], nobody_owes) == []
