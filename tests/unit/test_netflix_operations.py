"""Changes of the Netflix line that a workflow's operations show (skip, remove, terminate),
on traces recorded from the versions either side of each change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.classify import assess_run, load_catalog
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


def test_a_grouped_difference_is_explained_place_by_place() -> None:
    """Against 3.15.0, 3.12.0's WAIT and JOIN are both IN_PROGRESS where 3.15.0 canceled
    them: one difference in two places, the WAIT's first. The change whose cause is the
    JOIN's status (where taskType JOIN) explains the JOIN's place, not the WAIT's: the
    difference splits in two, and the WAIT's part follows from the JOIN's. Nothing is left
    open."""
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0-lock-off"),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.12.0").restrict(
            {"fork-join-failure"}
        ),
        library.settings(),
    )
    (found,) = [s for s in result.scenarios if s.name == "fork-join-failure"]
    parts = {f.difference.paths: f for f in found.findings if f.difference.shape == "wf1.*.status"}
    join, wait = parts[("wf1.join#0.status",)], parts[("wf1.gate#0.status",)]
    assert set(parts) == {("wf1.join#0.status",), ("wf1.gate#0.status",)}
    assert join.disposition == "catalogued"
    assert (join.change or {}).get("id") == "fork-branch-failure-decided-at-once"
    assert wait.disposition == "consequence" and wait.consequence_of == join.fingerprint
    assert join.fingerprint != wait.fingerprint
    assert [f.difference.path for f in found.findings if f.disposition == "open"] == []


def test_an_optional_branch_that_fails_after_its_join_completed_is_never_decided() -> None:
    """3.12.0 (the lock off) evaluates the JOIN in the decision that schedules the second
    branch's optional task, and completes it at once on the first branch's optional failure
    (COMPLETED_WITH_ERRORS); the task fails after it, and nothing decides it again: it stays
    FAILED_WITH_TERMINAL_ERROR, executed false, missing from the JOIN's output and reason.
    3.15.0's asynchronous JOIN is evaluated after the task failed."""
    only = {"optional-fork-branch"}
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0-lock-off").restrict(only),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.12.0").restrict(only),
        library.settings(),
    )
    (found,) = result.scenarios
    kept = [f for f in found.findings if f.disposition != "noise"]
    assert {p: c for p, c in _changes(kept).items() if c == "join-async"} == {
        "wf1.opt_branch#0.status": "join-async",
        "wf1.opt_branch#0.executed": "join-async",
        "wf1.join#0.outputData.opt_branch": "join-async",
        "wf1.join#0.reasonForIncompletion": "join-async",
        "wf1.output.joined.opt_branch": "join-async",
    }
    status = next(f for f in kept if f.difference.path == "wf1.opt_branch#0.status")
    assert (status.difference.baseline, status.difference.candidate) == (
        "COMPLETED_WITH_ERRORS",
        "FAILED_WITH_TERMINAL_ERROR",
    )
    # the SUB_WORKFLOW task copies its child's reason, which names the failed task from 3.13.7
    assert _changes(kept)["wf1.opt_child#0.reasonForIncompletion"] == (
        "failed-task-reason-in-workflow-reason"
    )
    assert not [f for f in kept if f.disposition == "open"]


def test_a_dynamic_fork_with_inputs_that_are_not_maps_fails_its_workflow() -> None:
    """3.12.0 answers the planner's update 500 (the cast error escaped the decision) and
    leaves the workflow RUNNING, so the scenario stops at its first wait; 3.13.0 fails the
    workflow with the reason (both with the lock off). Everything the stopped run lacks
    follows from that."""
    kept = _kept("lock-off/netflix-3.13.0", "lock-off/netflix-3.12.0", "fork-join-dynamic-invalid")
    roots = {f.difference.path for f in kept if f.disposition == "catalogued"}
    assert roots == {"wf1.status", '["worker POST /api/tasks wf1/planner#0 #1"].status'}
    # the reason a FAILED workflow has and a RUNNING one lacks follows from its status
    (reason,) = [f for f in kept if f.difference.path == "wf1.reasonForIncompletion"]
    assert reason.disposition == "consequence"
    assert reason.note == "follows from status wf1.status"
    assert {(f.change or {}).get("id") for f in kept} == {
        "dynamic-fork-invalid-input-fails-workflow"
    }
    assert not [f for f in kept if f.disposition == "open"]


