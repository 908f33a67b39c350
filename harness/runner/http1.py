"""Minimal HTTP/1.1 request reading for the harness's own small servers (the HTTP stub,
the recording proxy in front of a client driver's server): one request off a stream, with
bounded head and body, chunked bodies and ``Expect: 100-continue``."""

from __future__ import annotations

import asyncio
import re

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 10 * 1024 * 1024
_REQUEST_LINE = re.compile(r"([A-Z]+) (/\S*) HTTP/1\.[01]")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")


async def stop_serving(server: asyncio.Server, handlers: set[asyncio.Task[None]]) -> None:
    """Stop listening, cancel the connections' handler tasks and wait until all are done
    (handlers started while waiting included)."""
    server.close()
    await asyncio.sleep(0)  # let connections accepted just before close() register
    while handlers:
        tasks = list(handlers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await server.wait_closed()


class Rejected(Exception):
    """A request refused before it is handled (400 or 413); the connection then closes."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def is_int(text: str) -> bool:
    """Whether ``text`` is a plain non-negative decimal integer."""
    return text.isascii() and text.isdigit()


async def _read_until(reader: asyncio.StreamReader, separator: bytes) -> bytes:
    """``readuntil``, turning an over-long line or head into a 413."""
    try:
        return await reader.readuntil(separator)
    except asyncio.LimitOverrunError as exc:
        raise Rejected(413, "request head or line too large") from exc


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """Read a ``Transfer-Encoding: chunked`` body, trailers included and discarded."""
    body = bytearray()
    while True:
        size_text = (await _read_until(reader, b"\r\n"))[:-2].split(b";")[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise Rejected(400, "malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            while await _read_until(reader, b"\r\n") != b"\r\n":
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise Rejected(413, "request body too large")
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise Rejected(400, "malformed chunk")


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[str, str, dict[str, str], bytes]:
    """Read one request: method, target, lower-cased headers, body bytes."""
    head = await _read_until(reader, b"\r\n\r\n")
    lines = head[:-4].decode("latin-1").split("\r\n")
    start = _REQUEST_LINE.fullmatch(lines[0])
    if start is None:
        raise Rejected(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise Rejected(400, "malformed header line")
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return start[1], start[2], headers, await _read_chunked(reader)
    length = headers.get("content-length", "0")
    if not is_int(length):
        raise Rejected(400, "malformed Content-Length")
    if int(length) > MAX_BODY_BYTES:
        raise Rejected(413, "request body too large")
    return start[1], start[2], headers, await reader.readexactly(int(length))
