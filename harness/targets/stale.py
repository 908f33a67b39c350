"""A record of each PostgreSQL server the harness starts, so that none outlives its run.

A server dies with the harness that started it (the kernel's parent-death signal:
``procs``), and PostgreSQL's children die with their postmaster. This is a second guard,
for a server that escaped the first (it runs as another user): each start writes a record
under ``<cache>/live/`` of the server's pid and start time, a string its command line holds
(its data folder), and the conductor-compat process that owns it. ``sweep`` stops every
recorded server whose owner is gone; it runs before each start of such a server and in
``conductor-compat targets prune``.

A pid and its start time (clock ticks after boot) name one process for good: a recycled
pid has another start time, so a record never stops a stranger.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.targets.maven import cache_dir

LIVE = "live"


@dataclass(frozen=True, slots=True)
class Record:
    kind: str  # what runs ("postgres")
    pid: int
    start: int
    owner: int  # the conductor-compat process that started it
    owner_start: int
    marker: str  # in the server's command line: its data folder

    def describe(self) -> str:
        return f"{self.kind} pid {self.pid} ({self.marker})"


def live_dir(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / LIVE


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot); ``None``: no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ppid …": comm may hold spaces and parentheses; field 22 is the start.
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(pid: int, start: int) -> bool:
    return start_time(pid) == start


def register(kind: str, pid: int, marker: str, cache: Path | None = None) -> Path:
    """Record a server this process started and owns; the record's path."""
    me = os.getpid()
    record = Record(kind, pid, start_time(pid) or 0, me, start_time(me) or 0, marker)
    folder = live_dir(cache)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{pid}.json"
    staged = path.with_suffix(".tmp")
    staged.write_text(json.dumps(asdict(record)) + "\n", encoding="utf-8")
    os.replace(staged, path)
    return path


def sweep(cache: Path | None = None) -> list[str]:
    """Stop every recorded server whose owner is gone, drop its record; what was stopped."""
    stopped = []
    for path in sorted(live_dir(cache).glob("*.json")):
        try:
            record = Record(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue  # its owner stopped it meanwhile
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if alive(record.owner, record.owner_start):
            continue
        if alive(record.pid, record.start) and record.marker in _cmdline(record.pid):
            kill_all([(record.pid, record.start), *children(record.pid)])
            stopped.append(record.describe())
        path.unlink(missing_ok=True)
    return stopped


def children(pid: int) -> list[tuple[int, int]]:
    """(pid, start time) of each child of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(errors="replace").rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append((int(entry.name), int(fields[19])))
    return found


def kill_all(processes: list[tuple[int, int]]) -> None:
    """SIGKILL each (pid, start time) still running."""
    for pid, start in processes:
        if alive(pid, start):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")
