"""netflix 3.8.3 with the profile's lock, against netflix 3.15.0's baselines: a workflow
stopped after a system task its decision ran (`lock-not-reentrant-stalls-after-system-task`)
shows in its parent, in its DO_WHILE's count and in a WAIT's flag, each explained by that
change; where a folded difference's places have different causes, each place goes to its
own. Traces recorded from real servers (fixtures/netflix-line/lock/netflix-3.8.3)."""

from __future__ import annotations

from typing import Any

from harness.classify import assess_run
from harness.classify.model import RunResult
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, NETFLIX_LINE

STALL = "lock-not-reentrant-stalls-after-system-task"
TIMED_WAIT = "timed-wait-ends-without-sweep"
BASELINE = FIXTURES / "baselines" / "netflix-3.15.0"
CANDIDATE = NETFLIX_LINE / "lock" / "netflix-3.8.3"


def _result() -> RunResult:
    candidate = load_trace_set(CANDIDATE)
    return assess_run(
        load_trace_set(BASELINE).restrict(set(candidate.runs)), candidate, library.settings()
    )


def _kept(result: RunResult, scenario: str) -> list[Any]:
    (found,) = [s for s in result.scenarios if s.name == scenario]
    return [f for f in found.findings if f.disposition != "noise"]


def test_places_of_one_folded_difference_go_each_to_the_change_that_explains_it() -> None:
    """The loop's SWITCH and its WAIT both lost `executed` alike: one fold on the shape
    wf1.*.executed. The SWITCH is the lock's stall; the WAIT, a timed WAIT the embedded
    store never ended before 3.14, is `timed-wait-ends-without-sweep`'s. Each part has its
    own fingerprint, and nothing is a catalog defect."""
    result = _result()
    assert result.notices == []
    executed = [
        f
        for f in _kept(result, "oss-e2e.do-while-set-variable-fix")
        if f.difference.shape == "wf1.*.executed"
    ]
    parts = {f.difference.part: (f.difference.paths, (f.change or {}).get("id")) for f in executed}
    assert parts == {
        STALL: (("wf1.switch_is_skip_approval_ref__1#0.executed",), STALL),
        TIMED_WAIT: (("wf1.wait_ref_2__1#0.executed",), TIMED_WAIT),
    }
    assert len({f.fingerprint for f in executed}) == 2
    assert all(not f.ambiguous for f in executed)


def test_a_loop_its_workflow_stall_held_is_not_the_loops_own_change() -> None:
    """The DO_WHILE ran 1 iteration where 3.15.0 ran 2 because its SWITCH was never
    followed by a decision, not because of how the loop reads its condition: the count
    follows from the stall, and neither DO_WHILE change explains it."""
    kept = _kept(_result(), "oss-e2e.do-while-set-variable-fix")
    counts = [f for f in kept if f.difference.path.endswith(".iteration")]
    assert {f.difference.path for f in counts} == {
        "wf1.do_while_ref#0.iteration",
        "wf1.do_while_ref#0.outputData.iteration",
    }
    for f in counts:
        assert (f.difference.baseline, f.difference.candidate) == (2, 1)
        assert f.disposition == "consequence" and (f.change or {}).get("id") == STALL
    assert not [f for f in kept if f.disposition == "open"]


def test_a_parent_waits_on_the_child_that_the_lock_stopped() -> None:
    """The child's SET_VARIABLE was never followed by a decision; its parent's SUB_WORKFLOW
    task stays IN_PROGRESS and the parent RUNNING: effects of the child's stall."""
    result = _result()
    for scenario in (
        "explore.sub-workflow-first-set-variable",
        "explore.sub-workflow-then-set-variable",
        "failure-in-sub-workflow",
    ):
        kept = _kept(result, scenario)
        assert not [f.difference.path for f in kept if f.disposition == "open"], scenario
        parent = [f for f in kept if f.difference.path.startswith("wf1.")]
        assert parent, scenario
        for f in parent:
            if f.difference.level in ("status", "tasks"):
                assert f.disposition == "consequence", (scenario, f.difference.path)
    (status,) = [
        f
        for f in _kept(result, "explore.sub-workflow-first-set-variable")
        if f.difference.path == "wf1.status"
    ]
    assert (status.difference.baseline, status.difference.candidate) == ("COMPLETED", "RUNNING")
    assert (status.change or {}).get("id") == STALL
    assert status.consequence_of is not None


def test_a_wait_whose_time_its_decision_found_over_is_left_unmarked_by_the_stall() -> None:
    kept = _kept(_result(), "upgrade-wait-duration")
    (flag,) = [f for f in kept if f.difference.path == "wf1.pause_for#0.executed"]
    assert (flag.difference.baseline, flag.difference.candidate) == (True, False)
    assert flag.disposition == "catalogued" and (flag.change or {}).get("id") == STALL
    assert not [f for f in kept if f.disposition == "open"]


def test_workflows_left_running_at_the_end_are_a_behavioral_difference() -> None:
    """api-idempotency-key as it was before it followed its workflows (its traces kept in
    fixtures/netflix-line/running-at-end): its four workflows stop after their INLINE task
    on 3.8.3 with the lock, and only the capture at the end lists them running, where
    3.15.0 lists none. With no snapshot nothing shows why: four open differences that
    gate; the steps' answers name the same ids as 3.15.0's (the capture does not number
    them)."""
    folder = NETFLIX_LINE / "running-at-end"
    result = assess_run(
        load_trace_set(folder / "netflix-3.15.0"),
        load_trace_set(folder / "netflix-3.8.3"),
        library.settings(),
    )
    (scenario,) = result.scenarios
    kept = [f for f in scenario.findings if f.disposition != "noise"]
    running = [
        f for f in kept if f.difference.path.startswith('["capture GET /api/workflow/running/')
    ]
    assert [f.difference.candidate for f in running] == ["<id1>", "<id2>", "<id3>", "<id4>"]
    assert {(f.disposition, f.severity) for f in running} == {("open", "behavioral")}
    assert not [f for f in kept if f.difference.path.startswith('["step ')]
    assert scenario.verdict == "incompatible"


