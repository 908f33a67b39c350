"""The Conductor REST calls conductor-compat makes, over one ``httpx.AsyncClient``.

Only the endpoints that are the same on Netflix 3.15.0 and conductor-oss are wrapped
here; everything else goes through ``request``. httpx's transport errors become
``ConductorUnreachable``; a non-2xx answer becomes ``ConductorHTTPError`` with the
status and body, so callers never see httpx types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from harness.errors import HarnessError

JSON = Any

# Request extension under which a call carries its path template
# (``/api/workflow/{workflowId}``), for whoever records the exchange.
TEMPLATE_KEY = "conductor_compat.template"


class ConductorUnreachable(HarnessError):
    """The server did not answer (connection refused, reset, timed out)."""


class ConductorHTTPError(HarnessError):
    """The server answered with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} answered {status}: {body[:300]}")
        self.status = status
        self.body = body


class ConductorClient:
    """Async client for one server. Use as ``async with ConductorClient(url) as c:``."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            # identity: recorded bodies are the bytes the server sent, never compressed
            headers={"Accept-Encoding": "identity", **dict(headers or {})},
            timeout=timeout_s,
            transport=transport,
            trust_env=False,  # never route through a proxy from the environment
        )

    async def __aenter__(self) -> ConductorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def retarget(self, base_url: str) -> None:
        """Send every later request to ``base_url``: another server that answers for the
        same store (an in-place upgrade), with the same headers and transport."""
        self.base_url = base_url.rstrip("/")
        self._http.base_url = httpx.URL(self.base_url)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON = None,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        content: str | None = None,
        timeout_s: float | None = None,
        template: str | None = None,
    ) -> httpx.Response:
        """Send one request and return the response, whatever its status.

        ``template`` names the endpoint (``/api/workflow/{workflowId}``) for recording.
        """
        kwargs: dict[str, Any] = {"params": params}
        if template is not None:
            kwargs["extensions"] = {TEMPLATE_KEY: template}
        if json is not None:
            kwargs["json"] = json
        if content is not None:
            kwargs["content"] = content
            kwargs["headers"] = {"Content-Type": "text/plain"}
        if timeout_s is not None:
            kwargs["timeout"] = timeout_s
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ConductorUnreachable(
                f"{method} {self.base_url}{path} failed: {type(exc).__name__}: {exc}"
            ) from exc

    async def _ok(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise ConductorHTTPError(method, path, response.status_code, response.text)
        return response

    # --- health and metadata -------------------------------------------------------
    async def health(self) -> tuple[int, JSON]:
        response = await self.request("GET", "/health", timeout_s=5.0)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    async def list_task_defs(self) -> list[JSON]:
        return list((await self._ok("GET", "/api/metadata/taskdefs")).json())

    async def register_task_defs(self, defs: list[JSON]) -> None:
        await self._ok("POST", "/api/metadata/taskdefs", json=defs)

    async def register_workflow_def(self, definition: JSON) -> None:
        await self._ok("POST", "/api/metadata/workflow", json=definition)

    async def delete_workflow_def(self, name: str, version: int) -> None:
        await self._ok("DELETE", f"/api/metadata/workflow/{name}/{version}")

    async def delete_task_def(self, name: str) -> None:
        await self._ok("DELETE", f"/api/metadata/taskdefs/{name}")

    # --- workflows -------------------------------------------------------------------
    async def start_workflow(
        self, name: str, workflow_input: JSON, version: int | None = None
    ) -> str:
        params = {"version": version} if version is not None else None
        response = await self._ok(
            "POST", f"/api/workflow/{name}", json=workflow_input, params=params
        )
        return response.text.strip().strip('"')

    async def get_workflow(self, workflow_id: str, include_tasks: bool = True) -> JSON:
        params = {"includeTasks": str(include_tasks).lower()}
        return (await self._ok("GET", f"/api/workflow/{workflow_id}", params=params)).json()

    async def remove_workflow(self, workflow_id: str) -> None:
        await self._ok("DELETE", f"/api/workflow/{workflow_id}/remove")

    # --- tasks -------------------------------------------------------------------------
    async def poll_batch(
        self, task_type: str, worker_id: str, count: int = 1, timeout_ms: int = 100
    ) -> list[JSON]:
        params = {"workerid": worker_id, "count": count, "timeout": timeout_ms}
        response = await self.request(
            "GET",
            f"/api/tasks/poll/batch/{task_type}",
            params=params,
            timeout_s=timeout_ms / 1000 + 30,
        )
        if response.status_code == 204 or not response.content:
            return []
        if response.status_code >= 300:
            raise ConductorHTTPError(
                "GET", f"/api/tasks/poll/batch/{task_type}", response.status_code, response.text
            )
        return list(response.json())

    async def update_task(self, result: JSON) -> None:
        await self._ok("POST", "/api/tasks", json=result)
