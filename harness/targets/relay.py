"""TCP relays: the harness's only bridges between a server's network namespace and the host.

``serve`` accepts on a listening socket and, for each connection, opens the other end with
``connect`` and copies bytes both ways until both sides are done. A half-close (EOF) is
passed on; an error on either side closes both.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Connect = Callable[[], Awaitable[Streams]]
CHUNK = 64 * 1024


class Relay:
    """One listening socket relayed to whatever ``connect`` opens, per connection."""

    def __init__(self, listening: socket.socket, connect: Connect) -> None:
        self._listening = listening
        self._connect = connect
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        return int(self._listening.getsockname()[1])

    async def start(self) -> None:
        self._listening.setblocking(False)
        self._server = await asyncio.start_server(self._accept, sock=self._listening)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            far_reader, far_writer = await self._connect()
            self._writers.add(far_writer)
            try:
                await asyncio.gather(_copy(reader, far_writer), _copy(far_reader, writer))
            finally:
                _close(far_writer)
                self._writers.discard(far_writer)
        except OSError:
            pass  # the far side refused or reset: the client sees its connection closed
        except asyncio.CancelledError:
            # The loop is closing with this connection open. A handler of asyncio's
            # streams that ends cancelled is logged as an error, so it ends plainly.
            pass
        finally:
            _close(writer)
            self._writers.discard(writer)

    def close(self) -> None:
        """Stop accepting and cut every open connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _close(writer)
        self._writers.clear()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        _close(writer)


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        writer.close()


async def open_socket(sock: socket.socket, address: tuple[str, int]) -> Streams:
    """Connect ``sock`` (made in any namespace) to ``address`` and wrap it in streams."""
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock)