@pytest.mark.parametrize(
    "scenario", ["oss-e2e.exec_limit_check", "oss-e2e.context_concurrency_issue"]
)
def test_a_branch_last_task_is_no_longer_decided_on_its_update(scenario: str) -> None:
    """A FORK of one SIMPLE task per branch, then the JOIN: 3.12.0 decides each task's
    update and marks it executed; from 3.13.0 the JOIN's worker completes the workflow and
    nothing marks them (both with the lock off)."""
    kept = _kept("lock-off/netflix-3.12.0", "lock-off/netflix-3.13.0", scenario)
    assert kept
    assert {f.difference.path.rpartition(".")[2] for f in kept} == {"executed"}
    assert {(f.change or {}).get("id") for f in kept} == {"join-async"}
    assert {(f.difference.baseline, f.difference.candidate) for f in kept} == {(True, False)}


@pytest.mark.parametrize("scenario", ["upgrade-wait-until", "oss-e2e.do-while-set-variable-fix"])
def test_a_timed_wait_on_the_in_memory_store_waits_for_a_sweep_before_3_14(scenario: str) -> None:
    """netflix 3.13.8 on the embedded profile: the timed WAIT is never ended (its sweep is
    lost in the in-memory queue), so the workflow is still RUNNING when the scenario gives
    up; 3.14.0's system-task worker ends it on time. Everything after follows."""
    kept = _kept("netflix-3.14.0", "netflix-3.13.8", scenario)
    roots = {
        f.difference.path: (f.change or {}).get("id") for f in kept if f.disposition == "catalogued"
    }
    assert "timed-wait-ends-without-sweep" in roots.values()
    assert set(roots.values()) <= {"timed-wait-ends-without-sweep", "wait-task-async"}
    assert not [f for f in kept if f.disposition == "open"]
    assert {f.difference.path for f in kept if f.disposition == "consequence"} >= {"wf1.status"}


def test_the_late_wait_is_the_in_memory_store_s_only() -> None:
    """The change is the embedded profile's: a target on a real store (redis, postgres) has
    it on neither side of 3.14.0, so it explains nothing there."""
    (change,) = [c for c in load_catalog().changes if c.id == "timed-wait-ends-without-sweep"]
    assert change.present({"version": "3.15.0", "backend": "memory"}) is True
    assert change.present({"version": "3.13.8", "backend": "memory"}) is False
    assert change.present({"version": "3.15.0", "backend": "redis"}) is False


def test_a_wait_an_event_should_complete_is_not_the_late_timed_wait() -> None:
    """netflix 3.9.2 (embedded): upgrade-event-handler's WAIT, which has no duration and
    waits for an event handler's complete_task, stays IN_PROGRESS; that is not a timed WAIT
    waiting for its sweep, and the change of timed WAITs explains none of it."""
    only = {"upgrade-event-handler"}
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0").restrict(only),
        load_trace_set(NETFLIX_LINE / "netflix-3.9.2").restrict(only),
        library.settings(),
    )
    (found,) = result.scenarios
    waits = {
        f.difference.path: f for f in found.findings if f.difference.path.startswith("wf1.w1#0.")
    }
    assert {"wf1.w1#0.status", "wf1.w1#0.executed"} <= set(waits)
    assert not [
        p for p, f in waits.items() if (f.change or {}).get("id") == "timed-wait-ends-without-sweep"
    ]
    assert waits["wf1.w1#0.status"].disposition in ("open", "consequence")
    assert found.verdict == "incompatible"


