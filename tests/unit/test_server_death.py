"""A server that dies mid-run: how it ended, the runs it cut short, the runs it stopped,
and how the reports and the exit message name it. No Conductor server: the runs go to a
closed port, and the runtime's probe is a stand-in or a real ``sleep`` child."""

from __future__ import annotations

import asyncio
import copy
import http.server
import io
import json
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.classify import assess_run, load_settings
from harness.cli.progress import Display
from harness.errors import ExitCode, ServerDiedError
from harness.pipeline import events as ev
from harness.pipeline.execute import Progress, _death_error
from harness.report import build_report, render_html, render_junit, render_markdown
from harness.runner import liveness, run_session
from harness.runner.liveness import lost_connection, mark_died
from harness.scenarios import require_valid
from harness.targets.death import (
    ServerDeath,
    ServerExit,
    from_container_state,
    from_returncode,
    process_probe,
)
from harness.targets.model import RunningTarget, TargetIdentity
from harness.targets.spec import parse_target
from harness.traces import finished_runs, load_trace_set, trace_errors
from tests.unit.traces import RUNS

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_LOG = "```</pre><script>alert(1)</script> [x](javascript:alert(1))"


def _death(log: Path | None = Path("/w/server.log")) -> ServerDeath:
    return ServerDeath("oss:3.21.14", from_returncode(-9), log, ("started", HOSTILE_LOG))


def test_how_a_server_ended_is_said_plainly() -> None:
    assert from_returncode(-9).describe() == "was killed by signal 9 (SIGKILL)"
    assert from_returncode(1).describe() == "exited with code 1"
    assert from_returncode(0).describe() == "exited with code 0"
    docker = from_container_state(137, oom=True)
    assert (docker.code, docker.signal_name) == (137, "SIGKILL")
    assert docker.describe() == "exited with code 137 (killed by signal 9 (SIGKILL)), out of memory"
    assert from_container_state(1).signal is None
    assert ServerExit(None).describe() == "stopped (how is not known)"
    assert from_returncode(-15).to_json() == {
        "exit_code": None,
        "signal": "SIGTERM",
        "oom": False,
        "description": "was killed by signal 15 (SIGTERM)",
    }
    assert _death().summary() == "oss:3.21.14 died mid-run: it was killed by signal 9 (SIGKILL)"


def test_the_process_probe_sees_a_child_killed_by_a_signal() -> None:
    child = subprocess.Popen(["sleep", "30"])
    probe = process_probe(child)
    try:
        assert probe() is None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert probe() == ServerExit(None, 9)
    finally:
        child.kill()
        child.wait()


def _trace(name: str = "inline.trace.json") -> dict[str, Any]:
    trace: dict[str, Any] = json.loads((RUNS / "oss-3.21.14" / name).read_text())
    return trace


def test_a_run_cut_short_is_an_error_that_names_the_death_never_a_finding() -> None:
    trace = _trace()
    trace["outcome"] = {"status": "failed_expectation", "reason": "worker lost the server"}
    mark_died(trace, _death())
    outcome = trace["outcome"]
    assert outcome["status"] == "error"
    assert outcome["reason"].startswith("oss:3.21.14 died mid-run: it was killed by signal 9")
    assert outcome["server_died"]["scenario_error"] == "failed_expectation: worker lost the server"
    assert outcome["server_died"]["log_tail"] == ["started", HOSTILE_LOG]
    assert trace_errors(trace) == []
    # the deadline's words would make it a hang, which gates: they never appear
    assert "did not finish within its deadline" not in outcome["reason"]


def test_a_lost_connection_is_a_call_with_no_answer_not_a_cancelled_one() -> None:
    trace = _trace()
    assert not lost_connection(trace)
    trace["exchanges"].append({"status": None, "error": "cancelled: the scenario ended"})
    assert not lost_connection(trace)
    trace["exchanges"].append({"status": None, "error": "ConnectError: refused"})
    assert lost_connection(trace)


