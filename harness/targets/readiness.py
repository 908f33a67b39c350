"""Wait until a server is ready: its process is alive, /health says healthy, and a
real metadata call answers. A timeout or an early exit carries the log's last lines."""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from pathlib import Path
from typing import Protocol

from harness.conductor import ConductorClient, ConductorUnreachable
from harness.errors import PortInUseError, ServerExitedError, ServerNotReadyError

LOG_TAIL_LINES = 50
_PORT_IN_USE = re.compile(r"Port (\d+) was already in use|Address already in use")


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            tail = [ln.rstrip("\n") for ln in deque(fh, maxlen=lines)]
    except OSError:
        return [f"(no log at {path})"]
    return tail or [f"({path} is empty: the server printed nothing yet)"]


class Exits(Protocol):
    """What readiness needs of a server's process or container: has it exited?"""

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...


async def wait_ready(
    client: ConductorClient,
    *,
    name: str,
    proc: Exits | None,
    log: Path | None,
    timeout_s: float,
    interval_s: float = 0.25,
) -> None:
    """Return when ready, else raise ``ServerExitedError``, ``PortInUseError`` or
    ``ServerNotReadyError`` naming the endpoint, what was expected and the log tail."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while True:
        if proc is not None and proc.poll() is not None:
            tail = log_tail(log) if log else []
            if any(_PORT_IN_USE.search(line) for line in tail):
                raise PortInUseError(
                    f"{name} could not listen on its port: another process holds it. "
                    "Pick another --port, or stop the process that holds it.",
                    details=tail,
                )
            raise ServerExitedError(
                f"{name} exited with code {proc.returncode} before it became ready. "
                f"Its log is {log}; the last lines follow.",
                details=tail,
            )
        try:
            status, body = await client.health()
            healthy = status == 200 and (not isinstance(body, dict) or body.get("healthy", True))
            if healthy:
                await client.list_task_defs()  # a real metadata call, not just a liveness page
                return
            last = f"/health answered {status}: {str(body)[:200]}"
        except ConductorUnreachable as exc:
            last = str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure here means "not ready yet"
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            tail = log_tail(log) if log else []
            where = f" Its log is {log}; the last lines follow." if log else ""
            raise ServerNotReadyError(
                f"{name} did not become ready within {timeout_s:.0f} s at {client.base_url}: "
                f"expected /health to be healthy and GET /api/metadata/taskdefs to answer 200; "
                f"last seen: {last}. A slow machine may need a longer --ready-timeout.{where}",
                details=tail,
            )
        await asyncio.sleep(interval_s)
