"""A server a runaway spoilt: stopped, started afresh, and what ran beside it played again.

When a scenario makes a server decide without end (``runner/runaway.py``), the thread
deciding it runs on for as long as the server does; if it is a sweeper's, nothing on that
server is swept any more, and every other run that waits for a sweep stops for that
reason, not its own. Those runs are not evidence. So a session on a server that can be
restarted halts once it finds a runaway (``halt_on_runaway``: nothing more starts, and
the runs under way are cut short), and here:

    the traces of the runs that ended after the thread began are set aside
        (``beside-runaway/<target>/restart-N/``): kept, never compared
    the server is stopped and one started afresh: same version, profile and settings,
        a new store
    the runs never made, and those set aside that had ended before the thread was
        found, are played on it as before (a second runaway: the same again)
    each run that was under way when the thread was found (a suspect: cut short, or
        ended after; the cause is among them, unless it had ended) is played again
        alone, one after another (first those whose call was never answered, then the
        shortest, as each scenario last took there), the server restarted after any
        that spoils it: that one is the cause, and its trace says so (``alone``): its
        scenario's own finding, a decision that never ends; the suspects left are then
        played together, as the runs never made were

A scenario found to be a cause is played alone, last, from then on (its re-checks), the
server restarted after each of its runs. Restarts are bounded (``MAX_RESTARTS`` per
target); past that, runs are played as they come, and the report's notice names the runs
that ended beside a runaway.
"""

from __future__ import annotations

import math
import shutil
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.runner import SessionSummary
from harness.runner.runaway import Runaway
from harness.runner.session import ScenarioFinished
from harness.scenarios import Scenario
from harness.targets.model import RunningTarget

MAX_RESTARTS = 8

Run = tuple[Scenario, int]
# plays runs on a server: (runs, server, halt_on_runaway, alone) -> the session's summary
Play = Callable[[Sequence[Run], RunningTarget, bool, bool], Awaitable[SessionSummary]]
# starts a fresh server, its teardown on the stack given; the int counts restarts so far
Fresh = Callable[[AsyncExitStack, int], Awaitable[RunningTarget]]


@dataclass(slots=True)
class Restartable:
    """A target's server, and how to start it afresh. Each server has an exit stack of its
    own, closed when it is replaced; the last is closed with ``outer``."""

    fresh: Fresh
    server: RunningTarget
    own: AsyncExitStack
    restarts: int = 0
    causes: set[str] = field(default_factory=set)  # scenarios that spun a thread alone
    spoilt: bool = False  # a runaway was found on the server and it runs still
    running: bool = True
    before_stop: Callable[[RunningTarget], None] | None = None

    @classmethod
    async def start(
        cls,
        fresh: Fresh,
        outer: AsyncExitStack,
        before_stop: Callable[[RunningTarget], None] | None = None,
    ) -> Restartable:
        own = AsyncExitStack()
        server = await _started(fresh, own, 0)
        held = cls(fresh, server, own, before_stop=before_stop)
        outer.push_async_callback(held.close)
        return held

    @property
    def can_restart(self) -> bool:
        return self.restarts < MAX_RESTARTS

    async def close(self) -> None:
        """Stop the server (once: a restart that failed has stopped it already)."""
        if self.running and self.before_stop is not None:
            self.before_stop(self.server)
        self.running = False
        await self.own.aclose()

    async def restart(self) -> RunningTarget:
        await self.close()
        self.restarts += 1
        self.own = AsyncExitStack()
        self.server = await _started(self.fresh, self.own, self.restarts)
        self.running, self.spoilt = True, False
        return self.server


async def _started(fresh: Fresh, own: AsyncExitStack, restarts: int) -> RunningTarget:
    """A fresh server, or nothing left of one that did not start."""
    try:
        return await fresh(own, restarts)
    except BaseException:
        await own.aclose()
        raise


@dataclass(slots=True)
class Restart:
    """One restart: the threads that spoilt the server, the runs set aside and played
    again (the suspects among them alone), and the runs found to cause a runaway alone."""

    number: int
    threads: tuple[Runaway, ...]
    beside: tuple[tuple[str, int], ...]
    suspects: tuple[tuple[str, int], ...]
    not_run: int
    cut: int = 0  # of ``beside``: cut short, with no trace
    causes: list[tuple[str, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "restart": self.number,
            "threads": [r.to_json() for r in self.threads],
            "played_again": _refs(self.beside),
            "alone": _refs(self.suspects),
            "not_run": self.not_run,
            "cut": self.cut,
            "causes": _refs(self.causes),
        }


def _refs(runs: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"scenario": s, "repeat": r} for s, r in runs]


@dataclass(frozen=True, slots=True)
class Suspect:
    """A run under way when the runaway was found: it ended after, or was cut short."""

    scenario: str
    repeat: int
    started_at: str
    reason: str | None = None


