"""Run many scenarios on one target, concurrently, writing each trace as it finishes.

Scenarios are namespaced, so they share the server safely; ``jobs`` bounds how many
run at once. Progress is two events of the run's one event stream (``ScenarioStarted``,
``ScenarioFinished``), given to ``emit``; the pipeline passes them on to its consumers.
A server that dies stops the session: no further scenario starts, the runs it cut short
say so (``liveness``), and the summary carries the death and the runs never made. With
``halt_on_runaway``, a server thread found running without pause (``runaway``) stops it
the same way: the runs under way are cut short (their traces would not be evidence), and
the summary carries the threads, the runs cut and the runs never made, for the caller to
play on a fresh server.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.runner.engine import run_scenario
from harness.runner.liveness import SETTLED, Liveness, mark_died, mark_runaways
from harness.runner.runaway import Runaway
from harness.scenarios.model import Scenario
from harness.targets.death import ServerDeath
from harness.targets.model import RunningTarget
from harness.traces import trace_errors, write_trace

DEFAULT_JOBS = 8  # measured: see README, "Scenario run benchmark"


@dataclass(frozen=True, slots=True)
class ScenarioStarted:
    target: str
    scenario: str
    repeat: int


@dataclass(frozen=True, slots=True)
class ScenarioFinished:
    target: str
    scenario: str
    repeat: int
    status: str  # completed, failed_expectation, error, not_applicable
    reason: str | None
    seconds: float
    path: Path  # the trace written
    finished_at: str = ""  # the trace's finished_at
    started_at: str = ""  # the trace's started_at


SessionEvent = ScenarioStarted | ScenarioFinished


@dataclass(frozen=True, slots=True)
class SessionSummary:
    target: str
    finished: tuple[ScenarioFinished, ...]
    seconds: float
    death: ServerDeath | None = None  # the server died mid-session
    not_run: tuple[tuple[str, int], ...] = ()  # (scenario, repeat) never started: it had died
    runaways: tuple[Runaway, ...] = ()  # server threads found running without pause
    # (scenario, repeat, started at) under way when a runaway halted the session: no trace
    cut: tuple[tuple[str, int, str], ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for f in self.finished if f.status == status)


class TraceInvalid(Exception):
    """A trace the runner built does not match its own schema: a bug in the harness."""


def keep_trace(out_dir: Path, trace: dict[str, Any], label: str, repeat: int) -> ScenarioFinished:
    """Check a finished trace against its schema, write it, and say so (the event)."""
    name = trace["scenario"]["name"]
    errors = trace_errors(trace)
    if errors:
        raise TraceInvalid(f"trace of {name} breaks trace.schema.json: {errors[:3]}")
    path = write_trace(out_dir, trace, checked=True)
    outcome = trace["outcome"]
    return ScenarioFinished(
        label,
        name,
        repeat,
        outcome["status"],
        outcome.get("reason"),
        float(trace["timings"].get("total_s", 0.0)),
        path,
        str(trace.get("finished_at") or ""),
        str(trace.get("started_at") or ""),
    )


class Schedule:
    """Which run starts next: of the runs that may start, a first run before a repeat (a
    comparison judges the first runs as soon as they are in), then the one expected to
    take longest (a scenario never seen before every other; ties in the order given).
    The runs of one scenario never overlap: each waits for the one before it (repeats are
    independent runs of one version, not one run beside another)."""

    def __init__(
        self, runs: Sequence[tuple[Scenario, int]], expected: Mapping[str, float] | None
    ) -> None:
        self._expected = expected or {}
        self._ready: list[tuple[bool, float, int, str, int]] = []
        self._later: dict[str, deque[tuple[int, int]]] = defaultdict(deque)
        self._scenarios: dict[str, Scenario] = {}
        self.left = len(runs)
        for index, (scenario, repeat) in enumerate(runs):
            name = scenario.name
            if name in self._scenarios:
                self._later[name].append((index, repeat))
            else:
                self._scenarios[name] = scenario
                self._push(index, name, repeat)

    def _push(self, index: int, name: str, repeat: int) -> None:
        longest = -self._expected.get(name, math.inf)
        heapq.heappush(self._ready, (repeat > 1, longest, index, name, repeat))

    @property
    def ready_or_over(self) -> bool:
        """Whether a run may start now, or every run has ended."""
        return self.left == 0 or bool(self._ready)

    def next(self) -> tuple[Scenario, int] | None:
        """The run to start now, or None when every run left waits for another."""
        if not self._ready:
            return None
        *_, name, repeat = heapq.heappop(self._ready)
        return self._scenarios[name], repeat

    def done(self, scenario: Scenario) -> None:
        """A run of ``scenario`` has ended: its next run may start."""
        self.left -= 1
        later = self._later.get(scenario.name)
        if later:
            index, repeat = later.popleft()
            self._push(index, scenario.name, repeat)


async def run_session(
    scenarios: Sequence[Scenario],
    target: RunningTarget,
    out_dir: Path,
    *,
    jobs: int = DEFAULT_JOBS,
    emit: Callable[[SessionEvent], None] | None = None,
    keep_poll_bodies: bool = False,
    repeats: int = 1,
    runs: Sequence[tuple[Scenario, int]] | None = None,
    name: str | None = None,
    expected: Mapping[str, float] | None = None,
    halt_on_runaway: bool = False,
    alone: bool = False,
) -> SessionSummary:
    """Run every scenario on ``target`` (``repeats`` times each, the runs interleaved with
    the other scenarios'), or exactly ``runs`` (scenario, repeat) when given; traces land
    in ``out_dir`` as each finishes. Events name the target ``name`` (by default, its
    identity). ``expected``: seconds a scenario is expected to take; the runs start
    longest first, a scenario not in it before the others (the summary keeps the order
    of ``runs``). ``halt_on_runaway``: once a server thread runs without pause, start no
    further run (the summary's ``not_run``), and cut short the runs under way (``cut``).
    ``alone``: the caller started the server afresh for these runs, one of them at a
    time, so a runaway is the doing of the run it ends beside."""
    began = time.monotonic()
    label = name or target.identity.target
    finished: list[ScenarioFinished] = []

    runs = runs if runs is not None else [(s, r) for r in range(1, repeats + 1) for s in scenarios]
    numbered = any(repeat > 1 for _, repeat in runs)
    life = Liveness(target)
    not_run: list[tuple[str, int]] = []
    plan = Schedule(runs, expected)
    changed = asyncio.Condition()
    halted = life.found if halt_on_runaway else asyncio.Event()
    cut: list[tuple[str, int, str]] = []

    async def one(scenario: Scenario, repeat: int) -> None:
        if life.death is not None or halted.is_set():
            not_run.append((scenario.name, repeat))
            return
        if emit:
            emit(ScenarioStarted(label, scenario.name, repeat))
        began_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        playing = run_scenario(scenario, target, keep_poll_bodies=keep_poll_bodies)
        if (trace := await _unless_halted(playing, halted)) is None:
            cut.append((scenario.name, repeat, began_at))
            return
        await _marked(trace, life, alone=alone)
        if numbered:
            trace["repeat"] = repeat
        event = keep_trace(out_dir, trace, label, repeat)
        finished.append(event)
        if emit:
            emit(event)

    async def worker() -> None:
        while True:
            async with changed:
                await changed.wait_for(lambda: plan.ready_or_over)
                picked = plan.next()
            if picked is None:
                return  # every run has ended
            try:
                await one(*picked)
            finally:
                async with changed:
                    plan.done(picked[0])
                    changed.notify_all()

    watcher = asyncio.create_task(life.watch())
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, jobs)):
                group.create_task(worker())
    finally:
        watcher.cancel()
        await asyncio.wait([watcher])
    order = {s.name: i for i, (s, _) in enumerate(runs)}
    return SessionSummary(
        label,
        tuple(sorted(finished, key=lambda f: (order[f.scenario], f.repeat))),
        round(time.monotonic() - began, 3),
        life.death,
        tuple(sorted(not_run, key=lambda r: (order[r[0]], r[1]))),
        tuple(life.runaways()),
        tuple(cut),
    )


async def _marked(trace: dict[str, Any], life: Liveness, *, alone: bool) -> None:
    """What the server's life says of a run that ended: a death that cut it short, the
    threads that ran without pause beside it."""
    death = await life.confirm(trace)
    if death is not None and trace["outcome"]["status"] not in SETTLED:
        mark_died(trace, death)
    mark_runaways(trace, life.runaways(), alone=alone)


async def _unless_halted(
    run: Coroutine[Any, Any, dict[str, Any]], halted: asyncio.Event
) -> dict[str, Any] | None:
    """The trace of ``run``, or None when ``halted`` was set first (the run is cut short)."""
    playing, stop = asyncio.create_task(run), asyncio.create_task(halted.wait())
    try:
        await asyncio.wait({playing, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # halted, or the session itself cancelled: the run never outlives this
        stop.cancel()
        if not playing.done():
            playing.cancel()
            await asyncio.wait({playing})
    return None if playing.cancelled() else playing.result()
