"""Play scenarios across an upgrade: every run starts on the old server, they all meet at
the switch (``switch.py``), and each goes on with the new server. Each trace is written as
it finishes, with the identity of the upgrade (``label``: 'netflix:3.15.0→oss:3.32.1').

Every run plays at once: a barrier cannot wait for runs that a job limit holds back.

A scenario with several switch points is played in several rounds, one switch each: the
first round switches every scenario at its first point; ``later_rounds`` says, from the
first round's traces, which scenarios play each later round and where they switch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.runner.engine import run_scenario
from harness.runner.session import (
    ScenarioFinished,
    ScenarioStarted,
    SessionEvent,
    SessionSummary,
    keep_trace,
)
from harness.runner.switch import Switchover, at_point, switch_points
from harness.runner.trace import new_trace
from harness.scenarios.model import Scenario
from harness.targets.model import RunningTarget


async def run_across(
    scenarios: Sequence[Scenario],
    old: RunningTarget,
    switch: Callable[[], Awaitable[RunningTarget]],
    out_dir: Path,
    *,
    label: str,
    new_identity: Callable[[], dict[str, Any]],
    emit: Callable[[SessionEvent], None] | None = None,
    repeat: int = 1,
) -> tuple[SessionSummary, Switchover]:
    """Every scenario once, switched from ``old`` to what ``switch`` gives; the traces
    carry ``new_identity()`` (the new server's, or what its lock says when it did not
    start) with ``target`` = ``label`` and the old server's as ``upgrade_from``, and are
    numbered ``repeat`` (a re-check's further run across a switch of its own)."""
    began = time.monotonic()
    switchover = Switchover(len(scenarios), switch)
    finished: list[ScenarioFinished] = []

    async def one(scenario: Scenario) -> None:
        if emit:
            emit(ScenarioStarted(label, scenario.name, repeat))
        identity = {**new_identity(), "target": label, "upgrade_from": old.identity.to_json()}
        applies, why_not = scenario.applicability(identity["flavor"], identity["version"])
        if applies:
            trace = await run_scenario(scenario, old, switchover=switchover)
        else:  # the new server cannot run it: nothing to switch
            switchover.leave()
            trace = new_trace(scenario, identity)
            trace["outcome"] = {"status": "not_applicable", "reason": why_not}
            trace["finished_at"] = trace["started_at"]
        trace["target"] = identity
        if repeat > 1:
            trace["repeat"] = repeat
        event = keep_trace(out_dir, trace, label, repeat)
        finished.append(event)
        if emit:
            emit(event)

    async with asyncio.TaskGroup() as group:
        for scenario in scenarios:
            group.create_task(one(scenario))
    order = {s.name: i for i, s in enumerate(scenarios)}
    ordered = tuple(sorted(finished, key=lambda f: order[f.scenario]))
    return SessionSummary(label, ordered, round(time.monotonic() - began, 3)), switchover


def later_rounds(
    scenarios: Sequence[Scenario], first: Mapping[str, Mapping[str, Any]]
) -> list[list[Scenario]]:
    """Rounds 2, 3, ...: in round k, every scenario with a k-th switch point, switching
    there (its points from ``first``, its trace of the first round, by scenario name; a
    scenario without one sits out every later round)."""
    points = {s.name: switch_points(s, first[s.name]) for s in scenarios if s.name in first}
    most = max((len(p) for p in points.values()), default=0)
    return [
        [at_point(s, points[s.name][k]) for s in scenarios if len(points.get(s.name, ())) > k]
        for k in range(1, most)
    ]
