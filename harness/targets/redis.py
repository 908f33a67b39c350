"""A throw-away redis-server on loopback, for the ``redis`` profile: in the server's network
namespace when it has one, so that the server reaches it there."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import RedisMissingError, ServerNotReadyError
from harness.targets import procs
from harness.targets.ports import free_port
from harness.targets.readiness import log_tail

if TYPE_CHECKING:
    from harness.targets.netns import Namespace


@dataclass(slots=True)
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        procs.stop(self.proc, grace_s=5.0)


def find_redis() -> str:
    path = shutil.which("redis-server")
    if not path:
        raise RedisMissingError(
            "The redis profile needs 'redis-server' on PATH, and it is not there. Install it "
            "(Debian/Ubuntu: 'apt-get install redis-server'), or use the default embedded "
            "profile, which needs no external service."
        )
    return path


async def start_redis(
    directory: Path, namespace: Namespace | None = None, timeout_s: float = 20.0
) -> RedisServer:
    """Start redis-server on a free loopback port (of ``namespace`` if given), nothing
    persisted, and wait for PONG."""
    executable = find_redis()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
    ]
    log = directory / "redis.log"
    if namespace is not None:
        argv = namespace.command(argv)
    proc = procs.spawn(argv, log=log, cwd=directory, env={"PATH": "/usr/bin:/bin"})
    server = RedisServer(port, proc, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if _pong(port, namespace):
            return server
        await asyncio.sleep(0.05)
    server.stop()
    raise ServerNotReadyError(
        f"redis-server on 127.0.0.1:{port} did not answer PING within {timeout_s:.0f} s.",
        details=log_tail(log),
    )


def _pong(port: int, namespace: Namespace | None = None) -> bool:
    try:
        with namespace.tcp_socket() if namespace else socket.socket() as sock:
            sock.settimeout(0.5)
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