def test_a_join_whose_branches_are_done_waits_30_s_before_3_13_7() -> None:
    """netflix 3.13.6 against 3.13.7 (both with the lock off): the JOIN is IN_PROGRESS with
    every branch done, evaluated again only after 30 s, so the step does not settle within
    15 s; everything the stopped run lacks follows from it, and the verdict asks for action
    rather than calling the candidate incompatible."""
    kept = _kept("lock-off/netflix-3.13.7", "lock-off/netflix-3.13.6", "optional-fork-branch")
    roots = {
        f.difference.path: (f.change or {}).get("id") for f in kept if f.disposition == "catalogued"
    }
    assert roots["wf1.join#0.status"] == "join-evaluated-again-after-30-s"
    assert not [f for f in kept if f.disposition == "open"]
    outcome = [f for f in kept if f.difference.path == "scenario"]
    assert outcome and {f.disposition for f in outcome} == {"consequence"}


def test_a_run_that_sometimes_stops_on_a_catalogued_change_is_that_change_s() -> None:
    """fork-nested on 3.13.6 stops in runs 1 and 3 (the 30-s JOIN) and completes in run 2:
    the stops are intermittent, and they follow from the intermittent JOIN status that the
    same runs show, which the change explains. The change is reached: action required, not
    incompatible; the worker calls of the workflow those runs never started follow too."""
    result = assess_run(
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.13.7"),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.13.6"),
        library.settings(),
    )
    (found,) = [s for s in result.scenarios if s.name == "fork-nested"]
    assert found.verdict == "action_required", found.reason
    (root,) = [f for f in found.findings if f.difference.path == "wf1.outer_join#0.status"]
    assert (root.disposition, root.shown_by, root.requires_action) == ("intermittent", (1, 3), True)
    assert (root.change or {}).get("id") == "join-evaluated-again-after-30-s"
    stops = [f for f in found.findings if f.difference.path == "scenario"]
    assert stops and all(f.consequence_of == root.fingerprint for f in stops)
    workers = [f for f in found.findings if "wf2/" in f.difference.path]
    assert workers and all(f.disposition == "consequence" for f in workers)
    assert not [f for f in found.findings if f.gates]


def test_an_intermittent_stop_nothing_explains_still_gates() -> None:
    """The same traces with a catalog that lacks the change: the stops are the candidate's
    own intermittent failure, and they gate."""
    settings = library.settings()
    catalog = settings.catalog
    without = replace(
        catalog,
        changes=tuple(c for c in catalog.changes if c.id != "join-evaluated-again-after-30-s"),
    )
    result = assess_run(
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.13.7"),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.13.6"),
        replace(settings, catalog=without),
        names=["fork-nested"],
    )
    (found,) = result.scenarios
    assert found.verdict == "incompatible"
    stops = [f for f in found.findings if f.difference.path == "scenario" and f.gates]
    assert stops and {f.disposition for f in stops} == {"intermittent"}


def test_an_optional_branch_failure_is_decided_at_once_from_3_13_8() -> None:
    """explore.join-optional-failure-early (the lock off): on 3.13.7 the optional task that
    failed stays undecided (FAILED_WITH_TERMINAL_ERROR), so the JOIN waits on the other
    branch and the wait for COMPLETED_WITH_ERRORS gives up; on 3.13.8 it is decided at once
    and the JOIN completes with errors. What 3.13.7's run saw when it gave up stands where
    3.13.8's went on, and everything follows from the JOIN's status."""
    kept = _kept("lock-off/netflix-3.13.8", "lock-off/netflix-3.13.7", SCENARIO_EARLY_JOIN)
    roots = {f.difference.path for f in kept if f.disposition == "catalogued"}
    assert roots == {"wf1.join#0.status"}
    assert {(f.change or {}).get("id") for f in kept} == {"fork-branch-failure-decided-at-once"}
    consequences = {f.difference.path for f in kept if f.disposition == "consequence"}
    assert {"wf1.opt#0.status", "wf1.status", "scenario"} <= consequences


def test_a_join_waiting_on_a_running_branch_is_not_the_30_s_join() -> None:
    """The same scenario on 3.13.3, which has the 30-s JOIN too: its JOIN waits on a branch
    that has not ended (joined_ended false), so the 30-s change explains nothing there."""
    only = {SCENARIO_EARLY_JOIN}
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0-lock-off").restrict(only),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.13.3").restrict(only),
        library.settings(),
    )
    (found,) = result.scenarios
    ids = {(f.change or {}).get("id") for f in found.findings if f.disposition != "noise"}
    assert ids == {"fork-branch-failure-decided-at-once"}
    assert found.verdict == "action_required"


