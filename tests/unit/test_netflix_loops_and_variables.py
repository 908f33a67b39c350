"""Changes of the Netflix line that loops and a workflow's variables show: SET_VARIABLE's
variables lost when a WAIT follows it (3.10.5 to 3.11.x), a DO_WHILE's condition that reads
its inputs again at each check (3.12.0), both recorded with the lock off, a DO_WHILE
that waits for the tasks inside its SWITCH (3.13.3), and a loop's tasks that read the
iteration they run in (3.8.2)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import pytest

from harness.classify import assess_run, load_catalog
from harness.classify.attribute import Ledger
from harness.classify.predicates import Scene
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import NETFLIX_LINE

CHANGE = "set-variable-not-saved"
DO_WHILE = "do-while-input-evaluated-each-iteration"
LOCK_OFF = NETFLIX_LINE / "lock-off"
# what the scenario reads back from the variables, on the side that kept them
READ_BACK = {
    "wf1.variables.var1": "catalogued",
    "wf1.variables.var2": "catalogued",
    "wf1.output.var1": "consequence",
    "wf1.output.var2": "consequence",
    "wf1.output.seen_by_task.var1": "consequence",
    "wf1.output.seen_by_task.var2_n": "consequence",
}


def _kept(older: Path, newer: Path, scenario: str) -> list[Any]:
    """The findings of one scenario between two recorded versions, noise left out."""
    result = assess_run(load_trace_set(older), load_trace_set(newer), library.settings())
    (found,) = [s for s in result.scenarios if s.name == scenario]
    return [f for f in found.findings if f.disposition != "noise"]


def _roots(findings: list[Any], change: str) -> dict[str, tuple[Any, Any]]:
    """The differences ``change`` explains as causes, each with its two values."""
    return {
        f.difference.path: (f.difference.baseline, f.difference.candidate)
        for f in findings
        if f.disposition == "catalogued" and (f.change or {}).get("id") == change
    }


@pytest.mark.parametrize(
    ("older", "newer", "kept"),
    [
        ("netflix-3.10.1", "netflix-3.10.5", "baseline"),
        ("netflix-3.11.3", "netflix-3.12.0", "candidate"),
    ],
)
def test_the_variables_a_wait_follows_are_lost_and_what_reads_them_is_null(
    older: str, newer: str, kept: str
) -> None:
    """From 3.10.1 to 3.10.5 the variables go (and the inputs and outputs read from them
    turn null); from 3.11.3 to 3.12.0 they come back. Every difference of the scenario is
    this change's or one the catalog already knows; none is left open."""
    result = assess_run(
        load_trace_set(LOCK_OFF / older), load_trace_set(LOCK_OFF / newer), library.settings()
    )
    (scenario,) = [s for s in result.scenarios if s.name == "set-variable"]
    findings = [f for f in scenario.findings if f.disposition != "noise"]
    ours = {
        f.difference.path: f.disposition
        for f in findings
        if f.change and f.change["id"] == CHANGE and f.difference.level in ("data", "status")
    }
    assert {p: d for p, d in ours.items() if p in READ_BACK} == READ_BACK
    roots = [f for f in findings if f.change and f.change["id"] == CHANGE]
    assert {f.difference.missing for f in roots if f.disposition == "catalogued"} == {
        "candidate" if kept == "baseline" else "baseline"
    }
    assert [f.difference.path for f in findings if f.disposition == "open"] == []
    assert scenario.verdict == "action_required"


def test_a_do_while_that_reads_a_variable_its_loop_sets_stops_when_it_says_so() -> None:
    """3.11.3's loop reads the variable as it was when the loop was scheduled and runs to
    its bound of 5; 3.12.0's reads it at each check and stops after 3. The iteration count
    is the change's; the two extra iterations, their outputs and what the workflow made
    from them follow from it."""
    findings = _kept(
        LOCK_OFF / "netflix-3.11.3", LOCK_OFF / "netflix-3.12.0", "variables-in-do-while"
    )
    assert _roots(findings, DO_WHILE) == {
        "wf1.countdown#0.iteration": (5, 3),
        "wf1.countdown#0.outputData.iteration": (5, 3),
    }
    follows = {f.difference.path for f in findings if f.disposition == "consequence"}
    assert {"wf1.minus_one__4#0", "wf1.store__5#0", "wf1.variables.remaining"} <= follows
    assert {(f.change or {}).get("id") for f in findings if f.disposition == "consequence"} == {
        DO_WHILE
    }
    assert [f.difference.path for f in findings if f.disposition == "open"] == []


def test_a_do_while_waits_for_the_wait_inside_its_switch() -> None:
    """3.13.2's loop goes on to its second iteration, and ends, while the WAIT its SWITCH
    chose still holds the first; 3.13.3's waits, and its output holds what the WAIT and the
    worker gave. Every difference is that change's."""
    findings = _kept(
        NETFLIX_LINE / "netflix-3.13.2", NETFLIX_LINE / "netflix-3.13.3", "do-while-switch-wait"
    )
    assert _roots(findings, "do-while-waits-for-nested-tasks") == {
        "wf1.loop#0.iteration": (2, 1),
        "wf1.loop#0.status": ("COMPLETED", "IN_PROGRESS"),
    }
    follows = {f.difference.path for f in findings if f.disposition == "consequence"}
    assert {"wf1.loop#0.outputData.1.gate.opened", "wf1.output.loop.1.gate.opened"} <= follows
    assert {(f.change or {}).get("id") for f in findings} == {"do-while-waits-for-nested-tasks"}


