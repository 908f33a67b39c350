"""The workflow execution lock of the Netflix line: before 3.13.5 it was not reentrant, so a
decision that fails its workflow waits a minute for its own lock. Traces recorded from
netflix 3.13.3 (the lock on, and off) and 3.13.5 (the lock on), compared with netflix
3.15.0's baselines."""

from __future__ import annotations

from typing import Any

from harness.classify import assess_run, load_catalog
from harness.classify.model import RunResult
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, NETFLIX_LINE

LOCK = "lock-not-reentrant-holds-failing-calls"
HELD = ("failure-workflow-missing", "human", "task-timeout-policies")
BASELINE = FIXTURES / "baselines" / "netflix-3.15.0"


def _against_baseline(candidate: str) -> RunResult:
    return assess_run(
        load_trace_set(BASELINE).restrict(set(HELD)),
        load_trace_set(NETFLIX_LINE / "lock" / candidate),
        library.settings(),
    )


def _kept(result: RunResult, scenario: str) -> list[Any]:
    (found,) = [s for s in result.scenarios if s.name == scenario]
    return [f for f in found.findings if f.disposition != "noise"]


def test_a_call_that_fails_a_workflow_is_held_by_the_lock_before_3_13_5() -> None:
    """On 3.13.3 with the lock on, the worker's FAILED update and the API's calls that fail
    a workflow get no answer: the change explains each run's end, and what the run lost by
    ending there follows from it."""
    result = _against_baseline("netflix-3.13.3")
    assert [c.change["id"] for c in result.changes if c.change["severity"] == "breaking"] == [LOCK]
    for scenario in HELD:
        kept = _kept(result, scenario)
        assert {f.disposition for f in kept} <= {"catalogued", "consequence"}, scenario
        held = [f for f in kept if (f.change or {}).get("id") == LOCK]
        assert held, scenario
        roots = [f for f in held if f.disposition == "catalogued"]
        assert len(roots) <= 3, [f.difference.path for f in roots]
    # the settle gave up: the workflow RUNNING with its failed task, the update unanswered
    causes = {
        f.difference.path: f.difference
        for f in _kept(result, "failure-workflow-missing")
        if f.disposition == "catalogued" and f.change and f.change["id"] == LOCK
    }
    status = causes["wf1.status"]
    assert (status.baseline, status.candidate) == ("FAILED", "RUNNING")
    assert any(p.startswith('["worker POST /api/tasks ') for p in causes)
    # a step's call ran into the client's read timeout: its run's end is the root
    for scenario, step in (("human", "fail_task"), ("task-timeout-policies", "decide")):
        kept = _kept(result, scenario)
        (root,) = [f for f in kept if f.disposition == "catalogued" and f.change["id"] == LOCK]
        assert root.difference.path == "scenario" and root.difference.candidate == {
            "outcome": "error"
        }
        lost = [f for f in kept if f.consequence_of == root.fingerprint]
        assert {f.difference.missing for f in lost} == {"candidate"}
        assert any(
            f.difference.path.startswith(f'["step {"POST" if step == "fail_task" else "PUT"}')
            for f in lost
        )


def test_with_the_lock_off_or_from_3_13_5_the_change_is_not_reached() -> None:
    for candidate in ("netflix-3.13.3-lock-off", "netflix-3.13.5"):
        result = _against_baseline(candidate)
        assert LOCK not in {c.change["id"] for c in result.changes}, candidate
        for scenario in HELD:
            assert not [f for f in _kept(result, scenario) if f.gates], (candidate, scenario)


def test_the_lock_is_read_from_the_settings_a_trace_records() -> None:
    change = load_catalog().by_id()[LOCK]
    recorded = load_trace_set(NETFLIX_LINE / "lock" / "netflix-3.13.3").target
    off = load_trace_set(NETFLIX_LINE / "lock" / "netflix-3.13.3-lock-off").target
    assert recorded["settings"]["conductor.app.workflow-execution-lock-enabled"] == "true"
    assert change.present(recorded) is True
    assert change.present(off) is False
    assert change.present({**recorded, "version": "3.13.5"}) is False
    # a trace that records no settings (a remote server's) neither has nor lacks it
    unknown = {k: v for k, v in recorded.items() if k != "settings"}
    assert change.present(unknown) is None
    assert change.reach({"version": "3.15.0"}, unknown) is None


STALL = "lock-not-reentrant-stalls-after-system-task"
STALLED = ("inline", "set-variable", "terminate-task", "fork-join")


def test_a_system_task_its_decision_ran_stops_a_workflow_before_3_10_5() -> None:
    """On 3.10.1 with the lock on, the decision after a synchronous system task cannot take
    the lock its own decision holds: the workflow stays RUNNING with nothing to run, the
    system task never marked executed, until a sweep."""
    result = assess_run(
        load_trace_set(BASELINE).restrict(set(STALLED)),
        load_trace_set(NETFLIX_LINE / "lock" / "netflix-3.10.1"),
        library.settings(),
    )
    assert STALL in {c.change["id"] for c in result.changes}
    for scenario in STALLED:
        kept = _kept(result, scenario)
        assert not [f.difference.path for f in kept if f.disposition == "open"], scenario
        assert [f for f in kept if (f.change or {}).get("id") == STALL], scenario
    (status,) = [f for f in _kept(result, "inline") if f.difference.path == "wf1.status"]
    assert (status.difference.baseline, status.difference.candidate) == ("COMPLETED", "RUNNING")
    assert (status.change or {}).get("id") == STALL


def test_from_3_10_5_or_with_the_lock_off_a_decision_goes_on_after_its_system_tasks() -> None:
    for candidate in ("netflix-3.10.5", "netflix-3.10.1-lock-off"):
        result = assess_run(
            load_trace_set(BASELINE).restrict(set(STALLED)),
            load_trace_set(NETFLIX_LINE / "lock" / candidate),
            library.settings(),
        )
        assert STALL not in {c.change["id"] for c in result.changes}, candidate
        for scenario in ("inline", "set-variable", "terminate-task"):
            assert not [f for f in _kept(result, scenario) if f.gates], (candidate, scenario)


def test_a_worker_s_calls_on_a_workflow_the_stopped_run_never_named_follow_from_the_stop() -> None:
    """upgrade-task-timeouts on netflix 3.12.0 with the lock (the whole library's gate):
    the forced decision that times the second workflow out got no answer, and the run
    ended before it named the first workflow's retried task, which its worker then polled
    and completed: those two calls keep a plain id (``id1``) where the baseline's name the
    workflow and task, and follow from the stop like the calls they stand for."""
    name = "upgrade-task-timeouts"
    result = assess_run(
        load_trace_set(BASELINE).restrict({name}),
        load_trace_set(NETFLIX_LINE / "lock" / "netflix-3.12.0"),
        library.settings(),
    )
    kept = _kept(result, name)
    unnamed = [f for f in kept if " id1 #" in f.difference.path]
    assert {f.difference.path.split(" /")[0] for f in unnamed} == {'["worker GET', '["worker POST'}
    assert {(f.disposition, (f.change or {}).get("id")) for f in unnamed} == {("consequence", LOCK)}
    assert {f.disposition for f in kept} <= {"catalogued", "consequence"}
