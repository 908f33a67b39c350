"""Several switch points: which steps of a scenario are its switch points, read from the
documents a real server recorded (the in-flight library played wholly on netflix:3.15.0,
fixtures/baselines/), which scenarios play each later round and where they switch, how
each round is named, and the option that chooses the first point or every one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.cli import config
from harness.cli.app import build_parser
from harness.cli.upgrade_cmd import _plan
from harness.pipeline.rounds import across_label
from harness.pipeline.upgrade import point_label
from harness.runner.across import later_rounds
from harness.runner.switch import at_point, switch_after, switch_points
from harness.scenarios import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "scenarios" / "upgrade"
RECORDED = ROOT / "fixtures" / "baselines" / "netflix-3.15.0"


def _scenario(name: str, *, default: bool = False) -> Scenario:
    """A library scenario; ``default``: as if it named no switch point."""
    scenario = load_scenario(LIBRARY / f"{name}.yaml")
    return replace(scenario, switch_after=()) if default else scenario


def _recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((RECORDED / f"upgrade-{name.replace('_', '-')}.trace.json").read_text()))


def test_by_default_every_step_that_leaves_a_workflow_in_flight_is_a_switch_point() -> None:
    # started, then the HUMAN task waits (both in flight); completed, then waited for
    assert switch_points(_scenario("human", default=True), _recorded("human")) == (0, 1)
    # running, then terminated (a terminal status), a second one started, the first
    # removed (no status: not in flight), then retried until it completes
    removed = _scenario("terminated_and_removed", default=True)
    assert switch_points(removed, _recorded("terminated_and_removed")) == (0, 1, 4, 5, 10, 11)
    # paused is in flight; steps that settle nothing (registering a handler) are not points
    paused = _scenario("paused_workflow", default=True)
    assert switch_points(paused, _recorded("paused_workflow")) == (0, 1, 2, 3, 4, 5, 6)
    handler = _scenario("event_handler", default=True)
    assert switch_points(handler, _recorded("event_handler")) == ()


def test_named_switch_points_are_the_scenarios_whatever_the_documents_say() -> None:
    human = _scenario("human")
    assert human.switch_after == (1,)
    assert switch_points(human, _recorded("human")) == (1,)
    listed = replace(human, switch_after=(0, 2))
    assert switch_points(listed, _recorded("human")) == (0, 2)  # 2: nothing in flight, named
    not_run = {**_recorded("human"), "outcome": {"status": "not_applicable", "reason": "x"}}
    assert switch_points(listed, not_run) == ()


def test_each_later_round_plays_the_scenarios_with_that_many_points() -> None:
    human = _scenario("human", default=True)  # points 0, 1
    held = _scenario("held_task")  # one point, named
    removed = _scenario("terminated_and_removed", default=True)  # six points
    first = {
        s.name: _recorded(n)
        for s, n in ((human, "human"), (held, "held_task"), (removed, "terminated_and_removed"))
    }
    rounds = later_rounds([human, held, removed], first)
    assert [[s.name for s in r] for r in rounds] == [
        [human.name, removed.name],
        *[[removed.name]] * 4,
    ]
    assert [s.switch_after for s in rounds[0]] == [(1,), (1,)]
    assert [r[0].switch_after for r in rounds[1:]] == [(4,), (5,), (10,), (11,)]
    assert later_rounds([human, held], {held.name: first[held.name]}) == []  # human: no trace


def test_a_later_round_switches_at_its_point_only() -> None:
    human = at_point(_scenario("human", default=True), 1)
    in_flight = _recorded("human")["steps"][0]["snapshots"]
    assert [switch_after(human, step, in_flight) for step in human.steps] == [
        False,
        True,
        False,
        False,
    ]
    assert human.digest == _scenario("human").digest  # the same scenario in its trace


def test_the_first_round_keeps_the_upgrades_name_and_later_ones_name_their_point() -> None:
    label = across_label("netflix:3.15.0", "oss:3.21.14")
    assert point_label(label, 1) == "netflix:3.15.0→oss:3.21.14"
    assert point_label(label, 2) == "netflix:3.15.0→oss:3.21.14 (switch point 2)"


@pytest.mark.parametrize(
    ("given", "expected"), [([], "all"), (["--switch-points", "first"], "first")]
)
def test_every_switch_point_by_default_or_the_first_only(
    given: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config file
    args = build_parser().parse_args(["upgrade", *given, str(LIBRARY / "human.yaml")])
    config.apply(args)
    assert _plan(args).switch_points == expected