SCENARIO_EARLY_JOIN = "explore.join-optional-failure-early"


def _fork_nested(baselines: str, candidate: str) -> Any:
    """fork-nested's result: a recorded candidate folder against 3.15.0's baselines."""
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / baselines).restrict({"fork-nested"}),
        load_trace_set(NETFLIX_LINE / candidate).restrict({"fork-nested"}),
        library.settings(),
    )
    (found,) = result.scenarios
    return found


def test_a_join_left_to_the_sweep_before_3_13_is_that_change_s() -> None:
    """fork-nested on netflix 3.10.7 with the lock off, in the whole library's gate: the
    updates of the branches' last tasks only pushed the workflow to the decider queue
    (Netflix/conductor#3146), and no sweep came within 15 s. In runs 1 and 3 the outer JOIN
    waits with its branches done; in run 2 the inner one, whose output the baseline has.
    Each JOIN's status is the change's, at whichever JOIN a run stopped, and the inner
    JOIN's missing output follows from its own status in run 2."""
    found = _fork_nested("netflix-3.15.0-lock-off", "lock-off/netflix-3.10.7")
    assert found.verdict == "action_required", found.reason
    (root,) = [f for f in found.findings if f.difference.shape == "wf1.*.status"]
    assert (root.change or {}).get("id") == "join-waits-for-sweep"
    assert set(root.difference.paths) == {"wf1.outer_join#0.status", "wf1.inner_join#0.status"}
    outputs = [f for f in found.findings if f.difference.path.startswith("wf1.inner_join#0.out")]
    assert outputs and {f.consequence_of for f in outputs} == {root.fingerprint}
    assert not [f for f in found.findings if f.gates]


def test_an_outer_join_waits_with_the_inner_join_left_to_the_sweep() -> None:
    """fork-nested on netflix 3.10.7 with the profile's lock, in the whole library's gate:
    in runs 1 and 3 the inner JOIN waits for the sweep with its branches done, and the
    outer JOIN, which joins on it, waits with it (its own joined tasks not all ended); in
    run 2 the outer one waits with its branches done. The outer JOIN's status is an effect
    of the change, its missing output follows from it, and nothing is left open."""
    found = _fork_nested("netflix-3.15.0", "lock/netflix-3.10.7")
    assert found.verdict == "action_required", found.reason
    kept = [f for f in found.findings if f.disposition != "noise"]
    (outer,) = [f for f in kept if f.difference.path == "wf1.outer_join#0.status"]
    assert (outer.change or {}).get("id") == "join-waits-for-sweep"
    outputs = [f for f in kept if f.difference.path.startswith("wf1.outer_join#0.outputData")]
    assert outputs and {(f.change or {}).get("id") for f in outputs} == {"join-waits-for-sweep"}
    assert not [f for f in kept if f.disposition == "open"]


def test_an_outer_join_waits_with_the_inner_join_evaluated_again_after_30_s() -> None:
    """fork-nested on netflix 3.13.3 with the lock off, in the whole library's gate: in
    each of 3 runs the inner JOIN, its branches done, waits for its next evaluation 30 s
    later, and the step does not settle; the outer JOIN, which joins on it, waits with it.
    Both are the 30-s JOIN's, and nothing gates."""
    found = _fork_nested("netflix-3.15.0-lock-off", "lock-off/netflix-3.13.3")
    assert found.verdict == "action_required", found.reason
    kept = [f for f in found.findings if f.disposition != "noise"]
    outer = [f for f in kept if f.difference.path.endswith(".outer_join#0.status")]
    assert outer
    assert {(f.change or {}).get("id") for f in outer} == {"join-evaluated-again-after-30-s"}
    assert not [f for f in kept if f.disposition == "open" or f.gates]


def test_a_join_left_to_the_sweep_is_not_the_30_s_join() -> None:
    """The same JOIN status on 3.10.7 is not the 30-s JOIN's (3.13.0 to 3.13.6) nor any
    other change's: only the change whose versions hold the candidate explains it."""
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0-lock-off").restrict({"fork-join"}),
        load_trace_set(NETFLIX_LINE / "lock-off" / "netflix-3.10.7").restrict({"fork-join"}),
        library.settings(),
    )
    (found,) = result.scenarios
    status = [f for f in found.findings if f.difference.path == "wf1.join#0.status"]
    assert [(f.change or {}).get("id") for f in status] == ["join-waits-for-sweep"]
    assert not [f for f in found.findings if f.ambiguous]


