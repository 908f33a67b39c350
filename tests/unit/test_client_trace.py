"""Client runs as traces, and what broke them: on runs recorded from real servers
(fixtures/clients: conductor-python 2.0.0 and the conductor-oss Java client 4.0.10 on
netflix:3.15.0 and oss:3.32.1, as `clients run` left them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.classify import assess_run, load_settings
from harness.clients.drive import DriverRun, read_run
from harness.clients.trace import SDK, WORKER_PATHS, breakages, client_trace
from harness.pipeline.plan import slug
from harness.traces import TraceSet, trace_errors

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "clients"
CLIENTS = ("python:2.0.0", "java-oss:4.0.10")
SERVERS = ("netflix:3.15.0", "oss:3.32.1")
TARGETS = json.loads((FIXTURES / "targets.json").read_text())  # as the run recorded them


def _run(client: str, server: str) -> DriverRun:
    return read_run(FIXTURES / slug(client) / slug(server), client, server, "cc_client")


def _trace(client: str, server: str) -> dict[str, Any]:
    return client_trace(
        _run(client, server),
        TARGETS[server],
        description="the client script",
        file="harness/clients/drivers",
        digest="0" * 64,
        started_at="2026-12-04T00:00:00.000+00:00",
        finished_at="2026-12-04T00:01:00.000+00:00",
    )


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("server", SERVERS)
def test_a_client_run_is_a_valid_trace_with_a_step_per_call(client: str, server: str) -> None:
    run, trace = _run(client, server), _trace(client, server)
    assert trace_errors(trace) == []
    assert [s["name"] for s in trace["steps"]] == [r["call"] for r in run.records]
    results = [e for e in trace["exchanges"] if e["method"] == SDK]
    assert [e["step"] for e in results] == list(range(len(run.records)))
    http = [e for e in trace["exchanges"] if e["method"] != SDK]
    assert len(http) == len(run.exchanges)  # every answer the proxy saw, once
    assert [e["seq"] for e in trace["exchanges"]] == list(range(len(trace["exchanges"])))
    for step, record in enumerate(run.records):  # a call's answers are those in its window
        mine = [e for e in http if e["step"] == step and e["origin"] != "worker"]
        window = [
            e
            for e in run.exchanges
            if record.get("at_ms", 0) <= e.at_ms <= record.get("end_ms", -1)
            and not e.path.startswith(WORKER_PATHS)
            and (e.method, e.path) != ("POST", "/api/tasks")
        ]
        assert len(mine) == len(window), (step, record["call"])


def test_a_broken_call_names_the_exception_and_the_answer_behind_it() -> None:
    """conductor-python 2.0.0's workers report results with POST /api/tasks/update-v2,
    which netflix:3.15.0 does not have: the call that waits for them fails, with that
    answer behind it. On oss:3.32.1 the same call succeeds."""
    broken = {b.call: b for b in breakages(_run("python:2.0.0", "netflix:3.15.0"))}
    assert "run_workers" in broken, broken
    assert "/api/tasks/update-v2 -> 500" in broken["run_workers"].response
    assert "run_workers" not in {b.call for b in breakages(_run("python:2.0.0", "oss:3.32.1"))}
    assert "run_workers" not in {
        b.call for b in breakages(_run("java-oss:4.0.10", "netflix:3.15.0"))
    }


def test_clients_compare_through_the_compare_pipeline() -> None:
    """Each client on oss:3.32.1 against the same client on netflix:3.15.0: its calls'
    results and the server's answers are api-level differences, the scrub and the catalog
    applied as for scenarios."""

    def traces(server: str) -> TraceSet:
        runs = {c: [(Path(f"{slug(c)}.trace.json"), _trace(c, server))] for c in CLIENTS}
        return TraceSet(FIXTURES, runs[CLIENTS[0]][0][1]["target"], runs)

    result = assess_run(traces("netflix:3.15.0"), traces("oss:3.32.1"), load_settings())
    assert sorted(s.name for s in result.scenarios) == sorted(CLIENTS)
    python = next(s for s in result.scenarios if s.name == "python:2.0.0")
    paths = [f.difference.path for f in python.findings]
    assert any("SDK run_workers" in p for p in paths), paths
    assert {f.difference.level for f in python.findings} == {"api"}
    # conductor-python's workers complete on oss:3.32.1 only (task-update-v2) and its
    # start_workflow_sync works there only (workflow-execute-endpoint); what the SDK gave
    # back when a server answer changed follows from that answer.
    credited = {c.change["id"] for c in result.changes}
    assert {"task-update-v2", "workflow-execute-endpoint", "unknown-task-404"} <= credited
    by_id = {f.change["id"] for f in python.findings if f.change is not None}
    assert "task-update-v2" in by_id and "workflow-execute-endpoint" in by_id
    assert not [f for f in python.findings if f.gates], "every gating difference is explained"
    sdk = [f for f in python.findings if "SDK get_unknown_task" in f.difference.path]
    assert sdk and all(f.change and f.change["id"] == "unknown-task-404" for f in sdk)
