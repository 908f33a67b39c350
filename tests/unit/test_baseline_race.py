"""A baseline whose runs differ the way a catalogued change explains, on real runs.

fixtures/join-race.tar.xz: optional-fork-branch on netflix:3.15.0 (two runs, recorded
2026-12-07 as the baseline of the main comparison; and six more, netflix-3.15.0-alone,
played alone on an idle machine on 2026-12-08), oss:3.21.14 and oss:3.32.1 (one run
each). In run 2 of netflix:3.15.0, the JOIN was evaluated while opt_branch was scheduled
and not yet ended: it completed at opt_child, which had already failed, and the workflow
ended before opt_branch's own failure was decided (FAILED_WITH_TERMINAL_ERROR, executed
false). In run 1, as in both candidates, both optional tasks ended COMPLETED_WITH_ERRORS.
conductor-oss's JOIN waits for every branch (join-waits-after-optional-failure). Of the six
runs alone, run 5 shows the same; runs 1, 2 and 4 the race's other form: the JOIN completed
early, naming only opt_child, but opt_branch's failure was still decided (the workflow had
not ended), so only the JOIN's reason and output show it; runs 3 and 6 did not race.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.classify.assess import Context, assess_scenario
from harness.classify.model import ScenarioResult
from harness.traces import TraceSet, load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, archived

NAME = "optional-fork-branch"
CHANGE = "join-waits-after-optional-failure"
RACE = "wf1.opt_branch#0.status"


@pytest.fixture(scope="module")
def recorded() -> Path:
    return archived(FIXTURES / "join-race.tar.xz")


@pytest.fixture(scope="module")
def netflix(recorded: Path) -> TraceSet:
    return load_trace_set(recorded / "netflix-3.15.0")


def _assess(
    baseline: TraceSet, candidate: TraceSet, runs: list[int], against: TraceSet | None = None
) -> ScenarioResult:
    chosen = [baseline.runs[NAME][i] for i in runs]
    target = (against or candidate).target
    context = Context(library.settings(), baseline.target, target)
    return assess_scenario(NAME, chosen, candidate.runs[NAME], context)


def _status(baseline: TraceSet, repeat: int) -> tuple[str, bool]:
    (trace,) = [t for _, t in baseline.runs[NAME] if t.get("repeat", 1) == repeat]
    (workflow, *_) = trace["steps"][-1]["snapshots"]
    (task,) = [t for t in workflow["tasks"] if t["referenceTaskName"] == "opt_branch"]
    return task["status"], task["executed"]


def test_the_recorded_baseline_raced_in_its_second_run(netflix: TraceSet) -> None:
    assert _status(netflix, 1) == ("COMPLETED_WITH_ERRORS", True)
    assert _status(netflix, 2) == ("FAILED_WITH_TERMINAL_ERROR", False)


@pytest.mark.parametrize("candidate", ["oss-3.21.14", "oss-3.32.1"])
@pytest.mark.parametrize("runs", [[0, 1], [1, 0]])
def test_a_race_a_change_between_the_targets_explains_is_reached_not_inconclusive(
    netflix: TraceSet, recorded: Path, candidate: str, runs: list[int]
) -> None:
    result = _assess(netflix, load_trace_set(recorded / candidate), runs)
    assert result.verdict == "action_required", result.reason
    assert result.reason.startswith(f"1 catalogued change to handle: {CHANGE}; ")
    assert result.reason.split("; ", 1)[1] == (
        f"the baseline's runs differ as catalogued {CHANGE} explains: its run 2 shows the "
        "behaviour before it, and the candidate is compared with that run"
    )
    (raced,) = [n for n in result.noise if n.difference.path == RACE]
    assert raced.change is not None and raced.change["id"] == CHANGE
    assert raced.change["direction"] == "forward"
    (found,) = [f for f in result.findings if f.difference.path == RACE]
    assert (found.disposition, found.requires_action) == ("catalogued", True)
    assert (found.difference.baseline, found.difference.candidate) == (
        "FAILED_WITH_TERMINAL_ERROR",
        "COMPLETED_WITH_ERRORS",
    )
    assert not [f for f in result.findings if f.disposition in ("open", "intermittent")]


def test_the_run_that_raced_alone_is_explained_by_the_same_change(
    netflix: TraceSet, recorded: Path
) -> None:
    result = _assess(netflix, load_trace_set(recorded / "oss-3.32.1"), [1])
    assert result.verdict == "action_required", result.reason
    assert not result.noise_checked
    assert not [f for f in result.findings if f.disposition == "open"]
    explained = {
        f.difference.path: f.disposition
        for f in result.findings
        if (f.change or {}).get("id") == CHANGE
    }
    assert explained["wf1.join#0.reasonForIncompletion"] == "catalogued"
    assert explained["wf1.output.joined.opt_branch"] == "consequence"


def test_the_same_race_between_runs_of_one_version_leaves_the_scenario_inconclusive(
    netflix: TraceSet,
) -> None:
    """No change lies between a version and itself, so nothing explains its runs' race."""
    result = _assess(netflix, netflix, [0, 1], against=netflix)
    assert result.verdict == "inconclusive"
    assert result.reason.startswith(
        "the baseline itself is not deterministic: its runs differ at the tasks level"
    )
    assert all(n.change is None for n in result.noise)


