"""The local HTTP stub, over real loopback sockets (httpx and raw bytes)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from harness.runner.stub import DEFAULT_ROUTES, HttpStub, StubRequest, StubRoute


def run_with_stub(
    body: Callable[[HttpStub, httpx.AsyncClient], Awaitable[None]],
    routes: tuple[StubRoute, ...] = (),
) -> HttpStub:
    """Run ``body`` against a started stub and a client; return the (stopped) stub."""

    async def main() -> HttpStub:
        async with (
            HttpStub(routes) as stub,
            httpx.AsyncClient(base_url=stub.url, trust_env=False, timeout=5) as client,
        ):
            await body(stub, client)
        return stub

    return asyncio.run(main())


async def raw_exchange(url: str, data: bytes) -> bytes:
    """Send raw bytes, read the whole answer until the server closes."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


def parse_raw(response: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers and body of a raw HTTP/1.1 response."""
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    assert int(headers["content-length"]) == len(body)
    return int(status_line.split(" ")[1]), headers, body


def test_url_is_loopback_with_a_real_port() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        parts = urlsplit(stub.url)
        assert parts.scheme == "http"
        assert parts.hostname == "127.0.0.1"
        assert parts.port not in (None, 0)

    run_with_stub(body)
    with pytest.raises(RuntimeError):
        _ = HttpStub().url


def test_default_routes() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        r = await client.get("/json/array")
        assert (r.status_code, r.content) == (200, b"[1,2,3]")
        assert r.headers["content-type"] == "application/json"
        assert r.headers["connection"] == "close"
        r = await client.post("/json/number")
        assert r.content == b"42"
        r = await client.get("/json/object")
        assert r.content == b'{"a":1,"b":"two"}'
        r = await client.get("/text")
        assert r.text == "hello"
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert r.headers["content-length"] == "5"
        assert "date" not in r.headers

    run_with_stub(body)
    assert [route.path for route in DEFAULT_ROUTES][:2] == ["/echo", "/status/*"]


def test_scenario_routes_come_first_and_first_match_wins() -> None:
    routes = (
        StubRoute("/json/number", body=7),
        StubRoute("/api/*", method="POST", status=201, body={"ok": True}, headers={"X-Stub": "1"}),
        StubRoute("/api/*", body="fallback"),
        StubRoute("/csv", body="a,b", content_type="text/csv"),
    )

    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        assert (await client.get("/json/number")).json() == 7
        r = await client.post("/api/orders/1", json={})
        assert (r.status_code, r.json(), r.headers["x-stub"]) == (201, {"ok": True}, "1")
        r = await client.get("/api/orders/1")
        assert (r.status_code, r.text) == (200, "fallback")
        assert (await client.get("/api")).text == "fallback"
        assert (await client.get("/apis")).status_code == 404
        r = await client.get("/csv")
        assert (r.text, r.headers["content-type"]) == ("a,b", "text/csv")

    run_with_stub(body, routes)


def test_echo_returns_the_request() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        r = await client.put(
            "/echo?a=1&a=2&b=",
            json={"k": [1, "v"]},
            headers={"X-Trace": "t1", "Authorization": "secret", "Accept": "application/json"},
        )
        assert r.status_code == 200
        assert r.json() == {
            "method": "PUT",
            "path": "/echo",
            "query": {"a": ["1", "2"], "b": [""]},
            "headers": {
                "content-type": "application/json",
                "accept": "application/json",
                "x-trace": "t1",
            },
            "body": {"k": [1, "v"]},
        }
        r = await client.post(
            "/echo", content=b"not json", headers={"Content-Type": "application/json"}
        )
        assert r.json()["body"] == "not json"
        r = await client.post("/echo", content=b"plain", headers={"Content-Type": "text/plain"})
        assert r.json()["body"] == "plain"
        assert (await client.get("/echo")).json()["body"] is None

    run_with_stub(body)


def test_status_route() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        for code in (201, 418, 500, 503, 299):
            r = await client.get(f"/status/{code}")
            assert (r.status_code, r.json()) == (code, {"status": code})
        r = await client.delete("/status/204")
        assert (r.status_code, r.content) == (204, b"")
        for bad in ("600", "99", "abc", "", "-1", "200/x"):
            assert (await client.get(f"/status/{bad}")).status_code == 400

    run_with_stub(body)


def test_unknown_path_is_404_with_details() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        r = await client.patch("/nope?x=1")
        assert r.status_code == 404
        assert r.json() == {"error": "no stub route", "method": "PATCH", "path": "/nope"}

    stub = run_with_stub(body)
    assert stub.requests[0].route is None
    assert stub.requests[0].status == 404


def test_chunked_request_body() -> None:
    request = (
        b"POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"a":\r\n3;ext=1\r\n 1}\r\n0\r\nX-Trailer: t\r\n\r\n'
    )

    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        status, headers, payload = parse_raw(await raw_exchange(stub.url, request))
        assert status == 200
        assert headers["connection"] == "close"
        assert "date" not in headers
        assert json.loads(payload)["body"] == {"a": 1}
        assert json.loads(payload)["query"] == {"q": ["1"]}

    run_with_stub(body)


def test_expect_100_continue() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        data = b"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"
        response = await raw_exchange(stub.url, data)
        interim, _, final = response.partition(b"\r\n\r\n")
        assert interim == b"HTTP/1.1 100 Continue"
        status, _, payload = parse_raw(final)
        assert (status, json.loads(payload)["body"]) == (200, "hi")

    run_with_stub(body)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /echo\r\n\r\n", 400),
        (b"get /echo HTTP/1.1\r\n\r\n", 400),
        (b"GET /echo HTTP/2.0\r\n\r\n", 400),
        (b"GET echo HTTP/1.1\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (b"GET /echo HTTP/1.1\r\n folded: x\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX", 400),
        (b"POST /echo HTTP/1.1\r\nContent-Length: 10485761\r\n\r\n", 413),
        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA00001\r\n", 413),
        (b"GET /echo HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 413),
    ],
)
def test_bad_requests_are_refused(data: bytes, status: int) -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        got, headers, _ = parse_raw(await raw_exchange(stub.url, data))
        assert got == status
        assert headers["connection"] == "close"
        # The server is still fine afterwards.
        assert (await client.get("/json/number")).json() == 42

    stub = run_with_stub(body)
    assert [r.path for r in stub.requests] == ["/json/number"]


def test_oversized_body_sent_anyway_still_gets_a_413() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        r = await client.post("/echo", content=b"x" * (10 * 1024 * 1024 + 1))
        assert (r.status_code, r.json()) == (413, {"error": "request body too large"})
        r = await client.get("/echo", headers={"X-Big": "a" * 200_000})
        assert r.status_code == 413

    assert run_with_stub(body).requests == []


def test_client_disconnecting_mid_request_leaves_nothing_running() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        parts = urlsplit(stub.url)
        for partial in (b"", b"GET /ec", b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"):
            _, writer = await asyncio.open_connection(parts.hostname, parts.port)
            writer.write(partial)
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        for _ in range(100):
            if len(asyncio.all_tasks()) == 1:
                break
            await asyncio.sleep(0.01)
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert (await client.get("/text")).text == "hello"

    stub = run_with_stub(body)
    assert len(stub.requests) == 1


def test_delays() -> None:
    routes = (StubRoute("/late", delay_ms=200, body="late"),)

    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        started = time.monotonic()
        assert (await client.get("/late")).text == "late"
        assert time.monotonic() - started >= 0.2
        started = time.monotonic()
        assert (await client.get("/slow", params={"ms": "150"})).json() == {"slept_ms": 150}
        assert time.monotonic() - started >= 0.15
        assert (await client.get("/slow")).json() == {"slept_ms": 0}
        assert (await client.get("/slow?ms=x")).status_code == 400
        assert (await client.get("/slow?ms=-5")).status_code == 400

    run_with_stub(body, routes)


def test_requests_are_recorded_in_order() -> None:
    routes = (StubRoute("/hook/*", method="POST", status=202),)

    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        await client.post("/hook/a?x=1", json={"n": 1}, headers={"X-Id": "7"})
        await client.get("/status/503")
        await client.get("/missing")
        copy = stub.requests
        copy.clear()
        assert len(stub.requests) == 3

    stub = run_with_stub(body, routes)
    first, second, third = stub.requests
    assert first == StubRequest(
        method="POST",
        path="/hook/a",
        query={"x": ["1"]},
        headers=first.headers,
        body={"n": 1},
        route="/hook/*",
        status=202,
    )
    assert first.headers["x-id"] == "7"
    assert first.headers["content-type"] == "application/json"
    assert (second.route, second.status) == ("/status/*", 503)
    assert (third.route, third.status, third.body) == (None, 404, None)


def test_head_gets_headers_only() -> None:
    async def body(stub: HttpStub, client: httpx.AsyncClient) -> None:
        r = await client.head("/json/object")
        assert r.status_code == 200
        assert r.headers["content-length"] == str(len(b'{"a":1,"b":"two"}'))
        assert r.content == b""

    run_with_stub(body)


def test_stop_cancels_in_flight_requests_quickly() -> None:
    routes = (StubRoute("/hang", delay_ms=60_000),)

    async def main() -> float:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            stub = HttpStub(routes)
            await stub.start()
            calls = [
                asyncio.create_task(client.get(f"{stub.url}/hang")),
                asyncio.create_task(client.get(f"{stub.url}/slow?ms=30000")),
            ]
            for _ in range(500):
                if len(stub.requests) == 2:
                    break
                await asyncio.sleep(0.01)
            started = time.monotonic()
            await stub.stop()
            elapsed = time.monotonic() - started
            results: list[Any] = await asyncio.gather(*calls, return_exceptions=True)
            assert all(isinstance(r, httpx.TransportError) for r in results), results
            assert asyncio.all_tasks() == {asyncio.current_task()}
            with pytest.raises(httpx.ConnectError):
                await client.get(f"{stub.url}/text")
            return elapsed

    started = time.monotonic()
    elapsed = asyncio.run(main())
    assert elapsed < 1.0
    assert time.monotonic() - started < 3.0


def test_route_validation() -> None:
    with pytest.raises(ValueError, match="start with"):
        StubRoute("echo")
    with pytest.raises(ValueError, match=r"100\.\.599"):
        StubRoute("/x", status=600)
