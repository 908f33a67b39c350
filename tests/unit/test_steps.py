"""Steps that read the server's answer to decide what to do, on a stubbed transport."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from harness.conductor.client import ConductorClient
from harness.runner.namespace import Namespace
from harness.runner.steps import ExpectationFailed, RunContext, run_step
from harness.scenarios.model import Step


def parent(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"workflowId": "p-1", "status": "RUNNING", "tasks": tasks}


def run_child(document: dict[str, Any]) -> dict[str, str]:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/workflow/p-1"
        return httpx.Response(200, json=document)

    async def go() -> dict[str, str]:
        transport = httpx.MockTransport(answer)
        async with ConductorClient("http://server", transport=transport) as client:
            ctx = RunContext(client, Namespace("cc0_", frozenset()), aliases={"main": "p-1"})
            step = Step(0, "child", {"workflow": "main", "task": "call", "as": "kid"}, 1)
            await run_step(step, ctx, 1.0)
            return ctx.aliases

    return asyncio.run(go())


def test_child_names_the_latest_attempts_sub_workflow() -> None:
    document = parent(
        [
            {"referenceTaskName": "call", "subWorkflowId": "old", "status": "FAILED"},
            {"referenceTaskName": "call", "outputData": {"subWorkflowId": "new"}},
        ]
    )
    assert run_child(document) == {"main": "p-1", "kid": "new"}


def test_child_of_a_task_that_started_nothing_is_a_failed_expectation() -> None:
    with pytest.raises(ExpectationFailed, match="has started no workflow"):
        run_child(parent([{"referenceTaskName": "call", "status": "SCHEDULED"}]))