def beside(
    summary: SessionSummary, expected: Mapping[str, float] | None = None
) -> tuple[list[ScenarioFinished], list[Suspect]]:
    """The runs that ended after the first runaway thread began (they ran beside it), and
    the runs still under way when it was found (the suspects: those that ended after it,
    and those cut short), in the order to play them alone (``_order``)."""
    since = min(_at(r.since) for r in summary.runaways)
    found = min(_at(r.found or r.since) for r in summary.runaways)
    spoilt = [f for f in summary.finished if not f.finished_at or _at(f.finished_at) >= since]
    suspects = [
        Suspect(f.scenario, f.repeat, f.started_at, f.reason)
        for f in spoilt
        if not f.finished_at or _at(f.finished_at) >= found
    ]
    suspects += [Suspect(name, repeat, started) for name, repeat, started in summary.cut]
    return spoilt, sorted(suspects, key=lambda f: _order(f, since, expected or {}))


def _order(
    run: Suspect, since: datetime, expected: Mapping[str, float]
) -> tuple[bool, float, float]:
    """Suspects, to find the cause soonest: one with a call never answered (a decision
    that never ended inside it) first; then the shortest (``expected``: seconds each
    scenario last took), as each one that is not the cause costs its time; then the start
    nearest the thread's."""
    unanswered = "ReadTimeout" in str(run.reason or "")
    took = expected.get(run.scenario, math.inf)
    began = abs((_at(run.started_at) - since).total_seconds()) if run.started_at else math.inf
    return not unanswered, took, began


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def play_isolated(
    runs: Sequence[Run],
    held: Restartable,
    play: Play,
    aside: Path,
    restarted: Callable[[Restart, list[Run]], None],
    *,
    expected: Mapping[str, float] | None = None,
) -> SessionSummary:
    """Play ``runs`` on ``held``'s server; after a runaway, restart it and play again what
    ran beside it, as the module says. ``restarted`` hears of each restart, with the runs
    whose traces were set aside, to be made again (the pipeline's progress; the runs cut
    short or never made had not finished). ``expected``: seconds each scenario last took
    there, to play the suspects shortest first. The summary joins every play's."""
    scenarios = {s.name: s for s, _ in runs}
    together = [run for run in runs if run[0].name not in held.causes]
    # each with the restart that set it aside (none: a known cause's)
    alone: deque[tuple[Run, Restart | None]] = deque(
        (run, None) for run in runs if run[0].name in held.causes
    )
    summaries: list[SessionSummary] = []
    while together or alone:
        if held.spoilt and held.can_restart:
            await held.restart()
        solo: tuple[Run, Restart | None] | None = None
        if together:
            summary = await play(together, held.server, held.can_restart, False)
            together = []
        else:
            solo = alone.popleft()
            summary = await play([solo[0]], held.server, False, not held.spoilt)
        summaries.append(summary)
        if summary.death is not None:
            break
        if not summary.runaways:
            continue
        if solo is not None:
            if not held.spoilt:  # alone on a server with no runaway: the run is the cause
                (scenario, repeat), restart = solo
                held.causes.add(scenario.name)
                if restart is not None:
                    restart.causes.append((scenario.name, repeat))
                    # the other suspects of that restart go with the runs played together
                    together += [run for run, r in alone if r is restart]
                    alone = deque((run, r) for run, r in alone if r is not restart)
            held.spoilt = True
            continue
        held.spoilt = True
        spoilt, suspects = beside(summary, expected)
        if not held.can_restart or not (spoilt or summary.not_run or summary.cut):
            continue  # played as they came: the report's notice names them
        summaries[-1] = _without(summary, spoilt)
        again = [(scenarios[f.scenario], f.repeat) for f in spoilt]
        lone = [(scenarios[f.scenario], f.repeat) for f in suspects]
        never = [(scenarios[name], r) for name, r in summary.not_run]
        together = [run for run in again if run not in lone] + never
        _set_aside(spoilt, aside / f"restart-{held.restarts + 1}")
        cut = [(name, r) for name, r, _ in summary.cut]
        number = held.restarts + 1
        played = _names(again) + tuple(cut)
        restart = Restart(number, summary.runaways, played, _names(lone), len(never), len(cut))
        restarted(restart, again)
        alone.extend((run, restart) for run in lone)
    return _joined(summaries)


def _names(runs: list[Run]) -> tuple[tuple[str, int], ...]:
    return tuple((s.name, r) for s, r in runs)


def _without(summary: SessionSummary, spoilt: list[ScenarioFinished]) -> SessionSummary:
    """A halted play's summary, its spoilt runs and its runs never made taken out (both
    are played again)."""
    kept = tuple(f for f in summary.finished if f not in spoilt)
    return SessionSummary(summary.target, kept, summary.seconds, None, (), summary.runaways)


def _joined(summaries: list[SessionSummary]) -> SessionSummary:
    last = summaries[-1]
    return SessionSummary(
        last.target,
        tuple(f for s in summaries for f in s.finished),
        round(sum(s.seconds for s in summaries), 3),
        last.death,
        last.not_run if last.death is not None else (),
        tuple(r for s in summaries for r in s.runaways),
    )


def _set_aside(spoilt: list[ScenarioFinished], into: Path) -> None:
    """Move the traces of the runs beside a runaway out of the traces the report reads."""
    if not spoilt:
        return
    into.mkdir(parents=True, exist_ok=True)
    for finished in spoilt:
        if finished.path.exists():
            shutil.move(str(finished.path), into / finished.path.name)
