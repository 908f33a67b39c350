"""A server thread that never stops: a decision that does not end.

A scenario's workflow can make a server decide without end (netflix 3.10.7 and 3.11.3
decide a DO_WHILE whose condition never changes over and over, inside one decision). The
thread that decides it then runs without pause for as long as the server runs, and when
it is one of the sweeper's, no workflow on that server is swept any more: every other
scenario on the server that waits for a sweep stops, for that reason and not its own.

``ThreadWatch`` takes samples of the server's threads (``targets/threads.py``) and names
each application thread that used at least ``SHARE`` of a CPU over ``WINDOW_S``: no
step of a scenario keeps a thread that busy for that long. The JVM's own threads (the
compilers, the garbage collector) are left out: they may be, while the server warms up.
The runs that end after one began say so in their trace (``outcome.runaway_threads``),
and the report names it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from harness.targets.threads import ThreadCpu

WINDOW_S = 20.0
SHARE = 0.5
# the JVM's own threads, by the start of their names (a name in /proc has 15 characters)
JVM_OWN = (
    "C1 Compiler",
    "C2 Compiler",
    "VM Thread",
    "VM Periodic",
    "GC Thread",
    "G1 ",
    "Sweeper thread",
    "Signal Dispatc",
    "Finalizer",
    "Reference Hand",
    "Service Thread",
    "Common-Cleaner",
    "DestroyJavaVM",
    "Attach Listene",
    "java",
    "main",
)


@dataclass(frozen=True, slots=True)
class Runaway:
    """A thread that ran without pause from ``since`` (a UTC time), found so at ``found``,
    ``cpu_s`` CPU seconds by the last sample."""

    thread: str
    since: str
    cpu_s: float
    found: str = ""

    def to_json(self) -> dict[str, object]:
        found = {"found": self.found} if self.found else {}
        return {"thread": self.thread, "since": self.since, "cpu_s": round(self.cpu_s, 1), **found}


class ThreadWatch:
    """Samples of one server's threads, oldest first, and the runaways they show."""

    def __init__(self, window_s: float = WINDOW_S, share: float = SHARE) -> None:
        self.window_s = window_s
        self.share = share
        self._samples: deque[tuple[float, str, ThreadCpu]] = deque()
        self._found: dict[int, tuple[str, str, float, str]] = {}  # tid -> name, since, cpu, found
        self._latest: dict[int, float] = {}  # tid found -> the CPU it had used when last seen

    def add(self, at_s: float, wall: str, threads: ThreadCpu) -> None:
        """A sample taken at ``at_s`` (a monotonic clock's seconds), ``wall`` o'clock."""
        self._samples.append((at_s, wall, threads))
        for tid in self._found.keys() & threads.keys():
            self._latest[tid] = threads[tid][1]
        while len(self._samples) > 1 and at_s - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        first_s, first_wall, first = self._samples[0]
        span = at_s - first_s
        if span < self.window_s:
            return
        for tid, (name, cpu) in threads.items():
            if tid in self._found or tid not in first or _jvm_own(name):
                continue
            if cpu - first[tid][1] >= self.share * span:
                self._found[tid] = (name, first_wall, first[tid][1], wall)
                self._latest[tid] = cpu

    def runaways(self) -> list[Runaway]:
        """Each thread found so far, with the CPU it has used since it was first seen
        running without pause."""
        return [
            Runaway(name, since, self._latest[tid] - cpu_then, found)
            for tid, (name, since, cpu_then, found) in sorted(
                self._found.items(), key=lambda f: f[1][1]
            )
        ]


def _jvm_own(name: str) -> bool:
    return name.startswith(JVM_OWN)
