"""The recording proxy between a client driver and the server it is pointed at.

A driver talks to ``RecordingProxy.url`` as if it were the server; the proxy forwards each
request to the server and hands back its answer unchanged (hop-by-hop headers aside),
recording both as one ``Exchange``: so that a call a client SDK failed on can be shown
with the response that broke it. It listens on loopback only, keeps connections alive as
clients expect, and bounds what it keeps of each body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.runner.http1 import MAX_HEADER_BYTES, Rejected, read_request, stop_serving

KEPT_BODY_CHARS = 4000  # of each request and response body, in the record
_HOP = ("connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length")
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request through the proxy and the server's answer (``status`` None: the server
    could not be reached, ``error`` says why). ``at_ms``: wall-clock milliseconds when the
    request arrived, comparable with a driver's own call times."""

    seq: int
    at_ms: int
    elapsed_ms: float
    method: str
    path: str
    query: str
    request_body: str
    status: int | None
    content_type: str | None
    body: str
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


KEPT_IN_PART = "…"  # ends a body kept only in part


def _kept(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= KEPT_BODY_CHARS else text[:KEPT_BODY_CHARS] + KEPT_IN_PART


class RecordingProxy:
    """``async with RecordingProxy(server_url) as proxy:`` then point a driver at
    ``proxy.url``; ``proxy.exchanges`` holds what passed, in arrival order."""

    def __init__(self, upstream: str, *, timeout_s: float = 60.0) -> None:
        parts = urlsplit(upstream)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._base_path = parts.path.rstrip("/")
        self._timeout_s = timeout_s
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._url: str | None = None
        self._exchanges: list[Exchange] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The proxy's URL, with the upstream URL's path: ``http://127.0.0.1:<port>/api``."""
        if self._url is None:
            raise RuntimeError("RecordingProxy is not started")
        return self._url + self._base_path

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self._exchanges)

    async def __aenter__(self) -> RecordingProxy:
        self._client = httpx.AsyncClient(
            base_url=self._origin, timeout=self._timeout_s, trust_env=False
        )
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", 0, limit=MAX_HEADER_BYTES
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        self._url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            await stop_serving(self._server, self._tasks)
            self._server = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests on one connection, one after the other, until the client closes it."""
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, TimeoutError):
                while not reader.at_eof():
                    try:
                        method, target, headers, raw = await read_request(reader, writer)
                    except Rejected as exc:
                        body = json.dumps({"error": str(exc)}).encode()
                        await _respond(writer, exc.status, {}, body, close=True)
                        return
                    close = headers.get("connection", "").lower() == "close"
                    status, answer_headers, body = await self._forward(method, target, headers, raw)
                    await _respond(writer, status, answer_headers, body, close=close)
                    if close:
                        return
        finally:
            writer.close()

    async def _forward(
        self, method: str, target: str, headers: Mapping[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._client is not None
        at_ms, began = int(time.time() * 1000), time.monotonic()
        parts = urlsplit(target)
        sent = {k: v for k, v in headers.items() if k not in (*_HOP, "host")}
        status: int | None = None
        answer_headers: dict[str, str] = {}
        body, error = b"", None
        try:
            response = await self._client.request(method, target, headers=sent, content=raw)
            status, body = response.status_code, response.content
            answer_headers = {
                k: v
                for k, v in response.headers.items()
                if k.lower() not in (*_HOP, "content-encoding")
            }
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._exchanges.append(
            Exchange(
                len(self._exchanges) + 1,
                at_ms,
                round((time.monotonic() - began) * 1000, 1),
                method,
                parts.path,
                parts.query,
                _kept(raw),
                status,
                answer_headers.get("content-type"),
                _kept(body),
                error,
            )
        )
        if status is None:
            return 502, {"content-type": "application/json"}, json.dumps({"error": error}).encode()
        return status, answer_headers, body


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    close: bool,
) -> None:
    """Write one response with its length (none where HTTP forbids a body)."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if status < 200 or status in (204, 304):
        body = b""
    else:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close" if close else "Connection: keep-alive")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
