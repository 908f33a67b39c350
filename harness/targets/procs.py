"""Child processes that cannot outlive the run that started them.

Three layers, because any one can be skipped by the way a run ends:

1. the caller stops what it started (``stop``) in a ``finally`` or exit stack;
2. an ``atexit`` sweep stops every child still registered (an uncaught exception,
   ``sys.exit``, SIGTERM turned into ``SystemExit`` by the CLI);
3. the kernel: each child is started with ``PR_SET_PDEATHSIG=SIGKILL``, so even if
   this Python process is killed with SIGKILL, the JVM, redis-server and PostgreSQL die
   with it (PostgreSQL runs as another user: setpriv sets the signal again after the
   change, ``postgres``).

Children run in their own session, so a Ctrl-C in the terminal reaches conductor-compat
only, and it stops the servers in order instead of them dying mid-write.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_live: set[subprocess.Popen[bytes]] = set()


def die_with_parent() -> None:
    """``preexec_fn``: the kernel SIGKILLs the child when its parent thread exits."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(
    argv: Sequence[str], *, log: Path, cwd: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdout and stderr appended to ``log``.

    Call it from the thread that lives for the whole run (the event loop's): the
    kernel's parent-death signal fires when the *thread* that forked exits.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads fork here
        )
    _live.add(proc)
    return proc


def stop(
    proc: subprocess.Popen[bytes], grace_s: float = 15.0, first: signal.Signals = signal.SIGTERM
) -> int | None:
    """Signal the child's process group (``first``: SIGTERM unless the program stops on
    another; SIGCONT after it, so that a stopped process acts on it), SIGKILL it after
    ``grace_s``; return its exit code."""
    try:
        if proc.poll() is None:
            _signal_group(proc, first)
            _signal_group(proc, signal.SIGCONT)
            deadline = time.monotonic() + grace_s
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if proc.poll() is None:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
        # The group may hold grandchildren even after the leader exited.
        _signal_group(proc, signal.SIGKILL)
        return proc.returncode
    finally:
        _live.discard(proc)


def signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send ``sig`` to the child's process group (an upgrade's kill -9 of its old server)."""
    _signal_group(proc, sig)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def live_count() -> int:
    return sum(1 for p in _live if p.poll() is None)


@atexit.register
def stop_all() -> None:
    """Stop every child still registered (the ``atexit`` layer)."""
    for proc in list(_live):
        stop(proc, grace_s=5.0)