def test_an_effect_follows_a_cause_whose_values_vary_between_runs() -> None:
    """A loop that runs away runs another number of iterations in each candidate run: its
    iteration count is an intermittent finding of its change, and the iterations' tasks
    still follow from it. A cause no change explains anchors nothing."""
    older = load_trace_set(NETFLIX_LINE / "netflix-3.13.2")
    newer = load_trace_set(NETFLIX_LINE / "netflix-3.13.3")
    result = assess_run(older, newer, library.settings())
    (scenario,) = [s for s in result.scenarios if s.name == "do-while-switch-wait"]
    findings = list(scenario.findings)
    cause = next(i for i, f in enumerate(findings) if f.difference.path == "wf1.loop#0.iteration")
    effect = next(i for i, f in enumerate(findings) if f.difference.path == "wf1.work__2#0")
    ledger = Ledger.of(load_catalog(), None, datetime.date.today(), older.target, newer.target)
    scene = Scene(newer.runs["do-while-switch-wait"][0][1].get("definitions"))
    findings[cause] = dataclasses.replace(findings[cause], disposition="intermittent")
    assert ledger.effect(findings, effect, scene) == cause
    unexplained = [
        dataclasses.replace(f, disposition="open", change=None)
        if f.disposition in ("catalogued", "intermittent")
        else f
        for f in findings
    ]
    assert ledger.effect(unexplained, effect, scene) is None


def test_no_difference_of_netflix_3_8_3_is_explained_by_two_changes() -> None:
    """netflix 3.8.3 with the lock off (the whole library's gate) against 3.15.0's
    lock-off baselines, across every change between them: an INLINE failure's workflow
    reason, which also names the failed task from 3.13.7, is that change's, not the INLINE
    one's; a DO_WHILE held in its first iteration by a timed WAIT that no sweep ended is that
    WAIT's change, neither the one that reads the loop's inputs at each check nor the one
    that waits for a SWITCH's tasks (the loop did not go on ahead)."""
    candidate = load_trace_set(LOCK_OFF / "netflix-3.8.3")
    baseline = load_trace_set(LOCK_OFF.parents[1] / "baselines" / "netflix-3.15.0-lock-off")
    result = assess_run(baseline.restrict(set(candidate.runs)), candidate, library.settings())
    assert [n for n in result.notices if "catalog defect" in n] == []
    by_path = {
        (s.name, f.difference.path): (f.change or {}).get("id")
        for s in result.scenarios
        for f in s.findings
    }
    assert by_path[("inline-script-engines", "wf4.reasonForIncompletion")] == (
        "failed-task-reason-in-workflow-reason"
    )
    loop = ("oss-e2e.do-while-set-variable-fix", "wf1.do_while_ref#0.iteration")
    assert by_path[loop] == "timed-wait-ends-without-sweep"


ITERATION = "do-while-iteration-set-before-its-tasks"


@pytest.mark.parametrize("older_first", [True, False])
def test_from_3_8_2_a_loop_s_tasks_read_the_iteration_they_run_in(older_first: bool) -> None:
    """3.8.1 (lock off): a task of the loop reads ${loop.output.iteration} one behind (null
    in the first iteration), so the SWITCH that chooses by it takes the other case; 3.8.3
    reads the iteration it runs in. Every difference either way is the change's."""
    older, newer = LOCK_OFF / "netflix-3.8.1", LOCK_OFF / "netflix-3.8.3"
    baseline, candidate = (older, newer) if older_first else (newer, older)
    for scenario in ("do-while", "do-while-keep-last-n", "do-while-switch-wait"):
        kept = [
            f
            for f in _kept(baseline, candidate, scenario)
            if (f.change or {}).get("id") not in ("workflow-task-empty-collections-omitted",)
        ]
        assert [f.difference.path for f in kept if f.disposition == "open"] == [], scenario
        assert {(f.change or {}).get("id") for f in kept if f.change} == {ITERATION}, scenario
    read = {
        f.difference.path: (f.difference.baseline, f.difference.candidate)
        for f in _kept(baseline, candidate, "do-while")
        if f.disposition == "catalogued"
    }
    behind = {1: None, 2: 1, 3: 2}
    assert read == {
        f"wf1.body__{i}#0.inputData.iteration": ((behind[i], i) if older_first else (i, behind[i]))
        for i in (1, 2, 3)
    }
    (case,) = [
        f
        for f in _kept(baseline, candidate, "do-while-switch-wait")
        if f.difference.path == "wf1.pick__1#0.inputData.case"
    ]
    assert (case.difference.baseline, case.difference.candidate) == (
        ("work", "hold") if older_first else ("hold", "work")
    )
    assert case.disposition == "catalogued"
