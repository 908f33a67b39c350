"""A local HTTP stub: the stand-in for the external services that workflows' HTTP tasks call.

Conductor servers under test run on this machine; a scenario points their HTTP tasks at
``HttpStub.url`` and the stub answers with canned routes, echoes, chosen statuses or delays,
recording every request in arrival order. It listens on loopback only (the server's own, in
its network namespace, when it has one), answers one request per connection (always
``Connection: close``) and never sends a ``Date`` header, so answers are byte-for-byte
deterministic. Pure asyncio, minimal HTTP/1.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harness.runner.http1 import MAX_HEADER_BYTES, Rejected, is_int, read_request, stop_serving

MAX_DELAY_MS = 30_000
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@dataclass(frozen=True, slots=True)
class StubRoute:
    """One canned answer; ``path`` is exact, or a prefix when it ends in ``/*``."""

    path: str
    method: str = "ANY"
    status: int = 200
    body: Any = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    echo: bool = False
    delay_ms: int = 0

    def __post_init__(self) -> None:
        """Refuse routes that no request could reach or no client could read."""
        if not self.path.startswith("/"):
            raise ValueError(f"stub route path must start with '/': {self.path!r}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"stub route status must be 100..599: {self.status}")


@dataclass(frozen=True, slots=True)
class StubRequest:
    """One request the stub received: ``route`` is the matched pattern (None: 404)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    route: str | None
    status: int


_STATUS = StubRoute("/status/*")
_SLOW = StubRoute("/slow")
DEFAULT_ROUTES: tuple[StubRoute, ...] = (
    StubRoute("/echo", echo=True),
    _STATUS,
    StubRoute("/json/array", body=[1, 2, 3]),
    StubRoute("/json/number", body=42),
    StubRoute("/json/object", body={"a": 1, "b": "two"}),
    StubRoute("/text", body="hello"),
    _SLOW,
)


def _matches(route: StubRoute, method: str, path: str) -> bool:
    """Whether ``route`` answers ``method path`` (``/x/*`` matches ``/x`` and ``/x/...``)."""
    if route.method.upper() not in ("ANY", method):
        return False
    if route.path.endswith("/*"):
        return path == route.path[:-2] or path.startswith(route.path[:-1])
    return path == route.path


def _parse_body(raw: bytes, content_type: str) -> Any:
    """A request body as JSON when declared and valid, else text; empty -> None."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        with contextlib.suppress(ValueError):
            return json.loads(text)
    return text


def _resolve(route: StubRoute, request: StubRequest) -> StubRoute:
    """The concrete answer of a matched route: echo and the special defaults filled in."""
    if route.echo:
        shown = {
            k: v
            for k, v in request.headers.items()
            if k in ("content-type", "accept") or k.startswith("x-")
        }
        echoed = {"method": request.method, "path": request.path, "query": request.query}
        return replace(route, echo=False, body={**echoed, "headers": shown, "body": request.body})
    if route is _STATUS:
        code = request.path.removeprefix("/status/")
        if not (is_int(code) and 100 <= int(code) <= 599):
            return replace(route, status=400, body={"error": "status must be 100..599"})
        return replace(route, status=int(code), body={"status": int(code)})
    if route is _SLOW:
        ms = request.query.get("ms", ["0"])[0]
        if not is_int(ms):
            return replace(route, status=400, body={"error": "ms must be an integer >= 0"})
        slept = min(int(ms), MAX_DELAY_MS)
        return replace(route, delay_ms=slept, body={"slept_ms": slept})
    return route


async def _send(writer: asyncio.StreamWriter, route: StubRoute, *, head_only: bool = False) -> None:
    """Write one complete response; no ``Date``, always ``Connection: close``."""
    if isinstance(route.body, bytes):
        body, ctype = route.body, route.content_type or "application/octet-stream"
    elif isinstance(route.body, str):
        body, ctype = route.body.encode(), route.content_type or "text/plain; charset=utf-8"
    else:
        body = json.dumps(route.body, separators=(",", ":")).encode()
        ctype = route.content_type or "application/json"
    fields = {"content-type": ("Content-Type", ctype)}
    fields.update((name.lower(), (name, value)) for name, value in route.headers.items())
    for hop in ("content-length", "connection", "transfer-encoding", "date"):
        fields.pop(hop, None)
    if route.status < 200 or route.status in (204, 304):  # no body, no length (RFC 9110)
        body = b""
    else:
        fields["content-length"] = ("Content-Length", str(len(body)))
    fields["connection"] = ("Connection", "close")
    head = f"HTTP/1.1 {route.status} {_REASONS.get(route.status, 'Unknown')}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.values()) + "\r\n"
    writer.write(head.encode("latin-1") + (b"" if head_only else body))
    await writer.drain()


class HttpStub:
    """The stub server: ``async with HttpStub(routes) as stub:``, then call ``stub.url``."""

    def __init__(
        self,
        routes: Sequence[StubRoute] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        listen: Callable[[], socket.socket] | None = None,
    ) -> None:
        """``listen``: makes the listening socket instead (one in a server's network
        namespace, where the server reaches it); ``host`` and ``port`` are then unused."""
        self._routes = (*routes, *DEFAULT_ROUTES)
        self._host, self._port = host, port
        self._listen = listen
        self._server: asyncio.Server | None = None
        self._url: str | None = None
        self._requests: list[StubRequest] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; valid once started."""
        if self._url is None:
            raise RuntimeError("HttpStub is not started")
        return self._url

    @property
    def requests(self) -> list[StubRequest]:
        """A copy of the requests received so far, in arrival order."""
        return list(self._requests)

    async def start(self) -> None:
        """Start listening."""
        self._closing = False
        if self._listen is not None:
            sock = self._listen()
            sock.setblocking(False)
            self._server = await asyncio.start_server(
                self._accept, sock=sock, limit=MAX_HEADER_BYTES
            )
        else:
            self._server = await asyncio.start_server(
                self._accept, self._host, self._port, limit=MAX_HEADER_BYTES
            )
        host, port = self._server.sockets[0].getsockname()[:2]
        self._url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening, cancel in-flight handlers and wait for them."""
        if self._server is None:
            return
        self._closing = True
        await stop_serving(self._server, self._tasks)
        self._server = None

    async def __aenter__(self) -> HttpStub:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Start a handler task for a new connection (or drop it while stopping)."""
        if self._closing:
            writer.close()
            return
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one request on one connection, then close it."""
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, TimeoutError):
                try:
                    method, target, headers, raw = await read_request(reader, writer)
                except Rejected as exc:
                    await _send(writer, StubRoute("/", status=exc.status, body={"error": str(exc)}))
                    # Half-close and drain briefly, so the client reads the refusal, not a reset.
                    writer.write_eof()
                    async with asyncio.timeout(1):
                        while await reader.read(65536):
                            pass
                    return
                answer = self._route(method, target, headers, raw)
                await asyncio.sleep(min(answer.delay_ms, MAX_DELAY_MS) / 1000)
                await _send(writer, answer, head_only=method == "HEAD")
        finally:
            writer.close()

    def _route(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> StubRoute:
        """Match a request to its answer and record it."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        body = _parse_body(raw, headers.get("content-type", ""))
        request = StubRequest(method, parts.path, query, headers, body, None, 404)
        route = next((r for r in self._routes if _matches(r, method, parts.path)), None)
        if route is None:
            missing = {"error": "no stub route", "method": method, "path": parts.path}
            answer = StubRoute("/", status=404, body=missing)
        else:
            answer = _resolve(route, request)
            request = replace(request, route=route.path, status=answer.status)
        self._requests.append(request)
        return answer
