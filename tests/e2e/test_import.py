"""`conductor-compat import` against real servers: the imported corpus runs on netflix
3.15.0 (each scenario completes or is reported not applicable, in bounded time), and a
team's own workflows are pulled from a running server, with a token, and run there."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness.errors import ExitCode
from harness.scenarios import load_all
from harness.traces import trace_errors
from tests.e2e.conftest import assert_nothing_left, cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "scenarios" / "corpus" / "conductor-oss-e2e"
TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}
BUDGET_S = 240  # the corpus on one version, server start included


def test_the_imported_corpus_runs_on_netflix(workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "traces"
    began = time.monotonic()
    run = cli(
        "run", "--target", "netflix:3.15.0", "--out", str(out), "--workdir", str(workdir),
        str(CORPUS), timeout=BUDGET_S + 60,
    )  # fmt: skip
    elapsed = time.monotonic() - began
    assert run.code == ExitCode.OK, run.text  # completed or not applicable, nothing else
    assert elapsed < BUDGET_S, f"{elapsed:.0f} s"
    scenarios = load_all([CORPUS]).scenarios
    traces = {
        p.name.removesuffix(".trace.json"): json.loads(p.read_text())
        for p in out.glob("*.trace.json")
    }
    assert set(traces) == {s.name for s in scenarios}
    ran = 0
    for scenario in scenarios:
        trace = traces[scenario.name]
        assert trace_errors(trace) == [], scenario.name
        applies, why = scenario.applicability("netflix", "3.15.0")
        outcome = trace["outcome"]
        if not applies:
            assert outcome == {"status": "not_applicable", "reason": why}, scenario.name
            continue
        ran += 1
        assert outcome["status"] == "completed", (scenario.name, outcome)
        last = trace["steps"][-1]
        if last.get("name") == "the workflow ends":  # not a scenario that records a stop
            main = last["snapshots"][0]
            assert main["status"] in TERMINAL, scenario.name
    assert ran >= 20  # most of the corpus runs on the archived version too
    assert_nothing_left(workdir)


def _start_up(workdir: Path, target: str) -> tuple[subprocess.Popen[str], str]:
    """A server for `run --target remote:URL`, whose HTTP tasks call the stub on this host's
    loopback: an isolated server reaches nothing outside its namespace, so not isolated."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "targets", "up", target, "--for", "300",
         "--no-isolation", "--workdir", str(workdir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(r"(\S+)\s+(http://127\.0\.0\.1:\d+)", line)
        if match:
            return proc, match.group(2)
    proc.send_signal(signal.SIGINT)
    raise AssertionError(proc.communicate(timeout=60))


TEAM_DEFINITIONS = [
    {"name": "imp_child", "version": 1, "schemaVersion": 2,
     "tasks": [{"name": "imp_work", "taskReferenceName": "work", "type": "SIMPLE",
                "inputParameters": {"who": "${workflow.input.who}"}}],
     "outputParameters": {"who": "${work.output.who}"}},
    {"name": "imp_orders", "version": 1, "schemaVersion": 2,
     "tasks": [
         {"name": "fetch", "taskReferenceName": "fetch", "type": "HTTP",
          "inputParameters": {"http_request": {
              "uri": "https://orders.example.com/v1/orders/${workflow.input.order}",
              "method": "GET"}}},
         {"name": "approve", "taskReferenceName": "approve", "type": "HUMAN"},
         {"name": "child", "taskReferenceName": "child", "type": "SUB_WORKFLOW",
          "subWorkflowParam": {"name": "imp_child", "version": 1},
          "inputParameters": {"who": "${workflow.input.who}"}}]},
]  # fmt: skip


def test_import_from_a_running_server(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc, url = _start_up(workdir, "oss:3.21.14")
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            task_def = {"name": "imp_work", "retryCount": 1, "ownerEmail": "t@x.io"}
            assert client.post("/api/metadata/taskdefs", json=[task_def]).status_code == 200
            assert client.put("/api/metadata/workflow", json=TEAM_DEFINITIONS).status_code == 200
        monkeypatch.setenv("CONDUCTOR_COMPAT_TOKEN", "s3cr3t-token")
        out = tmp_path / "imported"
        run = cli(
            "import", "--from", f"remote:{url}", "--name", "imp_ord*", "--prefix", "team.",
            "--out", str(out),
        )  # fmt: skip
        assert run.code == ExitCode.OK, run.text
        (path,) = out.glob("*.yaml")
        text = path.read_text()
        assert path.name == "imp_orders.yaml" and "name: team.imp_orders" in text
        assert "https://orders.example.com/v1/orders/${workflow.input.order}" in text
        assert "uri: http://stub/v1/orders/_" in text
        assert "name: imp_child" in text and "retryCount: 1" in text  # child and task def
        assert "s3cr3t-token" not in text + run.text
        traces = tmp_path / "traces"
        played = cli("run", "--target", f"remote:{url}", "--out", str(traces), str(out))
        assert played.code == ExitCode.OK, played.text
        trace = json.loads((traces / "team.imp_orders.trace.json").read_text())
        assert trace["outcome"]["status"] == "completed"
        parent, child = trace["steps"][-1]["snapshots"]
        assert (parent["status"], child["status"]) == ("COMPLETED", "COMPLETED")
        assert [r["path"] for r in trace["stub_requests"]] == ["/v1/orders/_"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert_nothing_left(workdir)