def test_the_runs_that_agree_reach_no_change_through_the_race(
    netflix: TraceSet, recorded: Path
) -> None:
    """With only the run that did not race, the JOIN's wait is not reached: the race is
    seen only when a baseline run shows it."""
    result = _assess(netflix, load_trace_set(recorded / "oss-3.32.1"), [0])
    assert CHANGE not in {(f.change or {}).get("id") for f in result.findings}
    assert result.verdict == "compatible", result.reason


@pytest.fixture(scope="module")
def alone(recorded: Path) -> TraceSet:
    return load_trace_set(recorded / "netflix-3.15.0-alone")


def _join(baseline: TraceSet, repeat: int) -> list[str]:
    (trace,) = [t for _, t in baseline.runs[NAME] if t.get("repeat", 1) == repeat]
    (workflow, *_) = trace["steps"][-1]["snapshots"]
    (task,) = [t for t in workflow["tasks"] if t["referenceTaskName"] == "join"]
    return sorted(task["outputData"])


def test_the_runs_alone_show_both_forms_of_the_race(alone: TraceSet) -> None:
    joined = {r: _join(alone, r) for r in range(1, 7)}
    early = ["opt_child"]
    assert [r for r, j in joined.items() if j == early] == [1, 2, 4, 5]
    assert [r for r in range(1, 7) if _status(alone, r)[0] == "FAILED_WITH_TERMINAL_ERROR"] == [5]


@pytest.mark.parametrize("runs", [[4, 2], [2, 4], [0, 4], [0, 1], [1, 3]])
def test_the_first_form_in_any_run_or_the_second_in_every_run_reaches_the_change(
    alone: TraceSet, recorded: Path, runs: list[int]
) -> None:
    """Runs (by index) 0, 1 and 3 raced the second form, 4 the first, 2 and 5 did not."""
    result = _assess(alone, load_trace_set(recorded / "oss-3.32.1"), runs)
    assert result.verdict == "action_required", result.reason
    assert result.reason.startswith(f"1 catalogued change to handle: {CHANGE}")
    assert not [f for f in result.findings if f.disposition in ("open", "intermittent")]


def test_the_second_form_beside_a_run_that_did_not_race_is_noise(
    alone: TraceSet, recorded: Path
) -> None:
    """The second form differs only in the JOIN's reason and output: finer than what a
    change may explain between runs of one version (docs/verdicts.md), so the JOIN's
    difference is the baseline's noise there, and the candidate's there too."""
    result = _assess(alone, load_trace_set(recorded / "oss-3.32.1"), [0, 2])
    assert result.verdict == "compatible", result.reason
    reason = "wf1.join#0.reasonForIncompletion"
    assert [n.change for n in result.noise if n.difference.path == reason] == [None]
    assert [f.disposition for f in result.findings if f.difference.path == reason] == ["noise"]


def test_two_runs_that_did_not_race_reach_nothing_through_it(
    alone: TraceSet, recorded: Path
) -> None:
    result = _assess(alone, load_trace_set(recorded / "oss-3.32.1"), [2, 5])
    assert result.verdict == "compatible", result.reason
    assert CHANGE not in {(f.change or {}).get("id") for f in result.findings}
