"""Resetting a server through the REST API (``--reuse``'s warm containers), on a fake server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from harness.conductor import ConductorClient, ConductorHTTPError, admin
from harness.targets.docker import warm
from harness.targets.docker.engine import DockerError


class FakeServer:
    """One workflow definition with a running workflow, a task definition, an event handler."""

    def __init__(self, *, refuse: str | None = None) -> None:
        self.calls: list[str] = []
        self.refuse = refuse  # a path answered 500

    def __call__(self, request: httpx.Request) -> httpx.Response:
        call = f"{request.method} {request.url.path}"
        self.calls.append(call)
        if request.url.path == self.refuse:
            return httpx.Response(500, text="boom")
        listed: dict[str, Any] = {
            "/api/metadata/workflow": [{"name": "wf", "version": 2}],
            "/api/workflow/running/wf": ["id-1"],
            "/api/metadata/taskdefs": [{"name": "t"}],
            "/api/event": [{"name": "h"}],
        }
        if request.method == "GET":
            return httpx.Response(200, content=json.dumps(listed[request.url.path]))
        if call == "DELETE /api/event/h":
            return httpx.Response(404)  # gone already is fine
        return httpx.Response(200)


def _reset(server: FakeServer) -> None:
    async def go() -> None:
        async with ConductorClient("http://fake", transport=httpx.MockTransport(server)) as http:
            await admin.reset(http)

    asyncio.run(go())


def test_a_reset_removes_workflows_then_deletes_every_definition_and_handler() -> None:
    server = FakeServer()
    _reset(server)
    assert server.calls == [
        "GET /api/metadata/workflow",
        "GET /api/workflow/running/wf",
        "DELETE /api/workflow/id-1",
        "DELETE /api/workflow/id-1/remove",
        "DELETE /api/metadata/workflow/wf/2",
        "GET /api/metadata/taskdefs",
        "DELETE /api/metadata/taskdefs/t",
        "GET /api/event",
        "DELETE /api/event/h",
    ]


@pytest.mark.parametrize("refused", ["/api/metadata/taskdefs", "/api/metadata/taskdefs/t"])
def test_a_refused_call_is_a_conductor_error(refused: str) -> None:
    with pytest.raises(ConductorHTTPError, match="answered 500: boom") as caught:
        _reset(FakeServer(refuse=refused))
    assert caught.value.status == 500


def test_the_warm_runtime_says_which_server_it_could_not_reset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refused(http: ConductorClient) -> None:
        raise ConductorHTTPError("GET", "/api/event", 503, "busy")

    monkeypatch.setattr(admin, "reset", refused)
    with pytest.raises(DockerError, match="reset the warm server box: GET /api/event answered 503"):
        asyncio.run(warm.reset("http://127.0.0.1:9", "box"))