def test_a_workflow_a_call_started_shows_the_stall_that_stopped_it() -> None:
    """api-idempotency-key follows the workflow each start call started (`call` with
    `as`): on 3.8.3 with the lock the first one stops after its INLINE task, RUNNING with
    nothing to run, and its step never settles. The stall explains its status; what the
    run never reached (the other three starts, the capture) follows from it."""
    (scenario,) = [s for s in _result().scenarios if s.name == "api-idempotency-key"]
    kept = [f for f in scenario.findings if f.disposition != "noise"]
    (status,) = [f for f in kept if f.difference.path == "wf1.status"]
    assert (status.difference.baseline, status.difference.candidate) == ("COMPLETED", "RUNNING")
    assert (status.disposition, (status.change or {}).get("id")) == ("catalogued", STALL)
    lost = {f.difference.path for f in kept if f.consequence_of == status.fingerprint}
    assert {"wf2", "wf3", "wf4", '["capture GET /api/workflow/running/{name} #1"]'} <= lost
    assert not [f for f in kept if f.disposition == "open"]
    assert scenario.verdict == "action_required"


def test_a_task_the_stall_never_scheduled_wrote_nothing_into_the_stored_definition() -> None:
    """oss-e2e.this_will_fail stops after its SET_VARIABLE: its HTTP task is never
    scheduled, so its mapper never adds asyncComplete to the workflow's stored definition,
    as 3.15.0's does: an effect of the stall, not a difference of its own."""
    kept = _kept(_result(), "oss-e2e.this_will_fail")
    (added,) = [f for f in kept if f.difference.path.endswith(".inputParameters.asyncComplete")]
    assert (added.difference.baseline, added.difference.missing) == (False, "candidate")
    assert added.disposition == "consequence" and (added.change or {}).get("id") == STALL
    assert not [f for f in kept if f.disposition == "open"]


def test_a_task_the_held_back_end_would_have_canceled_waits_then_runs() -> None:
    """explore.join-optional-failure-early: the JOIN completes (COMPLETED_WITH_ERRORS, left
    unmarked), but the stall keeps the TERMINATE after it from being scheduled, so the
    other branch's task, which the TERMINATE cancels on 3.15.0, is still SCHEDULED at the
    next step, and runs once its worker polls: effects of the stall."""
    kept = _kept(_result(), "explore.join-optional-failure-early")
    statuses = {f.difference.candidate: f for f in kept if f.difference.path == "wf1.gate#0.status"}
    gate = statuses["SCHEDULED"]
    assert gate.difference.baseline == "CANCELED"
    assert (gate.change or {}).get("id") == STALL
    assert gate.disposition in ("catalogued", "consequence")
    # Its worker polled it at the last step and it ran, before the sweeper's decision ran
    # the TERMINATE: an effect too, and so is what the TERMINATE then read of it; its poll
    # count, start time and worker calls follow from its status.
    ran = statuses["COMPLETED"]
    assert (ran.change or {}).get("id") == STALL
    read = {
        f.difference.path: f
        for f in kept
        if f.difference.path.startswith("wf1.done#0.") or "wf1/gate#0" in f.difference.path
    }
    assert {(f.change or {}).get("id") for f in read.values()} == {STALL}
    assert read["wf1.done#0.outputData.gate"].difference.candidate == "COMPLETED"
    for path in ("wf1.gate#0.pollCount", "wf1.gate#0.startTime"):
        (made,) = [f for f in kept if f.difference.path == path]
        assert (made.disposition, (made.change or {}).get("id")) == ("consequence", STALL)
    assert not [f for f in kept if f.disposition == "open" and f.gates]
    (join,) = [f for f in kept if f.difference.path == "wf1.join#0.executed"]
    assert (join.disposition, (join.change or {}).get("id")) == ("catalogued", STALL)
    (status,) = [f for f in kept if f.difference.path == "wf1.status"]
    assert (status.change or {}).get("id") == STALL


def test_a_run_the_stall_stopped_early_loses_what_follows_from_it() -> None:
    """In one of explore.join-optional-failure-early's three runs the stall came at the
    FORK (COMPLETED, unmarked, no JOIN scheduled) and the wait for the optional task's
    COMPLETED_WITH_ERRORS gave up at step 1. The workflow's status as that run stopped is
    the stall's in all three runs; the stop, seen in that run only, follows from it."""
    (scenario,) = [
        s for s in _result().scenarios if s.name == "explore.join-optional-failure-early"
    ]
    kept = [f for f in scenario.findings if f.disposition != "noise"]
    outcome = [f for f in kept if f.difference.path == "scenario"]
    assert {f.shown_by for f in outcome} == {(3,)}
    assert {(f.disposition, (f.change or {}).get("id")) for f in outcome} == {
        ("consequence", STALL)
    }
    (status,) = [f for f in kept if f.difference.path == "wf1.status"]
    assert status.shown_by == (1, 2, 3)
    assert not [f for f in kept if f.gates]
    assert scenario.verdict == "action_required"
