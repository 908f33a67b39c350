"""Client runs as traces, and what broke them: on runs recorded from real servers
(fixtures/clients: conductor-python 2.0.0 and the conductor-oss Java client 4.0.10 on
netflix:3.15.0 and oss:3.32.1, as `clients run` left them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
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


def _traces(server: str, clients: tuple[str, ...] = CLIENTS) -> TraceSet:
    """The clients' runs on ``server`` as the trace set a clients run compares."""
    runs = {c: [(Path(f"{slug(c)}.trace.json"), _trace(c, server))] for c in clients}
    return TraceSet(FIXTURES, runs[clients[0]][0][1]["target"], runs)


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

    result = assess_run(_traces("netflix:3.15.0"), _traces("oss:3.32.1"), load_settings())
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


def _tasks(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if {"taskId", "workflowInstanceId", "referenceTaskName"} <= value.keys():
            yield value
        for inner in value.values():
            yield from _tasks(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _tasks(inner)


@pytest.mark.parametrize("server", SERVERS)
def test_a_task_id_is_named_after_its_workflow_reference_and_retry(server: str) -> None:
    """As the runner names one: where a task's id first shows (a worker's poll, a wait's
    last answer, a workflow's reason for failing) depends on timing and on the server."""
    tasks = [
        t for e in _trace("java-oss:4.0.10", server)["exchanges"] for t in _tasks(e.get("body"))
    ]
    assert tasks
    for task in tasks:
        workflow = task["workflowInstanceId"][1:-1]
        assert task["taskId"] == f"<{workflow}/{task['referenceTaskName']}#{task['retryCount']}>"
    assert any(t["retryCount"] == 1 for t in tasks), "the flaky task's retry is in the script"


def test_a_retried_attempt_that_keeps_its_reason_is_explained_in_the_sdk_result_too() -> None:
    """oss:3.32.1 carries the failed attempt's reason into its retry (retry-copies-reason):
    in the worker's poll and in the workflow the SDK read."""

    only = ("java-oss:4.0.10",)
    result = assess_run(
        _traces("netflix:3.15.0", only), _traces("oss:3.32.1", only), load_settings()
    )
    (java,) = result.scenarios
    reasons = [f for f in java.findings if f.difference.path.endswith(".reasonForIncompletion")]
    assert any("step SDK get_workflow_with_tasks" in f.difference.path for f in reasons)
    assert any(f.difference.path.startswith('["worker GET') for f in reasons)
    assert all(f.change and f.change["id"] == "retry-copies-reason" for f in reasons), [
        (f.difference.path, f.change and f.change["id"]) for f in reasons
    ]
    assert not [f for f in java.findings if f.disposition == "open"]
