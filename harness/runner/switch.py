"""The switch of an upgrade: every scenario run plays on the old server up to its switch
point, then one switch (the old server stopped, the new one started on the same store),
then every run goes on with the new server.

A scenario may have several switch points (the steps it names, or by default every step
after which work is in flight: ``switch_points``); each is played in a round of its own,
one switch per round, the scenario switching at its k-th point in round k (``at_point``).

The runs meet at a barrier: a run arrives at its switch point, or leaves (it ended before
reaching one); when every run has arrived or left, the switch is made once, and every run
that arrived goes on with the server it gives. A switch that fails (the new server refuses
the old one's store) is given to every waiting run as ``SwitchFailed``: a finding about the
upgrade, which each run records as its outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.runner.settle import Document
from harness.scenarios.model import Scenario, Step
from harness.statuses import TERMINAL_WORKFLOW
from harness.targets.model import RunningTarget


class SwitchFailed(Exception):
    """The switch did not give a server to go on with (the reason says why)."""


@dataclass(frozen=True, slots=True)
class Switched:
    """What a run got at the barrier."""

    server: RunningTarget
    waited_s: float


class Switchover:
    """A barrier for ``runs`` scenario runs, and the one switch made there.

    ``switch`` stops the old server and returns the new one; it runs once, when every run
    has arrived or left. ``done`` resolves when the switch was made (or needed by no run).
    """

    def __init__(self, runs: int, switch: Callable[[], Awaitable[RunningTarget]]) -> None:
        self._expected = runs
        self._arrived = 0
        self._left = 0
        self._switch = switch
        self._result: asyncio.Future[RunningTarget] | None = None
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        self.arrivals: list[str] = []  # the scenarios that switched, in order of arrival

    async def arrive(self, scenario: str) -> Switched:
        """Wait at the barrier; the server to go on with, or ``SwitchFailed``."""
        began = time.monotonic()
        result = self._future()
        self._arrived += 1
        self.arrivals.append(scenario)
        self._maybe_switch()
        try:
            server = await asyncio.shield(result)
        except SwitchFailed:
            raise
        except Exception as exc:  # the switch's own error, told to every run alike
            raise SwitchFailed(_told(exc)) from exc
        return Switched(server, round(time.monotonic() - began, 3))

    def leave(self) -> None:
        """A run that ended without reaching its switch point."""
        self._left += 1
        self._maybe_switch()

    @property
    def pending(self) -> int:
        return self._expected - self._arrived - self._left

    def _future(self) -> asyncio.Future[RunningTarget]:
        if self._result is None:
            self._result = asyncio.get_running_loop().create_future()
        return self._result

    def _maybe_switch(self) -> None:
        if self.pending > 0 or self._task is not None:
            return
        if not self._arrived:
            self.done.set()
            return
        self._task = asyncio.create_task(self._run(), name="switch")

    async def _run(self) -> None:
        result = self._future()
        try:
            server = await self._switch()
        except asyncio.CancelledError:
            result.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is the upgrade's finding
            result.set_exception(exc)
            result.exception()  # retrieved: the runs that wait re-raise it
        else:
            result.set_result(server)
        finally:
            self.done.set()


def _told(exc: BaseException) -> str:
    """The error, with the last lines it carries (a server's log tail), for the trace."""
    text = str(exc) or type(exc).__name__
    details = [str(line) for line in getattr(exc, "details", None) or []]
    return text + ("\n" + "\n".join(details[-20:]) if details else "")


def switch_after(scenario: Scenario, step: Step, documents: list[Document]) -> bool:
    """Is ``step`` the scenario's switch point in this run? The first step the scenario
    names (``upgrade: switch_after``); by default, the first step after which a workflow of
    the run is still in flight. (A later round of an upgrade plays the scenario with its
    k-th point as the one it names: ``at_point``.)"""
    named = scenario.switch_after
    if named:
        return step.index == named[0]
    return in_flight(documents)


def switch_points(scenario: Scenario, trace: Mapping[str, Any]) -> tuple[int, ...]:
    """Every switch point of ``scenario``, as step indices in step order, from one trace
    of it (a run that played its steps, switched or not): the steps it names, or by
    default every step after whose settle a workflow of the run was still in flight. A
    run the server could not play (not applicable) has none."""
    if (trace.get("outcome") or {}).get("status") == "not_applicable":
        return ()
    if scenario.switch_after:
        return scenario.switch_after
    return tuple(
        int(entry["index"])
        for entry in trace.get("steps") or []
        if in_flight(entry.get("snapshots") or [])
    )


def at_point(scenario: Scenario, index: int) -> Scenario:
    """``scenario`` switching after the step ``index`` only (one round of an upgrade)."""
    return replace(scenario, switch_after=(index,))


def in_flight(documents: Sequence[Mapping[str, Any]]) -> bool:
    """Is a workflow of these snapshots still running or paused (not terminal)?"""
    return any(_in_flight(d) for d in documents)


def _in_flight(document: Mapping[str, Any]) -> bool:
    status = document.get("status")
    return bool(status) and status not in TERMINAL_WORKFLOW
