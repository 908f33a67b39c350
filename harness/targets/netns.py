"""Network isolation that the kernel enforces: each server in a network namespace of its own.

A new network namespace holds one interface, its loopback, and no route: a process in it
can connect to sockets of the same namespace and to nothing else. The harness puts there
what a server may reach, and nothing more:

- the HTTP stub of each scenario run: a listening socket the harness makes inside the
  namespace (``listen``), at 127.0.0.1 there;
- the store of the redis or postgres profile (redis-server, PostgreSQL), started inside;
- with ``--allow-outbound``, each HOST:PORT that the run's scenarios declare
  (``allow_outbound: [HOST:PORT]``): the address is added to the namespace's loopback,
  and the harness relays each connection made to it to the real host.

The server's own port is forwarded from 127.0.0.1 on the host (``forward_in``), so the
harness, and the user of ``targets up``, reach it on loopback as without isolation. Any
other connection fails in the server at once (``Network is unreachable``) and the kernel
counts it (``OutNoRoutes`` of the namespace's ``/proc/net/snmp``): the report's blocked
calls.

The namespace exists while a process or socket is in it: the holder process, the JVM and
its store (each killed by the kernel if the harness dies: ``procs``), and the harness's
own sockets. A run killed with SIGKILL leaves nothing: no interface, no rule, no mount.
Under the docker runtime the namespace is the container's (``--network none``).
"""

from __future__ import annotations

import asyncio
import ctypes
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInputError, HarnessError, PrerequisiteMissingError
from harness.targets import procs
from harness.targets.model import Isolation
from harness.targets.relay import Connect, Relay, Streams, open_socket

CLONE_NEWNET = 0x40000000
_SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
TOOLS = ("unshare", "nsenter", "ip")
_ENDPOINT = re.compile(r"([A-Za-z0-9.-]+):([0-9]{1,5})")
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


class IsolationError(PrerequisiteMissingError):
    """Servers cannot be isolated here, and the run did not say to go on without."""


def unavailable() -> str | None:
    """Why this machine cannot isolate servers (``None``: it can)."""
    if os.geteuid() != 0:
        return f"network namespaces need root, and conductor-compat runs as uid {os.geteuid()}"
    for tool in TOOLS:
        if tool_path(tool) is None:
            return f"'{tool}' is not on PATH (Debian: util-linux, iproute2)"
    return None


def tool_path(name: str) -> str | None:
    """``name`` on PATH, or where Debian puts it (a test may empty PATH)."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:{_SYSTEM_PATH}")


def require_isolation(isolation: Isolation, runtime: str) -> None:
    """Refuse to start a server unisolated unless the run says so (``--no-isolation``)."""
    why = unavailable() if isolation.enforce else None
    if why:
        raise IsolationError(
            f"The {runtime} runtime cannot isolate servers from the network here: {why}. Run "
            "as root, or pass --no-isolation to run them unisolated (a workflow can then "
            "reach any host; the report says isolation was not enforced)."
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A HOST:PORT a scenario declares, and the IPv4 address the harness resolved it to."""

    host: str
    port: int
    address: str

    @property
    def is_name(self) -> bool:
        return self.host != self.address

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_endpoint(text: str) -> tuple[str, int]:
    """``"10.0.0.5:8080"`` -> ``("10.0.0.5", 8080)``; a host name or IPv4 address, a port."""
    match = _ENDPOINT.fullmatch(text.strip())
    port = int(match.group(2)) if match else 0
    if not match or not 0 < port < 65536:
        raise BadInputError(f"'{text}' is not HOST:PORT (an IPv4 address or a name, a port)")
    return match.group(1).lower(), port


def resolve(texts: Iterable[str]) -> list[Endpoint]:
    """Each declared HOST:PORT with its address (names resolved here, IPv4 only)."""
    endpoints = []
    for text in dict.fromkeys(texts):
        host, port = parse_endpoint(text)
        try:
            address = str(ipaddress.IPv4Address(host))
        except ValueError:
            try:
                address = str(socket.getaddrinfo(host, port, socket.AF_INET)[0][4][0])
            except OSError as exc:
                raise BadInputError(f"The declared host {host} does not resolve: {exc}") from exc
        endpoints.append(Endpoint(host, port, str(address)))
    return endpoints


def hosts_file(endpoints: Sequence[Endpoint], hostname: str) -> str | None:
    """The JVM's hosts file (``-Djdk.net.hosts.file``) when a name is declared: the server
    has no DNS in its namespace, so declared names resolve from this file alone."""
    named = [e for e in endpoints if e.is_name]
    if not named:
        return None
    lines = ["127.0.0.1 localhost", f"127.0.0.1 {hostname}"]
    lines += [f"{e.address} {e.host}" for e in named]
    return "\n".join(dict.fromkeys(lines)) + "\n"