def test_resume_makes_again_the_runs_a_death_cut_short(tmp_path: Path) -> None:
    for name in ("inline.trace.json", "http.trace.json"):
        shutil.copy(RUNS / "netflix-3.15.0-a" / name, tmp_path / name)
    digests = {
        n: json.loads((tmp_path / f"{n}.trace.json").read_text())["scenario"]["digest"]
        for n in ("inline", "http")
    }
    cut = json.loads((tmp_path / "http.trace.json").read_text())
    mark_died(cut, _death())
    (tmp_path / "http.trace.json").write_text(json.dumps(cut))
    assert finished_runs(tmp_path, digests) == {("inline", 1)}


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound, never listening."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


def _target(port: int, exited: ServerExit | None, log: Path) -> RunningTarget:
    """A target at ``port`` whose probe answers ``exited`` from its second call on (the
    first finds it alive, whichever of the watcher and the first run asks first)."""
    identity = TargetIdentity(
        "oss:3.21.14", "oss", "3.21.14", "process", "embedded", "memory", None, None
    )
    calls: list[None] = []

    def probe() -> ServerExit | None:
        calls.append(None)
        return exited if len(calls) > 1 else None

    return RunningTarget(
        parse_target("oss:3.21.14"), identity, f"http://127.0.0.1:{port}", 1.0, log, exited=probe
    )


def _scenarios() -> list[Any]:
    files = ["tasks/inline.yaml", "tasks/switch.yaml", "tasks/terminate.yaml"]
    return list(require_valid([ROOT / "scenarios" / f for f in files]))


