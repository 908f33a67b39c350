"""A running server's threads and the CPU time each has used, read from ``/proc``.

A server started here as a child process (the process runtime) is a JVM whose threads
the kernel lists under ``/proc/PID/task``: each with its name (the first 15 characters of
the Java thread's name) and the CPU time it has used. A server in a container of an
engine on this machine is such a process too (the container's main process, ``exec
java``), found by the process id the engine gives when its cgroup names the container.
The runner samples them while scenarios run, to notice a thread that never stops
(``runner/runaway.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

# thread id -> (name, CPU seconds used so far)
ThreadCpu = dict[int, tuple[str, float]]
ThreadProbe = Callable[[], ThreadCpu]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_threads(pid: int, proc: Path = Path("/proc")) -> ThreadProbe:
    """The probe of process ``pid``'s threads: empty once the process is gone."""
    tasks = proc / str(pid) / "task"

    def probe() -> ThreadCpu:
        found: ThreadCpu = {}
        try:
            entries = list(tasks.iterdir())
        except OSError:
            return found
        for entry in entries:
            try:
                stat = (entry / "stat").read_text(errors="replace")
            except OSError:
                continue  # the thread ended between the listing and the read
            parsed = parse_stat(stat)
            if parsed is not None:
                found[int(entry.name)] = parsed
        return found

    return probe


def container_threads(
    pid: int, container_id: str, proc: Path = Path("/proc")
) -> ThreadProbe | None:
    """The probe of a container's main process, ``pid`` as its engine gives it: None unless
    that process, seen from here, is in the container's cgroup (an engine on another
    machine, or in another process namespace, gives ids that name nothing here, or
    another process)."""
    if pid <= 0 or not container_id:
        return None
    try:
        cgroup = (proc / str(pid) / "cgroup").read_text(errors="replace")
    except OSError:
        return None
    if container_id not in cgroup:
        return None
    return process_threads(pid, proc)


def parse_stat(stat: str) -> tuple[str, float] | None:
    """A thread's name and CPU seconds (user + system) from its ``stat`` line, whose
    second field is the name in parentheses (which may itself hold spaces or ')')."""
    open_at, close_at = stat.find("("), stat.rfind(")")
    if open_at < 0 or close_at < open_at:
        return None
    fields = stat[close_at + 2 :].split()
    if len(fields) < 13:
        return None
    # after the name: state, ppid, ... utime is field 14 and stime 15 of the whole line
    try:
        utime, stime = int(fields[11]), int(fields[12])
    except ValueError:
        return None
    return stat[open_at + 1 : close_at], (utime + stime) / _TICKS
