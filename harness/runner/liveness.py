"""Is the server still there? A server that dies while scenarios run on it is named as
such (how it ended, its log's last lines), not seen as a connection error per scenario.

A session watches its target through the runtime's probe (``RunningTarget.exited``):
every second, and after each run that did not complete. Once the server is known dead,
no further scenario starts on it, and every run it cut short ends as an error that names
the death: never a finding about the server's behaviour.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from harness.targets.death import DEATH_LOG_LINES, ServerDeath
from harness.targets.model import RunningTarget
from harness.targets.readiness import log_tail

WATCH_INTERVAL_S = 1.0
# A connection refused can reach a scenario a moment before the dead process is reaped.
CONFIRM_S = 3.0
SETTLED = ("completed", "not_applicable")


class Liveness:
    """What a session knows of its target's life: ``death`` once it is known."""

    def __init__(self, target: RunningTarget) -> None:
        self.target = target
        self.death: ServerDeath | None = None

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
        if not self.watched or trace["outcome"]["status"] in SETTLED:
            return self.death
        deadline = time.monotonic() + (CONFIRM_S if lost_connection(trace) else 0.0)
        while True:
            if await self.check() is not None or time.monotonic() >= deadline:
                return self.death
            await asyncio.sleep(0.1)

    async def watch(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """Return once the server is dead (run as a task, cancelled when the session ends)."""
        if not self.watched:
            return
        while True:
            if await self.check() is not None:
                return
            await asyncio.sleep(interval_s)


def _death(target: RunningTarget) -> ServerDeath | None:
    assert target.exited is not None
    ended = target.exited()
    if ended is None:
        return None
    tail = tuple(log_tail(target.log, DEATH_LOG_LINES)) if target.log else ()
    return ServerDeath(target.identity.target, ended, target.log, tail)


def lost_connection(trace: dict[str, Any]) -> bool:
    """Did any call of the run fail for want of an answer (refused, reset)?"""
    return any(
        e.get("status") is None and not str(e.get("error") or "").startswith("cancelled")
        for e in trace.get("exchanges", [])
    )


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
