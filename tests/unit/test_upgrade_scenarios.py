"""The shipped in-flight library for `conductor-compat upgrade` (scenarios/upgrade/): each
scenario holds one state that must survive an in-place upgrade, switches after a step it
names, and goes on after the switch; together they cover the states listed below."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenarios import Scenario, load_all
from harness.scenarios.model import DEFAULT_SETTLE_S

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "scenarios" / "upgrade"

# Each state an upgrade must carry over, and the tag of the scenarios that hold it.
STATES = {
    "a task polled and not yet updated": "held",
    "a task scheduled and not yet polled": "unpolled",
    "a retry waiting out its retry delay": "retry-delay",
    "a WAIT with a duration": "wait-duration",
    "a WAIT until a time": "wait-until",
    "a HUMAN task": "human",
    "a task timeout running out after the switch": "task-timeout",
    "a workflow timeout running out after the switch": "workflow-timeout",
    "a running sub-workflow": "sub-workflow",
    "a fork half done": "fork",
    "a DO_WHILE mid-iteration": "do-while",
    "a paused workflow": "pause",
    "a failed workflow retried": "workflow-retry",
    "a completed workflow rerun": "rerun",
    "a rate-limited task with several queued": "rate-limit",
    "a concurrency-limited task with several queued": "concurrency",
    "an event handler triggered after the switch": "events",
    "workflow versions and task definitions": "metadata",
    "a search for executions": "search",
    "a terminated workflow": "terminate",
    "a removed workflow": "remove",
}


@pytest.fixture(scope="module")
def library() -> list[Scenario]:
    loaded = load_all([LIBRARY])
    assert [p.render() for p in loaded.problems] == []
    assert loaded.files == len(loaded.scenarios)
    return loaded.scenarios


def _each(library: list[Scenario]) -> list[Scenario]:
    return sorted(library, key=lambda s: s.name)


def test_the_library_loads_and_is_large_enough(library: list[Scenario]) -> None:
    assert len(library) >= 20
    assert all(s.name.startswith("upgrade-") for s in library)


def test_every_scenario_is_tagged_upgrade(library: list[Scenario]) -> None:
    assert [s.name for s in library if "upgrade" not in s.tags] == []


def test_every_scenario_names_its_switch_step_and_goes_on_after_it(
    library: list[Scenario],
) -> None:
    for scenario in _each(library):
        assert len(scenario.switch_after) == 1, scenario.name
        named = scenario.document["upgrade"]["switch_after"]
        step = scenario.steps[scenario.switch_after[0]]
        assert isinstance(named, str) and step.name == named, scenario.name
        assert len(scenario.steps) > scenario.switch_after[0] + 1, (
            f"{scenario.name}: no step after the switch"
        )


def test_workers_that_start_late_start_after_the_switch(library: list[Scenario]) -> None:
    late = [
        (scenario, worker)
        for scenario in _each(library)
        for worker in scenario.workers.values()
        if worker.poll_from is not None
    ]
    assert late, "no scenario holds a task no worker polled before the switch"
    for scenario, worker in late:
        assert scenario.switch_after and worker.poll_from is not None
        assert worker.poll_from > scenario.switch_after[0], f"{scenario.name}: {worker.task}"


def test_timing_scenarios_are_tagged_wall_clock(library: list[Scenario]) -> None:
    for scenario in _each(library):
        sleeps = any(step.action == "sleep" for step in scenario.steps)
        long_waits = any(
            step.action == "wait" and step.args.get("timeout_s", 0) > DEFAULT_SETTLE_S
            for step in scenario.steps
        )
        if sleeps or long_waits:
            assert "wall-clock" in scenario.tags, scenario.name


@pytest.mark.parametrize(("state", "tag"), sorted(STATES.items()))
def test_the_library_covers_each_state(library: list[Scenario], state: str, tag: str) -> None:
    holding = [s.name for s in library if tag in s.tags]
    assert holding, f"no scenario holds {state} (tag '{tag}')"