def describe(isolation: Isolation, endpoints: Sequence[Endpoint]) -> str:
    """What the trace and report say of a target's isolation."""
    if not isolation.enforce:
        return "not enforced (--no-isolation)"
    allowed = ", ".join(str(e) for e in endpoints)
    return "enforced (network namespace" + (f"; outbound to {allowed})" if allowed else ")")


class Namespace:
    """A network namespace, by its ``/proc/PID/ns/net`` path."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.path = Path(f"/proc/{pid}/ns/net")
        self._relays: list[Relay] = []
        self._start = 0

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return [_tool("nsenter"), f"--net={self.path}", "--", *argv]

    def tcp_socket(self) -> socket.socket:
        """A TCP socket that belongs to the namespace, wherever it is used from.

        The calling thread enters the namespace for the ``socket()`` call alone."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(self.path, os.O_RDONLY)
            try:
                _setns(target)
                try:
                    return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                finally:
                    _setns(own)
            finally:
                os.close(target)
        finally:
            os.close(own)

    def listen(self, host: str = "127.0.0.1", port: int = 0) -> socket.socket:
        """A listening socket at ``host:port`` inside the namespace (the stub's)."""
        sock = self.tcp_socket()
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        return sock

    def refused(self) -> int | None:
        """Connections and datagrams refused for want of a route since ``mark``."""
        try:
            lines = (Path(f"/proc/{self.pid}/net/snmp")).read_text().splitlines()
        except OSError:
            return None
        names, values = (line.split() for line in lines if line.startswith("Ip:"))
        return int(values[names.index("OutNoRoutes")]) - self._start

    def mark(self) -> None:
        """Count blocked calls from now on (start-up is not a workflow's doing)."""
        self._start = 0
        self._start = self.refused() or 0

    def up(self) -> None:
        _run(self.command([_tool("ip"), "link", "set", "lo", "up"]))

    async def forward_in(self, inside: int, outside: int) -> int:
        """Relay 127.0.0.1:``outside`` on the host (0: a free port) to 127.0.0.1:``inside``
        in the namespace; the port on the host."""
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", outside))
        listening.listen(128)

        async def connect() -> Streams:
            return await open_socket(self.tcp_socket(), ("127.0.0.1", inside))

        return await self._relay(listening, connect)

    async def allow(self, endpoint: Endpoint) -> None:
        """Let the namespace reach ``endpoint``: its address on the namespace's loopback,
        each connection to it relayed by the harness to the real host."""
        address = f"{endpoint.address}/32"
        if endpoint.address != "127.0.0.1":
            add = [_tool("ip"), "address", "add", address, "dev", "lo"]
            _run(self.command(add), ok_if="File exists")

        async def connect() -> Streams:
            return await asyncio.open_connection(endpoint.address, endpoint.port)

        await self._relay(self.listen(endpoint.address, endpoint.port), connect)

    async def _relay(self, listening: socket.socket, connect: Connect) -> int:
        relay = Relay(listening, connect)
        await relay.start()
        self._relays.append(relay)
        return relay.port

    def close(self) -> None:
        """Close the harness's relays (the processes are stopped by their owners)."""
        for relay in self._relays:
            relay.close()
        self._relays.clear()


async def create(run_dir: Path, endpoints: Sequence[Endpoint], stack: AsyncExitStack) -> Namespace:
    """A new namespace, held by a process that dies with the harness, opened to
    ``endpoints``; stopped on ``stack``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    # The holder names the run folder on its command line, as the servers do.
    holder_argv = [_tool("unshare"), "--net", "--", sys.executable, "-c", _PAUSE, str(run_dir)]
    holder = procs.spawn(
        holder_argv, log=run_dir / "netns.log", cwd=run_dir, env={"PATH": "/usr/bin:/bin"}
    )
    stack.callback(procs.stop, holder, 5.0)
    namespace = Namespace(holder.pid)
    own = os.stat("/proc/self/ns/net").st_ino
    deadline = time.monotonic() + 10
    while _inode(namespace.path) in (own, None):
        if holder.poll() is not None or time.monotonic() > deadline:
            raise HarnessError(
                "Could not create a network namespace for the server "
                f"(unshare --net exited with {holder.poll()}); see {run_dir / 'netns.log'}"
            )
        await asyncio.sleep(0.01)
    namespace.up()
    stack.callback(namespace.close)
    for endpoint in endpoints:
        await namespace.allow(endpoint)
    return namespace


async def attach(pid: int, endpoints: Sequence[Endpoint], stack: AsyncExitStack) -> Namespace:
    """The namespace of process ``pid`` (a container's), opened to ``endpoints``; its relays
    closed on ``stack``."""
    space = Namespace(pid)
    stack.callback(space.close)
    for endpoint in endpoints:
        await space.allow(endpoint)
    return space


_PAUSE = "import signal, sys; signal.pause()"


def _tool(name: str) -> str:
    return tool_path(name) or name


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def _run(argv: Sequence[str], ok_if: str | None = None) -> None:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0 and not (ok_if and ok_if in done.stderr):
        raise HarnessError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
