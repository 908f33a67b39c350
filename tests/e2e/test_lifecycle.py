"""Servers come down whatever ends the run, and start failures explain themselves."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import ExitCode
from tests.e2e.conftest import assert_nothing_left, cli, processes_mentioning, require_postgres

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _spawn_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _start_up(
    workdir: Path, *targets: str, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`targets up` in the background; returns it and {target: url} once all are ready."""
    proc = _spawn_cli("targets", "up", *targets, "--for", "300", "--workdir", str(workdir), *extra)
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    while len(urls) < len(targets) and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(r"(\S+)\s+(http://127\.0\.0\.1:\d+)", line)
        if match:
            urls[match.group(1)] = match.group(2)
    assert len(urls) == len(targets), proc.communicate(timeout=60)
    return proc, urls


def test_up_then_remote_check_then_ctrl_c(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc, urls = _start_up(workdir, "oss:3.21.14")
    try:
        # A remote target with a token from the environment: the server ignores it,
        # and the token must not appear anywhere in the output.
        monkeypatch.setenv("CONDUCTOR_COMPAT_TOKEN", "s3cr3t-token")
        run = cli("targets", "check", f"remote:{urls['oss:3.21.14']}")
        assert run.code == 0, run.text
        assert run.out.startswith("PASS") and "runtime=remote" in run.out
        assert "s3cr3t-token" not in run.text
        # The same remote server as a gate's candidate, against recorded 3.15.0 baselines.
        out = workdir / "gate"
        gate = cli(
            "gate",
            "--baselines",
            str(ROOT / "fixtures" / "runs" / "netflix-3.15.0-a"),
            "--candidate",
            f"remote:{urls['oss:3.21.14']}",
            "--out",
            str(out),
            str(ROOT / "scenarios" / "tasks" / "inline.yaml"),
        )
        assert gate.code in (0, 1), gate.text
        report = json.loads((out / "report.json").read_text())
        assert report["comparisons"][0]["candidate"]["runtime"] == "remote"
        assert [s["name"] for s in report["comparisons"][0]["scenarios"]] == ["inline"]
        # Its version, from its admin config, decides which scenarios apply to it.
        candidate = report["comparisons"][0]["candidate"]
        assert (candidate["flavor"], candidate["version"]) == ("oss", "3.21.14")
        traces = workdir / "remote-traces"
        ran = cli(
            "run", "--target", f"remote:{urls['oss:3.21.14']}", "--out", str(traces),
            str(ROOT / "scenarios" / "operations" / "retry_errors_and_fork.yaml"),
        )  # fmt: skip
        assert ran.code == 0, ran.text
        outcome = json.loads((traces / "retry-errors-and-fork.trace.json").read_text())["outcome"]
        assert outcome["status"] == "not_applicable" and "3.21.23" in outcome["reason"]
        # secrets never reach a trace or a report
        for written in [*out.rglob("*"), *traces.rglob("*")]:
            if written.is_file():
                assert "s3cr3t-token" not in written.read_text(errors="replace"), written
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "stopped" in err
    assert_nothing_left(workdir)


def test_sigkill_of_the_harness_takes_its_servers_down(workdir: Path) -> None:
    proc, _ = _start_up(workdir, "netflix:3.15.0")
    assert len(processes_mentioning(str(workdir), servers_only=True)) == 1
    proc.kill()  # no cleanup code runs: the kernel's parent-death signal must do it
    proc.communicate(timeout=30)
    assert_nothing_left(workdir)


def test_sigkill_of_the_harness_takes_postgres_down_too(workdir: Path) -> None:
    require_postgres()
    proc, _ = _start_up(workdir, "oss:3.21.14", extra=("--profile", "postgres"))
    servers = processes_mentioning(str(workdir), servers_only=True)
    assert any(" -D " in line for line in servers), servers  # the postmaster, as nobody
    assert len(servers) > 2, servers  # the JVM, the postmaster and its children
    proc.kill()  # no cleanup code runs: the kernel's parent-death signals must do it
    proc.communicate(timeout=30)
    assert_nothing_left(workdir, seconds=15.0)
    from harness.targets.stale import sweep

    assert not [s for s in sweep() if str(workdir) in s]  # its record: nothing left to stop


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_start_stops_everything(workdir: Path, sig: signal.Signals) -> None:
    proc = _spawn_cli("targets", "check", "netflix:3.15.0", "oss:3.32.1", "--workdir", str(workdir))
    deadline = time.monotonic() + 60
    while (
        len(processes_mentioning(str(workdir), servers_only=True)) < 2
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert len(processes_mentioning(str(workdir), servers_only=True)) == 2  # both JVMs starting
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "Traceback" not in err
    assert_nothing_left(workdir)


def test_not_ready_in_time_shows_the_log_tail(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real server that never becomes ready for the harness, however fast the machine:
    # a Java that serves it under another context path, so /health answers 404.
    real = shutil.which("java")
    assert real is not None
    home = tmp_path / "java-home"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f'#!/bin/sh\nexec {real} -Dserver.servlet.context-path=/elsewhere "$@"\n')
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(home))
    run = cli(
        "targets", "check", "netflix:3.15.0", "--ready-timeout", "20", "--workdir", str(workdir)
    )
    assert run.code == ExitCode.SERVER_NOT_READY, run.text
    assert "did not become ready within 20 s" in run.text
    assert "/health answered 404" in run.text
    assert "Starting Conductor" in run.out  # a line from the server's log tail
    assert "Traceback" not in run.text
    assert_nothing_left(workdir)


def test_server_that_exits_during_start_shows_why(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lock that claims 3.15.0 has SQLite, which it does not: the real server exits.
    locks = tmp_path / "locks"
    locks.mkdir()
    real = json.loads(
        (Path(__file__).parents[2] / "fixtures/locks/netflix-3.15.0.json").read_text()
    )
    real["embedded_backend"] = "sqlite"
    (locks / "netflix-3.15.0.json").write_text(json.dumps(real))
    monkeypatch.setenv("CONDUCTOR_COMPAT_LOCKS", str(locks))
    run = cli("targets", "check", "netflix:3.15.0", "--workdir", str(workdir))
    assert run.code == ExitCode.SERVER_NOT_READY, run.text
    assert "exited with code" in run.text
    assert "APPLICATION FAILED TO START" in run.text or "Exception" in run.text
    assert_nothing_left(workdir)


def test_port_in_use_is_refused_before_start(workdir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = cli(
            "targets",
            "up",
            "netflix:3.15.0",
            "--port",
            str(port),
            "--for",
            "1",
            "--workdir",
            str(workdir),
        )
    assert run.code == ExitCode.PORT_IN_USE, run.text
    assert f"Port {port}" in run.text
    assert_nothing_left(workdir)
    assert os.environ.get("CONDUCTOR_COMPAT_TOKEN") is None
