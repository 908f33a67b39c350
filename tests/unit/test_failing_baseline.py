"""A baseline that fails a scenario now and then, on real runs.

fixtures/rerun-race.tar.xz: retry-restart-rerun on netflix:3.15.0 (two runs, the first of
which never got its rerun task to the worker within 15 s: 3.15.0 queues the task before it
writes it back as SCHEDULED, so a poll in between drops it) and on oss:3.21.14 (one run,
completed), recorded under the docker runtime on 2026-12-05. fixtures/runs/oss-3.32.1 holds
a run of the same scenario that failed the same step the same way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.classify.assess import Context, assess_scenario
from harness.classify.model import ScenarioResult
from harness.pipeline import Plan, RunFolder
from harness.pipeline.assemble import Roles, recheck_baseline
from harness.scenarios import require_valid
from harness.traces import TraceSet, load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, RUNS, archived

NAME = "retry-restart-rerun"
ROOT = Path(__file__).resolve().parents[2]
STALL = "step 6 (rerun (line 31)) did not settle within 15 s: second waits for its worker"


@pytest.fixture(scope="module")
def recorded() -> Path:
    return archived(FIXTURES / "rerun-race.tar.xz")


@pytest.fixture(scope="module")
def netflix(recorded: Path) -> TraceSet:
    return load_trace_set(recorded / "netflix-3.15.0")


def _assess(
    baseline: TraceSet, candidate: TraceSet, runs: list[int] | None = None
) -> ScenarioResult:
    chosen = baseline.runs[NAME] if runs is None else [baseline.runs[NAME][i] for i in runs]
    context = Context(library.settings(), baseline.target, candidate.target)
    return assess_scenario(NAME, chosen, candidate.runs[NAME], context)


def test_the_recorded_baseline_failed_once_and_completed_once(netflix: TraceSet) -> None:
    outcomes = sorted(
        (t["outcome"]["status"], t["outcome"].get("reason")) for _, t in netflix.runs[NAME]
    )
    assert outcomes == [("completed", None), ("failed_expectation", STALL)]


def test_a_baseline_that_fails_sometimes_is_compared_on_the_runs_that_completed(
    netflix: TraceSet, recorded: Path
) -> None:
    result = _assess(netflix, load_trace_set(recorded / "oss-3.21.14"))
    assert result.verdict == "compatible", result.reason
    assert "the baseline itself failed in 1 of 2 runs (run 1: " + STALL in result.reason
    assert not result.noise_checked  # one baseline run completed


def test_a_baseline_that_always_fails_leaves_the_scenario_inconclusive(
    netflix: TraceSet, recorded: Path
) -> None:
    failing = [
        i for i, (_, t) in enumerate(netflix.runs[NAME]) if t["outcome"]["status"] != "completed"
    ]
    result = _assess(netflix, load_trace_set(recorded / "oss-3.21.14"), failing)
    assert result.verdict == "inconclusive"
    assert result.reason == (
        f"the scenario's own expectations fail on the baseline (run 1): {STALL}"
    )


def test_a_candidate_failure_the_baseline_also_showed_does_not_gate(netflix: TraceSet) -> None:
    oss = load_trace_set(RUNS / "oss-3.32.1")
    assert STALL in {t["outcome"].get("reason") for _, t in oss.runs[NAME]}
    result = _assess(netflix, oss)
    failures = [f for f in result.findings if f.rule == "intermittent-failure"]
    assert failures and not any(f.gates for f in failures)
    assert all("as the baseline did in run 1" in f.note for f in failures)
    assert all(f.severity == "breaking" and f.disposition == "intermittent" for f in failures)


def test_the_same_candidate_failure_gates_when_the_baseline_never_failed() -> None:
    netflix, oss = load_trace_set(RUNS / "netflix-3.15.0-a"), load_trace_set(RUNS / "oss-3.32.1")
    result = _assess(netflix, oss)
    failures = [f for f in result.findings if f.rule == "intermittent-failure"]
    assert failures and all(f.gates for f in failures)
    assert result.verdict == "incompatible"


def test_a_failed_baseline_run_is_run_again_until_there_are_three(
    recorded: Path, tmp_path: Path
) -> None:
    scenarios = require_valid([ROOT / "scenarios" / "operations" / "retry_restart_rerun.yaml",
                               ROOT / "scenarios" / "tasks" / "inline.yaml"])  # fmt: skip
    plan = Plan(
        kind="compare",
        paths=tuple(str(s.file) for s in scenarios),
        baseline="netflix:3.15.0",
        candidates=("oss:3.21.14",),
        baseline_repeats=2,
    )
    folder = RunFolder(tmp_path)
    into = folder.traces(plan.baseline)
    shutil.copytree(recorded / "netflix-3.15.0", into)
    for suffix in (".trace.json", ".run2.trace.json"):  # inline completed on both runs
        shutil.copy(RUNS / "netflix-3.15.0-a" / f"inline{suffix}", into)
    roles = Roles.of(plan, scenarios, folder, scenarios)
    again = recheck_baseline(plan, roles)
    assert [(s.name, r) for s, r in again] == [(NAME, 3)]