def _optional_fork_branch(baseline: Path, candidate: Path) -> list[Any]:
    name = "optional-fork-branch"
    result = assess_run(
        load_trace_set(baseline).restrict({name}),
        load_trace_set(candidate).restrict({name}),
        library.settings(),
    )
    (found,) = result.scenarios
    return [f for f in found.findings if f.disposition != "noise"]


def test_a_join_that_completed_before_its_optional_task_ran_kept_an_empty_copy() -> None:
    """optional-fork-branch on netflix 3.8.3 with the lock off (the whole library's gate):
    the JOIN completed before its optional branch task ran, and, before
    Netflix/conductor#3055, copied that task's empty output, where 3.15.0's JOIN waited for
    it. The fields its copy lacks are join-async's; the workflow's output, which carries
    the JOIN's (`joined: ${join.output}`), follows from them."""
    kept = _optional_fork_branch(
        FIXTURES / "baselines" / "netflix-3.15.0-lock-off",
        NETFLIX_LINE / "lock-off" / "netflix-3.8.3",
    )
    copy = [f for f in kept if f.difference.path.startswith("wf1.join#0.outputData.opt_branch.")]
    assert {f.difference.path.rsplit(".", 1)[1] for f in copy} == {
        "attempt",
        "iteration",
        "ref",
        "worker",
    }
    assert {((f.change or {}).get("id"), f.difference.candidate) for f in copy} == {
        ("join-async", None)
    }
    output = [f for f in kept if f.difference.path.startswith("wf1.output.joined.opt_branch.")]
    assert len(output) == 4
    assert {(f.disposition, (f.change or {}).get("id")) for f in output} == {
        ("consequence", "join-async")
    }
    assert not [f for f in kept if f.gates]


def test_a_joined_task_s_empty_output_is_left_out_from_3_9() -> None:
    """The same JOIN on 3.9.2 has no key for that task: join-output-no-empty-copy, seen
    from 3.8.3 and back."""
    old, new = (
        NETFLIX_LINE / "lock-off" / "netflix-3.8.3",
        NETFLIX_LINE / "lock-off" / "netflix-3.9.2",
    )
    for baseline, candidate, kind in ((old, new, "removed"), (new, old, "added")):
        kept = _optional_fork_branch(baseline, candidate)
        (key,) = [f for f in kept if f.difference.path == "wf1.join#0.outputData.opt_branch"]
        assert key.difference.kind == kind
        assert (key.disposition, (key.change or {}).get("id")) == (
            "catalogued",
            "join-output-no-empty-copy",
        )


def test_a_start_call_a_never_ending_loop_held_is_that_loop_s_change() -> None:
    """oss-e2e.do-while-set-variable-fix on netflix 3.10.7 with the profile's lock: the
    start call's decision ran the loop without end, so the call got no answer (a read
    timeout) in each of 3 runs, and the thread that took it ran without pause in each run
    played alone. The run's outcome is do-while-input-evaluated-each-iteration's (before
    3.12 the condition never saw its input change); what the run never recorded follows."""
    name = "oss-e2e.do-while-set-variable-fix"
    result = assess_run(
        load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0").restrict({name}),
        load_trace_set(NETFLIX_LINE / "lock" / "netflix-3.10.7").restrict({name}),
        library.settings(),
    )
    (found,) = result.scenarios
    kept = [f for f in found.findings if f.disposition != "noise"]
    (outcome,) = [
        f for f in kept if f.difference.path == "scenario" and f.difference.kind == "added"
    ]
    assert outcome.difference.candidate == {"outcome": "error"}
    assert (outcome.disposition, (outcome.change or {}).get("id")) == (
        "catalogued",
        "do-while-input-evaluated-each-iteration",
    )
    assert not [f for f in kept if f.gates]
    assert found.verdict == "action_required"
