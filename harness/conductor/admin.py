"""Administration through the REST API: bring a server back to what a fresh one shows.

``reset`` terminates and removes every running workflow, and deletes every workflow
definition, task definition and event handler. The same calls work on Netflix 3.15.0
and conductor-oss. An unexpected answer raises ``ConductorHTTPError``; a server that does
not answer, ``ConductorUnreachable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.conductor.client import ConductorClient, ConductorHTTPError


async def reset(http: ConductorClient) -> None:
    """Terminate and remove every running workflow; delete every definition and handler."""
    for definition in await _listed(http, "/api/metadata/workflow"):
        name, version = definition["name"], definition.get("version", 1)
        running = await _listed(http, f"/api/workflow/running/{name}", {"version": version})
        for workflow_id in running:
            await http.request("DELETE", f"/api/workflow/{workflow_id}", params={"reason": "reset"})
            await http.request("DELETE", f"/api/workflow/{workflow_id}/remove")
        await _gone(http, f"/api/metadata/workflow/{name}/{version}")
    for task in await _listed(http, "/api/metadata/taskdefs"):
        await _gone(http, f"/api/metadata/taskdefs/{task['name']}")
    for handler in await _listed(http, "/api/event"):
        await _gone(http, f"/api/event/{handler['name']}")


async def _listed(
    http: ConductorClient, path: str, params: Mapping[str, Any] | None = None
) -> list[Any]:
    response = await http.request("GET", path, params=params)
    if response.status_code != 200:
        raise ConductorHTTPError("GET", path, response.status_code, response.text)
    return list(response.json() or [])


async def _gone(http: ConductorClient, path: str) -> None:
    """DELETE ``path``; gone already (404) is fine."""
    response = await http.request("DELETE", path)
    if response.status_code >= 300 and response.status_code != 404:
        raise ConductorHTTPError("DELETE", path, response.status_code, response.text)
