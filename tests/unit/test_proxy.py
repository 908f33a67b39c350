"""The recording proxy between a client driver and its server, over real loopback sockets:
the harness's HTTP stub stands for the server."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx

from harness.clients.proxy import KEPT_BODY_CHARS, RecordingProxy
from harness.runner.stub import HttpStub, StubRoute

ROUTES = (
    StubRoute("/api/metadata/taskdefs/x", status=404, body={"message": "no such task"}),
    StubRoute("/api/tasks/t1/log", method="GET", status=204),
    StubRoute("/api/big", body="y" * (KEPT_BODY_CHARS + 10)),
)


def test_answers_pass_unchanged_and_each_exchange_is_recorded() -> None:
    async def main() -> list[dict[str, object]]:
        async with (
            HttpStub(ROUTES) as stub,
            RecordingProxy(stub.url + "/api") as proxy,
            httpx.AsyncClient(trust_env=False, timeout=5) as client,
        ):
            assert proxy.url.endswith("/api")
            missing = await client.get(proxy.url + "/metadata/taskdefs/x")
            assert missing.status_code == 404
            assert missing.json() == {"message": "no such task"}
            echoed = await client.post(proxy.url[:-4] + "/echo?a=1", json={"k": [1, 2]})
            assert echoed.json()["body"] == {"k": [1, 2]}
            assert echoed.json()["query"] == {"a": ["1"]}
            empty = await client.get(proxy.url + "/tasks/t1/log")
            assert (empty.status_code, empty.content) == (204, b"")
            big = await client.get(proxy.url + "/big")
            assert len(big.text) == KEPT_BODY_CHARS + 10  # kept short in the record only
            return [e.to_json() for e in proxy.exchanges]

    exchanges = asyncio.run(main())
    assert [(e["seq"], e["method"], e["path"], e["status"]) for e in exchanges] == [
        (1, "GET", "/api/metadata/taskdefs/x", 404),
        (2, "POST", "/echo", 200),
        (3, "GET", "/api/tasks/t1/log", 204),
        (4, "GET", "/api/big", 200),
    ]
    assert json.loads(str(exchanges[0]["body"])) == {"message": "no such task"}
    assert exchanges[1]["query"] == "a=1"
    assert json.loads(str(exchanges[1]["request_body"])) == {"k": [1, 2]}
    assert str(exchanges[3]["body"]).endswith("…")
    assert len(str(exchanges[3]["body"])) == KEPT_BODY_CHARS + 1


def test_a_client_keeps_its_connection_across_requests() -> None:
    """SDK clients pool connections: several requests on one socket are each forwarded."""

    async def main() -> tuple[list[bytes], int]:
        async with HttpStub() as stub, RecordingProxy(stub.url) as proxy:
            port = int(proxy.url.rsplit(":", 1)[1])
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            heads = []
            for n in range(3):
                writer.write(f"GET /json/number?n={n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                heads.append(await reader.readuntil(b"\r\n\r\n"))
                length = int(heads[-1].split(b"Content-Length: ")[1].split(b"\r\n")[0])
                assert await reader.readexactly(length) == b"42"
            writer.close()
            return heads, len(proxy.exchanges)

    heads, recorded = asyncio.run(main())
    assert all(h.startswith(b"HTTP/1.1 200 OK") and b"keep-alive" in h for h in heads)
    assert recorded == 3


def test_a_server_that_cannot_be_reached_is_a_502_and_a_record_of_why() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def main() -> tuple[int, list[dict[str, object]]]:
        async with (
            RecordingProxy(f"http://127.0.0.1:{port}/api", timeout_s=2) as proxy,
            httpx.AsyncClient(trust_env=False, timeout=5) as client,
        ):
            answer = await client.get(proxy.url + "/metadata/workflow")
            return answer.status_code, [e.to_json() for e in proxy.exchanges]

    status, exchanges = asyncio.run(main())
    assert status == 502
    assert exchanges[0]["status"] is None
    assert "ConnectError" in str(exchanges[0]["error"])
