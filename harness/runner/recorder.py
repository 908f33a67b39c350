"""Record every REST exchange of a scenario run, at the httpx transport seam.

The runner's calls carry a path template (``/api/workflow/{workflowId}``) in the
request's extensions; the *origin* of a call (a step, a worker, the settle loop, the
final capture) comes from a context variable, which asyncio copies into every task a
step or worker starts. Nothing here interprets Conductor's answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hashlib
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

TEMPLATE_KEY = "conductor_compat.template"
BODY_LIMIT = 1_000_000  # bodies larger than this are kept as a digest and their size
# Repeated status polls (settle and wait loops, lookups): their bodies are the snapshots
# recorded after each step, so the exchange keeps only a digest.
DIGEST_ONLY = frozenset({"settle", "wait", "lookup"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Who made a call: setup, step, wait, lookup, worker, settle, capture or cleanup."""

    kind: str
    step: int | None = None


SETUP = Origin("setup")
ORIGIN: contextvars.ContextVar[Origin] = contextvars.ContextVar(
    "conductor_compat_origin",
    default=SETUP,
)


def decode_body(content: bytes, content_type: str | None) -> Any:
    """JSON when it parses as JSON, else text; None when empty."""
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    if content_type and "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


@contextlib.contextmanager
def origin(kind: str, step: int | None = None) -> Iterator[None]:
    """Mark the calls made inside the block (and tasks started there) as ``kind``."""
    token = ORIGIN.set(Origin(kind, step if step is not None else ORIGIN.get().step))
    try:
        yield
    finally:
        ORIGIN.reset(token)


@functools.cache
def tls() -> ssl.SSLContext:
    """httpx's default TLS context (the certifi CAs), made once: loading the CAs anew for
    each scenario's transport cost several percent of a run's CPU."""
    return httpx.create_ssl_context()


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and appends one exchange (a JSON-ready dict) per request."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport | None = None, *, keep_poll_bodies: bool = False
    ) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport(verify=tls(), trust_env=False)
        self.exchanges: list[dict[str, Any]] = []
        self._started = time.monotonic()
        self._keep_poll_bodies = keep_poll_bodies

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = ORIGIN.get()
        began = time.monotonic()
        entry: dict[str, Any] = {
            "seq": len(self.exchanges),
            "origin": origin.kind,
            "step": origin.step,
            "method": request.method,
            "path_template": request.extensions.get(TEMPLATE_KEY, request.url.path),
            "path": request.url.path,
            "query": request.url.query.decode() or None,
            "request_content_type": request.headers.get("content-type"),
            "request_body": decode_body(request.content, request.headers.get("content-type")),
            "at_s": round(began - self._started, 4),
        }
        self.exchanges.append(entry)
        try:
            response = await self._inner.handle_async_request(request)
            body = await response.aread()
        except httpx.TransportError as exc:
            entry.update(status=None, error=f"{type(exc).__name__}: {exc}")
            entry["elapsed_ms"] = round((time.monotonic() - began) * 1000, 1)
            raise
        except asyncio.CancelledError:  # a worker's poll when the scenario ended
            entry.update(status=None, error="cancelled: the scenario ended during the call")
            entry["elapsed_ms"] = round((time.monotonic() - began) * 1000, 1)
            raise
        content_type = response.headers.get("content-type")
        entry["status"] = response.status_code
        entry["content_type"] = content_type
        entry["elapsed_ms"] = round((time.monotonic() - began) * 1000, 1)
        if origin.kind in DIGEST_ONLY and not self._keep_poll_bodies:
            entry["body_sha256"] = hashlib.sha256(body).hexdigest()
        elif len(body) > BODY_LIMIT:
            entry["body_sha256"] = hashlib.sha256(body).hexdigest()
            entry["body_size"] = len(body)
        else:
            entry["body"] = decode_body(body, content_type)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=body,
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