def test_a_dead_server_stops_its_session(closed_port: int, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {i}\n" for i in range(30)))
    target = _target(closed_port, from_returncode(-9), log)
    summary = asyncio.run(run_session(_scenarios(), target, tmp_path / "traces", jobs=1))
    assert summary.death is not None and summary.death.exit.signal_name == "SIGKILL"
    assert summary.death.log_tail == tuple(f"line {i}" for i in range(10, 30))
    # the first run was cut short and says why; the others never started
    (first,) = summary.finished
    trace = json.loads(first.path.read_text())
    assert first.status == trace["outcome"]["status"] == "error"
    assert "ConnectError" in trace["outcome"]["server_died"]["scenario_error"]
    assert [name for name, _ in summary.not_run] == ["switch", "terminate-task"]


def test_a_live_server_keeps_its_connection_errors(
    closed_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(liveness, "CONFIRM_S", 0.2)
    target = _target(closed_port, None, tmp_path / "server.log")
    summary = asyncio.run(run_session(_scenarios()[:2], target, tmp_path / "traces", jobs=2))
    assert summary.death is None and summary.not_run == ()
    for finished in summary.finished:
        outcome = json.loads(finished.path.read_text())["outcome"]
        assert outcome["status"] == "error" and "server_died" not in outcome


def _report_with_death() -> dict[str, Any]:
    settings = load_settings()
    baseline = load_trace_set(RUNS / "netflix-3.15.0-a")
    result = assess_run(baseline, load_trace_set(RUNS / "oss-3.21.14"), settings)
    run = {
        "kind": "gate",
        "directory": "/w",
        "seconds": 3.0,
        "interrupted": _death().summary(),
        "server_deaths": [{**_death().to_json(), "not_run": 2}],
        "targets": [],
        "pending": [{"target": "oss:3.21.14", "scenario": "x", "repeat": 1}] * 2,
        "unused_baselines": [],
        "no_baseline": [],
    }
    return build_report([result], command=["gate"], complete=False, run=run)


def test_every_report_names_the_death_with_its_log_made_inert() -> None:
    report = _report_with_death()
    assert report["verdict"]["status"] != "compatible"
    assert report["verdict"]["reason"].startswith(
        "oss:3.21.14 died mid-run: it was killed by signal 9 (SIGKILL): the report covers"
    )
    markdown = render_markdown(report)
    assert "> **INCOMPLETE**: oss:3.21.14 died mid-run" in markdown
    assert "**Server died**: `oss:3.21.14` was killed by signal 9 \\(SIGKILL\\)" in markdown
    fence = "````text"  # longer than the backticks in the log
    block = markdown.split(fence, 1)[1].split("\n````\n", 1)[0]
    assert block.strip().splitlines() == ["started", HOSTILE_LOG]
    html = render_html(report)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "died mid-run" in html
    junit = render_junit(report)
    assert "SERVER DIED: oss:3.21.14 died mid-run" in junit and "started" in junit
    # report.json stays valid without the new key (older runs) and with it
    older = copy.deepcopy(report)
    del older["run"]["server_deaths"]
    from harness.report.document import report_errors

    assert report_errors(report) == [] and report_errors(older) == []


def test_the_exit_message_names_each_death_with_its_log_tail() -> None:
    progress = Progress({"oss:3.21.14": [], "oss:3.32.1": []})
    progress.deaths["oss:3.21.14"] = _death()
    error = _death_error(progress, "compare", Path("/runs/r1"))
    assert isinstance(error, ServerDiedError) and error.exit_code == ExitCode.HARNESS_ERROR
    assert error.message.startswith("oss:3.21.14 died mid-run: it was killed by signal 9")
    assert "conductor-compat compare --resume /runs/r1" in error.message
    assert "oss:3.21.14's log is /w/server.log; the last lines follow." in error.message
    assert error.details == ["started", HOSTILE_LOG]
    progress.deaths["oss:3.32.1"] = ServerDeath("oss:3.32.1", ServerExit(1), None, ())
    both = _death_error(progress, "compare", Path("/runs/r1"))
    assert "; oss:3.32.1 died mid-run: it exited with code 1." in both.message
    assert both.details[0] == "-- oss:3.21.14 --" and both.details[-1] == "-- oss:3.32.1 --"


def test_progress_says_a_target_died() -> None:
    out = io.StringIO()
    display = Display(out, mode="plain")
    display(
        ev.RunPlanned(Path("/r"), 1, (ev.TargetPlanned("oss:3.21.14", "candidate", 3, 0),), False)
    )
    display(ev.TargetDied("oss:3.21.14", _death().summary(), None, (), 2))
    assert out.getvalue().splitlines()[-1] == (
        "oss:3.21.14 died mid-run: it was killed by signal 9 (SIGKILL); "
        "2 scenario runs will not be made there"
    )
    assert display.lines["oss:3.21.14"].state == "died"


def _waited(port: int) -> dict[str, Any]:
    """A run's trace that ended on a call never answered."""
    reason = f"GET http://127.0.0.1:{port}/api/workflow/x failed: ReadTimeout: "
    return {"outcome": {"status": "error", "reason": reason}, "exchanges": []}


def test_a_server_that_answers_nothing_has_stopped_answering(tmp_path: Path) -> None:
    """A port that takes connections and never answers, its process alive: after a run
    that waited on a call, /health is asked until ``silent_s`` pass, and the server is
    named as having stopped answering, with its log's last lines, as a death is."""
    log = tmp_path / "server.log"
    log.write_text("".join(f"processUnacks() will NOT be atomic {i}\n" for i in range(30)))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections queue; nothing reads or answers them
        port = silent.getsockname()[1]
        life = liveness.Liveness(_target(port, None, log), silent_s=1.0)
        death = asyncio.run(life.confirm(_waited(port)))
    assert death is not None and death.exit.silent
    assert death.exit.silent_s is not None and death.exit.silent_s >= 1.0
    assert death.summary().startswith(
        "oss:3.21.14 stopped answering mid-run: it answered nothing (GET /health included) for"
    )
    assert death.to_json()["silent_s"] == death.exit.silent_s
    assert death.log_tail[-1] == "processUnacks() will NOT be atomic 29"
    report = _report_with(death)
    assert "**Server stopped answering**" in render_markdown(report)
    assert "SERVER STOPPED ANSWERING" in render_junit(report)


def test_a_server_that_answers_anything_is_alive(tmp_path: Path, closed_port: int) -> None:
    """Any answer, an error included, means it answers; a run that failed its expectation
    (no call left unanswered) asks nothing."""

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        life = liveness.Liveness(_target(port, None, tmp_path / "log"), silent_s=1.0)
        assert asyncio.run(life.confirm(_waited(port))) is None
        server.shutdown()
    life = liveness.Liveness(_target(closed_port, None, tmp_path / "log"), silent_s=0.5)
    failed = {"outcome": {"status": "failed_expectation", "reason": "waited 15 s"}}
    assert asyncio.run(life.confirm(failed)) is None


def _report_with(death: ServerDeath) -> dict[str, Any]:
    report = _report_with_death()
    report["run"]["server_deaths"] = [{**death.to_json(), "not_run": 2}]
    return report
