"""The no-leftover guarantees of procs.py, on real (non-Conductor) processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from harness.targets import procs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_stop_ends_the_child_and_forgets_it(tmp_path: Path) -> None:
    proc = procs.spawn(["sleep", "60"], log=tmp_path / "log", cwd=tmp_path, env=os.environ)
    assert procs.live_count() >= 1
    procs.stop(proc, grace_s=2)
    assert proc.poll() is not None
    assert proc not in procs._live


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    script = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    proc = procs.spawn(
        [sys.executable, "-c", script], log=tmp_path / "log", cwd=tmp_path, env=os.environ
    )
    time.sleep(0.3)
    started = time.monotonic()
    assert procs.stop(proc, grace_s=0.5) == -signal.SIGKILL
    assert time.monotonic() - started < 5


def _harness_script(tmp_path: Path, ending: str) -> tuple[str, Path]:
    """A Python program that spawns ``sleep 300`` through procs, writes its pid, then ``ending``."""
    pid_file = tmp_path / "child.pid"
    script = (
        textwrap.dedent(f"""
        import os, pathlib, time
        from harness.targets import procs
        p = procs.spawn(["sleep", "300"], log=pathlib.Path({str(tmp_path / "log")!r}),
                        cwd=pathlib.Path({str(tmp_path)!r}), env=os.environ)
        pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))
    """)
        + ending
    )
    return script, pid_file


def test_children_die_when_the_harness_is_killed(tmp_path: Path) -> None:
    """SIGKILL gives Python no chance to clean up: the kernel's parent-death signal must."""
    script, pid_file = _harness_script(tmp_path, "time.sleep(300)\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    assert _alive(child)
    parent.kill()
    parent.wait()
    assert _wait_gone(child), "the child outlived a SIGKILLed harness"


def test_atexit_sweep_stops_what_the_caller_forgot(tmp_path: Path) -> None:
    script, pid_file = _harness_script(tmp_path, "raise SystemExit(3)\n")
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 3
    assert _wait_gone(int(pid_file.read_text()))
