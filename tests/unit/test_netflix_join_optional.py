"""A JOIN over an optional branch that fails, along the Netflix line: it waits for every
branch before 3.8.2 (Netflix/conductor#2974), then completes with errors at once; from 3.13.8
the failed optional task is decided at once too (Netflix/conductor#3655). Traces of
explore.join-optional-failure-early recorded on each version (fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.classify import assess_run
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, NETFLIX_LINE

SCENARIO = "explore.join-optional-failure-early"
EARLY = "join-completes-at-optional-failure"
DECIDED = "fork-branch-failure-decided-at-once"
STALL = "lock-not-reentrant-stalls-after-system-task"
JOIN = "wf1.join#0.status"


def _kept(baseline: Path, candidate: Path) -> list[Any]:
    result = assess_run(
        load_trace_set(baseline).restrict({SCENARIO}),
        load_trace_set(candidate).restrict({SCENARIO}),
        library.settings(),
    )
    (found,) = [s for s in result.scenarios if s.name == SCENARIO]
    assert not [n for n in result.notices if "catalog defect" in n]
    return [f for f in found.findings if f.disposition != "noise"]


def _join(kept: list[Any]) -> list[tuple[Any, Any, str | None, str]]:
    return [
        (f.difference.baseline, f.difference.candidate, (f.change or {}).get("id"), f.disposition)
        for f in kept
        if f.difference.path == JOIN
    ]


@pytest.mark.parametrize("older_first", [True, False])
def test_from_3_8_2_a_join_completes_as_soon_as_an_optional_task_it_joins_on_has_failed(
    older_first: bool,
) -> None:
    """3.8.1 (lock off): the JOIN waits for the other branch, then COMPLETED, and the
    TERMINATE after it finds the branch COMPLETED; 3.8.3: the JOIN completes with errors while
    the branch is still SCHEDULED, and the TERMINATE cancels it."""
    older, newer = (NETFLIX_LINE / "lock-off" / f"netflix-{v}" for v in ("3.8.1", "3.8.3"))
    baseline, candidate = (older, newer) if older_first else (newer, older)
    kept = _kept(baseline, candidate)
    assert [f.difference.path for f in kept if f.disposition == "open"] == []
    waited, ended = ("IN_PROGRESS", "COMPLETED") if older_first else ("COMPLETED_WITH_ERRORS",) * 2
    early = ("COMPLETED_WITH_ERRORS",) * 2 if older_first else ("IN_PROGRESS", "COMPLETED")
    assert _join(kept) == [
        (waited, early[0], EARLY, "catalogued"),
        (ended, early[1], EARLY, "consequence"),
    ]
    reasons = [f for f in kept if f.difference.path == "wf1.join#0.reasonForIncompletion"]
    assert [(f.change or {}).get("id") for f in reasons] == [EARLY]
    assert {(f.change or {}).get("id") for f in kept if f.change} == {EARLY}


def test_on_3_5_2_the_waiting_join_is_not_taken_for_a_stall_nor_for_an_undecided_task() -> None:
    """3.5.2 with the lock decides the failed optional task at once (as 3.13.8 does), so the
    JOIN that waits is #2974's, not #3655's; and a JOIN waiting on a branch is not one that
    the lock held (its workflow's final stall, after the TERMINATE, is)."""
    kept = _kept(FIXTURES / "baselines" / "netflix-3.15.0", NETFLIX_LINE / "lock/netflix-3.5.2")
    assert [f.difference.path for f in kept if f.disposition == "open"] == []
    ((_, waiting, change, disposition), *_) = _join(kept)
    assert (waiting, change, disposition) == ("IN_PROGRESS", EARLY, "catalogued")
    (executed,) = [f for f in kept if f.difference.path == "wf1.join#0.executed"]
    assert (executed.difference.baseline, executed.difference.candidate) == (True, False)
    assert (executed.change or {}).get("id") == EARLY
    assert DECIDED not in {(f.change or {}).get("id") for f in kept}


def test_before_3_13_8_an_undecided_optional_task_stays_fork_branch_failure_decided_at_once() -> (
    None
):
    """3.13.7 (lock off) leaves the optional task FAILED_WITH_TERMINAL_ERROR, undecided: the
    JOIN waits for that, not for the other branch; both versions have #2974."""
    kept = _kept(
        FIXTURES / "baselines" / "netflix-3.15.0-lock-off",
        NETFLIX_LINE / "lock-off" / "netflix-3.13.7",
    )
    assert _join(kept) == [("COMPLETED_WITH_ERRORS", "IN_PROGRESS", DECIDED, "catalogued")]
    assert EARLY not in {(f.change or {}).get("id") for f in kept}
    assert STALL not in {(f.change or {}).get("id") for f in kept}
