"""How a server that was running ended: its exit code or the signal that killed it.

A runtime gives each target it starts a probe (``RunningTarget.exited``): called while
scenarios run, it answers ``None`` while the server lives, else a ``ServerExit``. The
runner turns that into a ``ServerDeath`` (the exit, the log, its last lines), named in
the traces, the report and the exit message instead of a connection error per scenario.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

DEATH_LOG_LINES = 20  # the log lines a death carries into the traces and the report


@dataclass(frozen=True, slots=True)
class ServerExit:
    """``code``: the exit status, when the server exited (for a container, as Docker
    reports it, 128 + N for signal N); ``signal``: the signal that killed it, when known;
    ``oom``: Docker says the kernel's out-of-memory killer took it."""

    code: int | None
    signal: int | None = None
    oom: bool = False
    silent_s: float | None = None  # it did not end: it answered nothing for this long

    @property
    def silent(self) -> bool:
        return self.silent_s is not None

    @property
    def signal_name(self) -> str | None:
        if self.signal is None:
            return None
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"

    def describe(self) -> str:
        """'was killed by signal 9 (SIGKILL)', 'exited with code 1', ..."""
        if self.silent_s is not None:
            return (
                f"answered nothing (GET /health included) for {self.silent_s:g} s while its "
                "process still ran"
            )
        how = f"signal {self.signal} ({self.signal_name})" if self.signal is not None else ""
        if self.code is not None and self.signal is not None:
            text = f"exited with code {self.code} (killed by {how})"
        elif self.signal is not None:
            text = f"was killed by {how}"
        elif self.code is not None:
            text = f"exited with code {self.code}"
        else:
            text = "stopped (how is not known)"
        return text + (", out of memory" if self.oom else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.code,
            "signal": self.signal_name,
            "oom": self.oom,
            "description": self.describe(),
            **({"silent_s": self.silent_s} if self.silent_s is not None else {}),
        }


ExitProbe = Callable[[], ServerExit | None]


def from_returncode(returncode: int) -> ServerExit:
    """A child process's ``returncode``: negative means killed by that signal."""
    if returncode < 0:
        return ServerExit(None, -returncode)
    return ServerExit(returncode)


def from_container_state(exit_code: int, *, oom: bool = False) -> ServerExit:
    """A container's exit code: the shell's convention, 128 + N after signal N."""
    killed = exit_code - 128 if 128 < exit_code < 128 + 65 else None
    return ServerExit(exit_code, killed, oom)


class Polls(Protocol):
    def poll(self) -> int | None: ...


def process_probe(proc: Polls) -> ExitProbe:
    """The probe of a server run as a child process (``subprocess.Popen``)."""

    def probe() -> ServerExit | None:
        returncode = proc.poll()
        return None if returncode is None else from_returncode(returncode)

    return probe


@dataclass(frozen=True, slots=True)
class ServerDeath:
    """A server that died while scenarios ran on it, or stopped answering (``exit.silent``):
    for the run, the same end."""

    target: str
    exit: ServerExit
    log: Path | None
    log_tail: tuple[str, ...]

    def summary(self) -> str:
        ended = "stopped answering" if self.exit.silent else "died"
        return f"{self.target} {ended} mid-run: it {self.exit.describe()}"

    def message(self) -> str:
        """One paragraph: what died, how, and where its log is."""
        where = f" Its log is {self.log}; the last lines follow." if self.log else ""
        return f"{self.summary()}.{where}"

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            **self.exit.to_json(),
            "summary": self.summary(),
            "log": str(self.log) if self.log else None,
            "log_tail": list(self.log_tail),
        }
