"""Steps that read the server's answer to decide what to do, replaying answers that a real
netflix:3.15.0 gave (fixtures/baselines)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.conductor.client import ConductorClient
from harness.runner.namespace import Namespace
from harness.runner.steps import ExpectationFailed, RunContext, run_step
from harness.scenarios.model import Step

BASELINES = Path(__file__).resolve().parents[2] / "fixtures" / "baselines" / "netflix-3.15.0"


def recorded_parent(step_index: int) -> dict[str, Any]:
    """The parent workflow as netflix:3.15.0 answered after retry-sub-workflow's step
    ``step_index`` (its sub-workflow task failed once, then was retried)."""
    trace = json.loads((BASELINES / "retry-sub-workflow.trace.json").read_text())
    (document,) = [
        d
        for d in trace["steps"][step_index]["snapshots"]
        if sum(t["referenceTaskName"] == "call_kid" for t in d["tasks"]) == 2
    ]
    return dict(document)


def run_child(document: dict[str, Any], task: str) -> dict[str, str]:
    parent_id = document["workflowId"]

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/api/workflow/{parent_id}"
        return httpx.Response(200, json=document)

    async def go() -> dict[str, str]:
        transport = httpx.MockTransport(answer)  # replays the recorded answer
        async with ConductorClient("http://server", transport=transport) as client:
            ctx = RunContext(client, Namespace("cc0_", frozenset()), aliases={"main": parent_id})
            step = Step(0, "child", {"workflow": "main", "task": task, "as": "kid"}, 1)
            await run_step(step, ctx, 1.0)
            return ctx.aliases

    return asyncio.run(go())


def test_child_names_the_latest_attempts_sub_workflow() -> None:
    document = recorded_parent(18)
    attempts = [t for t in document["tasks"] if t["referenceTaskName"] == "call_kid"]
    assert [t["status"] for t in attempts] == ["FAILED", "IN_PROGRESS"]  # two attempts
    assert run_child(document, "call_kid")["kid"] == attempts[-1]["subWorkflowId"]


def test_child_of_a_task_that_started_nothing_is_a_failed_expectation() -> None:
    document = recorded_parent(20)  # after_kid: a worker task, no workflow of its own
    with pytest.raises(ExpectationFailed, match="has started no workflow"):
        run_child(document, "after_kid")


def run_call(status: int, text: str) -> RunContext:
    """A start call with ``as``, answered with ``status`` and ``text``."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/api/workflow")
        return httpx.Response(status, text=text)

    async def go() -> RunContext:
        async with ConductorClient("http://server", transport=httpx.MockTransport(answer)) as c:
            ctx = RunContext(c, Namespace("cc0_", frozenset({"idem_wf"})))
            body = {"name": "{{name.idem_wf}}", "version": 1}
            args = {"method": "POST", "path": "/api/workflow", "body": body, "as": "first"}
            await run_step(Step(0, "call", args, 1), ctx, 1.0)
            return ctx

    return asyncio.run(go())


def test_a_call_that_starts_a_workflow_follows_it_under_its_alias() -> None:
    """The id netflix:3.15.0 answered to api-idempotency-key's first start call."""
    trace = json.loads((BASELINES / "api-idempotency-key.trace.json").read_text())
    (answer,) = [e for e in trace["exchanges"] if e["origin"] == "step" and e["step"] == 0]
    assert answer["content_type"].startswith("text/plain")
    ctx = run_call(answer["status"], answer["body"])
    assert ctx.aliases == {"first": answer["body"]}
    assert ctx.workflow_id("first") == answer["body"]


def test_a_call_answered_with_an_error_names_no_workflow() -> None:
    ctx = run_call(409, '{"message": "a workflow with this idempotency key exists"}')
    assert ctx.aliases == {}
    with pytest.raises(ExpectationFailed, match="no workflow was started as 'first'"):
        ctx.workflow_id("first")
