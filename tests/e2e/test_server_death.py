"""A server killed mid-run is named as such: in the traces, the reports and the exit
message, with its signal and its log's last lines; what finished before is kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import ExitCode
from tests.e2e.conftest import ROOT, assert_nothing_left, processes_mentioning

pytestmark = pytest.mark.e2e
TARGET = "netflix:3.15.0"  # the fastest to start
SCENARIOS = [
    ROOT / "scenarios" / path
    for path in (
        "tasks/inline.yaml",
        "operations/retry_restart_rerun.yaml",
        "operations/start_options.yaml",
        "operations/terminate_skip_decide.yaml",
    )
]


def _kill_after_first_trace(
    folder: Path, proc: subprocess.Popen[str], sig: signal.Signals = signal.SIGKILL
) -> None:
    """Send ``sig`` to the server's JVM once one scenario has finished (the next one is
    running: one job at a time, and the next starts before a trace is written)."""
    traces = folder / "traces" / "netflix-3.15.0"
    deadline = time.monotonic() + 180
    while not list(traces.glob("*.trace.json")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no scenario finished in time"
        time.sleep(0.05)
    servers = processes_mentioning(str(folder), servers_only=True)
    assert len(servers) == 1, servers
    os.kill(int(servers[0].split(":")[0]), sig)


def _gate_signalled(
    folder: Path, sig: signal.Signals, *, timeout_s: float
) -> tuple[str, str, subprocess.Popen[str]]:
    """A gate of SCENARIOS, one job at a time, whose server gets ``sig`` once one scenario
    has finished: its output, and the finished process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "gate", "--baselines",
         str(ROOT / "fixtures" / "runs" / "netflix-3.15.0-a"), "--candidate", TARGET,
         "--out", str(folder), "--jobs", "1", "--no-recheck", *map(str, SCENARIOS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        _kill_after_first_trace(folder, proc, sig)
        out, err = proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return out, err, proc


def test_a_server_killed_mid_run_is_named_with_its_signal_and_log(workdir: Path) -> None:
    folder = workdir / "gate"
    out, err, proc = _gate_signalled(folder, signal.SIGKILL, timeout_s=120)
    said = " ".join((out + err).split())
    # The exit message: a harness error that names the server, its signal and its log.
    assert proc.returncode == ExitCode.HARNESS_ERROR, said
    assert f"{TARGET} died mid-run: it was killed by signal 9 (SIGKILL)" in said, said
    assert "server.log; the last lines follow" in said
    assert "  | " in err  # the log tail, under the paragraph
    assert "Finish the run with: conductor-compat gate --resume" in said
    assert "Traceback" not in said and "All connection attempts failed" not in said
    # report.json: incomplete, the death with its log tail, never compatible.
    report = json.loads((folder / "report.json").read_text())
    assert report["complete"] is False
    assert report["verdict"]["status"] != "compatible"
    assert report["verdict"]["reason"].startswith(f"{TARGET} died mid-run")
    (death,) = report["run"]["server_deaths"]
    assert (death["target"], death["signal"], death["exit_code"]) == (TARGET, "SIGKILL", None)
    assert death["log_tail"] and death["log"].endswith("server.log")
    assert death["not_run"] == len(report["run"]["pending"]) >= 1
    markdown = (folder / "report.md").read_text()
    assert f"**Server died**: `{TARGET}` was killed by signal 9 \\(SIGKILL\\)" in markdown
    assert death["log_tail"][-1][:300] in markdown
    assert "SERVER DIED: " in (folder / "junit.xml").read_text()
    # The traces: what finished before the death is kept; the run cut short says why.
    traces = [
        json.loads(p.read_text()) for p in (folder / "traces" / "netflix-3.15.0").glob("*.json")
    ]
    outcomes = {t["scenario"]["name"]: t["outcome"] for t in traces}
    assert any(o["status"] == "completed" for o in outcomes.values()), outcomes
    cut = [o for o in outcomes.values() if "server_died" in o]
    assert len(cut) <= 1  # one job at a time: at most one run was in flight
    for outcome in cut:
        assert outcome["status"] == "error"
        assert outcome["server_died"]["signal"] == "SIGKILL"
        assert outcome["reason"].startswith(f"{TARGET} died mid-run")
    scenarios = {s["name"]: s for s in report["comparisons"][0]["scenarios"]}
    for name, outcome in outcomes.items():
        if outcome["status"] == "completed":
            assert scenarios[name]["verdict"] != "inconclusive", scenarios[name]
    assert_nothing_left(workdir)


def test_a_server_that_stops_answering_is_named_with_its_log(workdir: Path) -> None:
    """The server's JVM stopped (SIGSTOP) once one scenario has finished: its process runs
    on, and answers nothing. The run that waited on it ends on its read timeout, /health
    gets no answer for 30 s, and the server is named as having stopped answering, with its
    log; the runs not made are pending, and the stopped server is gone after the run."""
    folder = workdir / "gate"
    out, err, proc = _gate_signalled(folder, signal.SIGSTOP, timeout_s=240)
    said = " ".join((out + err).split())
    assert proc.returncode == ExitCode.HARNESS_ERROR, said
    assert f"{TARGET} stopped answering mid-run: it answered nothing (GET /health" in said
    assert "server.log; the last lines follow" in said
    report = json.loads((folder / "report.json").read_text())
    assert report["complete"] is False
    (death,) = report["run"]["server_deaths"]
    assert death["silent_s"] >= 30 and death["log_tail"]
    assert death["not_run"] == len(report["run"]["pending"]) >= 1
    assert "**Server stopped answering**" in (folder / "report.md").read_text()
    assert_nothing_left(workdir)
