"""What a server's own log says of its background work: an error that its scheduled jobs
(the sweeper, the event queues, the system task workers) logged again and again.

A server whose sweeper fails on every pass still answers the API, so nothing else in a run
notices; but every workflow that waits for a sweep (a sub-workflow's parent, a task's
timeout, a decision the lock gave up) stops there from then on, and the runs that follow
show that failure rather than the version's behaviour. Errors of the threads that serve
requests are left out: scenarios provoke those on purpose.

>>> troubles(Path("server.log"))   # [Trouble(logger, message, count, first_s, cause)]

The log's lines are read one at a time (a server's log can be large); Conductor's servers
of both lines write ``MILLIS [THREAD] LEVEL LOGGER [MDC] - MESSAGE``, MILLIS counted from
the JVM's start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPEATED = 20  # the same error this many times is a background job that keeps failing
REQUEST_THREADS = ("http-nio", "grpc", "qtp")  # serving requests: errors scenarios provoke
_ERROR = re.compile(
    r"^(?P<ms>\d+)\s+\[(?P<thread>[^\]]*)\] ERROR\s+(?P<logger>\S+) "
    r"(?:\[[^\]]*\] )?- (?P<message>.*)$"
)
_ENTRY = re.compile(r"^\d+\s+\[")  # any log line (an error's trace lines do not start so)
_CAUSE = re.compile(r"^Caused by: (?P<cause>.*)$")
_FRAME = re.compile(r"^\s+at (?P<frame>\S+)")
_VARYING = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")
_MAX_LINE = 4000  # characters of a line that are read; the rest of a longer line is ignored


@dataclass(frozen=True, slots=True)
class Trouble:
    """One error a background thread logged ``count`` times, the first ``first_s`` seconds
    after the server's JVM started; ``cause``: its innermost cause and where it was thrown."""

    logger: str
    message: str
    count: int
    first_s: float
    cause: str


@dataclass(slots=True)
class _Group:
    logger: str
    message: str
    first_ms: int
    count: int = 0
    cause: str = ""


def troubles(log: Path, *, at_least: int = REPEATED) -> list[Trouble]:
    """The errors of ``log``'s background threads that repeat ``at_least`` times, the
    most frequent first; none for a log that is missing or unreadable."""
    groups: dict[tuple[str, str], _Group] = {}
    reading: _Group | None = None  # the group whose first error's trace is being read
    cause_pending = False
    try:
        with log.open(encoding="utf-8", errors="replace") as lines:
            for raw in lines:
                line = raw[:_MAX_LINE].rstrip("\n")
                found = _ERROR.match(line)
                if found is None:
                    if _ENTRY.match(line):
                        reading = None
                    elif reading is not None:
                        cause_pending = _read_trace(reading, line, cause_pending)
                    continue
                reading = None
                if found["thread"].startswith(REQUEST_THREADS):
                    continue
                key = (found["logger"], _VARYING.sub("N", found["message"]))
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group(
                        found["logger"], found["message"], int(found["ms"])
                    )
                    reading, cause_pending = group, False
                group.count += 1
    except OSError:
        return []
    kept = sorted((g for g in groups.values() if g.count >= at_least), key=lambda g: -g.count)
    return [
        Trouble(g.logger, g.message, g.count, round(g.first_ms / 1000, 1), g.cause) for g in kept
    ]


def _read_trace(group: _Group, line: str, cause_pending: bool) -> bool:
    """Note the innermost cause of ``group``'s first error, and the frame that threw it;
    whether the frame is still to be read."""
    cause = _CAUSE.match(line)
    if cause is not None:
        group.cause = cause["cause"].strip()
        return True
    frame = _FRAME.match(line)
    if frame is not None and cause_pending:
        group.cause = f"{group.cause} at {frame['frame']}"
        return False
    return cause_pending
