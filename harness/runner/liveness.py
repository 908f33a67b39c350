"""Is the server still there? A server that dies while scenarios run on it is named as
such (how it ended, its log's last lines), not seen as a connection error per scenario.

A session watches its target through the runtime's probe (``RunningTarget.exited``):
every second, and after each run that did not complete. Once the server is known dead,
no further scenario starts on it, and every run it cut short ends as an error that names
the death: never a finding about the server's behaviour.

A server can also stop answering while its process runs (seen on netflix 3.9.2 with the
workflow execution lock off: its queue pools multiplied until no call was answered).
After a run that waited on a call never answered (or hung to its deadline), the session
asks for /health until it answers; one that answers nothing for ``SILENT_S`` has stopped
answering, and is named so, with its log's last lines, as a death would be.

While it watches, it also samples the server's threads (a server started here as a
process): one that never stops is a runaway (``runaway.py``), which the runs that end
after it began carry in their traces.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from harness.conductor import ConductorClient, ConductorUnreachable
from harness.runner.runaway import Runaway, ThreadWatch
from harness.targets.death import DEATH_LOG_LINES, ServerDeath, ServerExit
from harness.targets.model import RunningTarget
from harness.targets.readiness import log_tail

WATCH_INTERVAL_S = 1.0
# A connection refused can reach a scenario a moment before the dead process is reaped.
CONFIRM_S = 3.0
SETTLED = ("completed", "not_applicable")
SILENT_S = 30.0  # the client's read timeout: no answer to anything for as long
ASK_TIMEOUT_S = 10.0
# how a run's reason says it waited on the server: a call not answered, or its deadline
WAITED_ON = ("failed: ReadTimeout", "did not finish within its deadline")


class Liveness:
    """What a session knows of its target's life: ``death`` once it is known (a server
    that stopped answering included)."""

    def __init__(self, target: RunningTarget, silent_s: float = SILENT_S) -> None:
        self.target = target
        self.silent_s = silent_s
        self.death: ServerDeath | None = None
        self.busy = ThreadWatch()
        self.found = asyncio.Event()  # set once a thread is found running without pause
        self._asking = asyncio.Lock()

    @property
    def watched(self) -> bool:
        return self.target.exited is not None

    async def check(self) -> ServerDeath | None:
        """Ask the runtime (off the event loop: a container's state is an API call)."""
        if self.death is None and self.target.exited is not None:
            self.death = await asyncio.to_thread(_death, self.target)
        return self.death

    async def confirm(self, trace: dict[str, Any]) -> ServerDeath | None:
        """After a run that did not complete: did the server die? A run that lost its
        connection gives the runtime a moment to see the process gone."""
        if trace["outcome"]["status"] in SETTLED:
            return self.death
        if self.watched:
            await self._confirm_exit(CONFIRM_S if lost_connection(trace) else 0.0)
        if self.death is None and waited_on_server(trace):
            await self.answering()
        return self.death

    async def _confirm_exit(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while True:
            if await self.check() is not None or time.monotonic() >= deadline:
                return
            await asyncio.sleep(0.1)

    async def answering(self) -> None:
        """Ask for /health until the server answers (anything); ``silent_s`` with no
        answer, its process alive, and it has stopped answering. One question at a time:
        the runs that end meanwhile wait for the answer."""
        async with self._asking:
            if self.death is not None:
                return
            began, ask_s = time.monotonic(), min(ASK_TIMEOUT_S, self.silent_s)
            async with ConductorClient(self.target.base_url, headers=self.target.headers) as c:
                while True:
                    try:
                        await c.request("GET", "/health", timeout_s=ask_s)
                        return
                    except ConductorUnreachable:
                        pass
                    waited = time.monotonic() - began
                    if await self.check() is not None:
                        return
                    if waited >= self.silent_s:
                        self.death = _silent(self.target, waited)
                        return
                    await asyncio.sleep(1.0)

    async def watch(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """Return once the server is dead (run as a task, cancelled when the session ends)."""
        if not self.watched:
            return
        while True:
            if await self.check() is not None:
                return
            await self.sample()
            await asyncio.sleep(interval_s)

    async def sample(self) -> None:
        """Read the server's threads once (off the event loop: a few hundred small files)."""
        if self.target.threads is None:
            return
        threads = await asyncio.to_thread(self.target.threads)
        wall = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.busy.add(time.monotonic(), wall, threads)
        if not self.found.is_set() and self.busy.runaways():
            self.found.set()

    def runaways(self) -> list[Runaway]:
        """The server's threads found running without pause so far."""
        return self.busy.runaways()


def _death(target: RunningTarget) -> ServerDeath | None:
    assert target.exited is not None
    ended = target.exited()
    if ended is None:
        return None
    tail = tuple(log_tail(target.log, DEATH_LOG_LINES)) if target.log else ()
    return ServerDeath(target.identity.target, ended, target.log, tail)


def _silent(target: RunningTarget, waited: float) -> ServerDeath:
    tail = tuple(log_tail(target.log, DEATH_LOG_LINES)) if target.log else ()
    ended = ServerExit(None, silent_s=round(waited, 1))
    return ServerDeath(target.identity.target, ended, target.log, tail)


def waited_on_server(trace: dict[str, Any]) -> bool:
    """Did the run end waiting on the server: a call it never answered, or its deadline?"""
    outcome = trace["outcome"]
    return outcome["status"] == "error" and any(
        w in str(outcome.get("reason") or "") for w in WAITED_ON
    )


def lost_connection(trace: dict[str, Any]) -> bool:
    """Did any call of the run fail for want of an answer (refused, reset)?"""
    return any(
        e.get("status") is None and not str(e.get("error") or "").startswith("cancelled")
        for e in trace.get("exchanges", [])
    )


def mark_runaways(trace: dict[str, Any], runaways: list[Runaway], *, alone: bool = False) -> None:
    """A run that ended after a server thread began to run without pause says so; ``alone``:
    it was the only run on a server started afresh for it, so the thread is its doing."""
    if runaways:
        trace["outcome"]["runaway_threads"] = [
            {**r.to_json(), **({"alone": True} if alone else {})} for r in runaways
        ]


def mark_died(trace: dict[str, Any], death: ServerDeath) -> None:
    """The outcome of a run the server's death cut short: an error that names the death
    (what the scenario saw is kept as ``scenario_error``), never a finding."""
    outcome = trace["outcome"]
    seen = f"{outcome['status']}: {outcome.get('reason')}"
    trace["outcome"] = {
        **outcome,
        "status": "error",
        "reason": f"{death.summary()}; this scenario could not finish",
        "server_died": {**death.to_json(), "scenario_error": seen},
    }
