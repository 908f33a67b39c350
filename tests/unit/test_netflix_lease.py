"""`task-extend-lease`: before netflix 3.10.7 a worker's update with extendLease was an
ordinary IN_PROGRESS update, which put the task back in its queue: its worker polled it
again. Traces recorded from netflix 3.10.5 and 3.10.7 with the lock off
(fixtures/netflix-line/lease), against netflix 3.15.0's lock-off baselines."""

from __future__ import annotations

import pytest

from harness.classify import assess_run, load_catalog
from harness.classify.model import RunResult
from harness.classify.predicates import Scene, scene_document
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import FIXTURES, NETFLIX_LINE

LEASE = "task-extend-lease"
BASELINE = FIXTURES / "baselines" / "netflix-3.15.0-lock-off"
SCENARIOS = ("task-lease-extension", "upgrade-held-task")


def _assessed(version: str) -> RunResult:
    candidate = load_trace_set(NETFLIX_LINE / "lease" / f"netflix-{version}-lock-off")
    return assess_run(
        load_trace_set(BASELINE).restrict(set(SCENARIOS)), candidate, library.settings()
    )


@pytest.mark.parametrize("version", ["3.9.2", "3.10.5"])
def test_before_3_10_7_the_extended_task_is_polled_again(version: str) -> None:
    result = _assessed(version)
    assert LEASE in {c.change["id"] for c in result.changes}
    for scenario in result.scenarios:
        kept = [f for f in scenario.findings if f.disposition != "noise"]
        assert not [f.difference.path for f in kept if f.disposition == "open"], scenario.name
        ours = [f for f in kept if (f.change or {}).get("id") == LEASE]
        (cause,) = [f for f in ours if f.disposition == "catalogued"]
        assert cause.difference.path.startswith('["worker GET /api/tasks/poll/batch/{taskType} ')
        assert cause.difference.path.endswith(' #2"]') and cause.difference.missing == "baseline"
        (count,) = [f for f in ours if f.difference.path.endswith(".pollCount")]
        assert (count.difference.baseline, count.difference.candidate) == (1, 2)
        assert count.consequence_of == cause.fingerprint


def test_from_3_10_7_the_lease_is_extended_in_place() -> None:
    result = _assessed("3.10.7")
    assert LEASE not in {c.change["id"] for c in result.changes}
    for scenario in result.scenarios:
        assert not [f for f in scenario.findings if f.gates], scenario.name


def test_the_change_is_reached_only_by_a_scenario_that_sends_extend_lease() -> None:
    """`uses` reads the bodies of the scenario's own calls (`requests`)."""
    (condition,) = load_catalog().by_id()[LEASE].uses
    runs = load_trace_set(BASELINE).runs
    sent = scene_document(runs["task-lease-extension"][0][1])
    assert "workflows" in sent and sent["requests"]
    assert condition.holds(Scene(sent)) is True
    assert condition.holds(Scene(scene_document(runs["human"][0][1]))) is False
