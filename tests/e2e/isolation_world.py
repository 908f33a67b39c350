"""The outside world of the isolation tests, made by the tests themselves: never a real host.

- a network namespace of the test's own, linked to the host by a veth pair (host side
  ``gateway``, namespace side ``address``), holding two listeners: ``declared`` (the
  scenario lists it in ``allow_outbound``) and ``undeclared``;
- two listeners of the host: on 127.0.0.1, and on every address (0.0.0.0), reached at
  the veth's host-side address, a gateway as a server would see it.

Each listener counts the connections it accepts and answers ``reached``.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.targets.procs import die_with_parent

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nreached"

# Runs in the test's namespace: listen on ADDRESS at two ports, print one line per
# connection accepted (its port), answer each.
_LISTENER = """
import socket, sys, threading, time
ANSWER = b"HTTP/1.1 200 OK\\r\\nContent-Length: 7\\r\\nConnection: close\\r\\n\\r\\nreached"
address, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
def serve(port):
    while True:
        try:
            server = socket.create_server((address, port))
            break
        except OSError:
            time.sleep(0.02)  # the address is not there yet
    print("listening", port, flush=True)
    while True:
        conn, _ = server.accept()
        print("accepted", port, flush=True)
        conn.settimeout(2)
        try:
            conn.recv(65536)
            conn.sendall(ANSWER)
        except OSError:
            pass
        conn.close()
for port in ports:
    threading.Thread(target=serve, args=(port,), daemon=True).start()
while True:
    time.sleep(3600)
"""


@dataclass
class HostListener:
    """A listener of the host, counting connections in a thread."""

    host: str
    sock: socket.socket = field(init=False)
    accepted: int = 0

    def __post_init__(self) -> None:
        self.sock = socket.create_server((self.host, 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(ANSWER)
                except OSError:
                    pass


@dataclass
class World:
    gateway: str  # the host's side of the veth pair
    address: str  # the test namespace's side, where its listeners are
    declared_port: int
    undeclared_port: int
    loopback: HostListener  # 127.0.0.1 of the host
    wildcard: HostListener  # 0.0.0.0 of the host, called at ``gateway``
    log: Path

    def accepted(self, port: int) -> int:
        lines = self.log.read_text().splitlines()
        return sum(1 for line in lines if line == f"accepted {port}")

    def urls(self) -> dict[str, str]:
        """What the workflows call, by name."""
        return {
            "declared": f"http://{self.address}:{self.declared_port}/",
            "undeclared": f"http://{self.address}:{self.undeclared_port}/",
            "loopback": f"http://127.0.0.1:{self.loopback.port}/",
            "gateway": f"http://{self.gateway}:{self.wildcard.port}/",
        }

    def received(self) -> dict[str, int]:
        return {
            "declared": self.accepted(self.declared_port),
            "undeclared": self.accepted(self.undeclared_port),
            "loopback": self.loopback.accepted,
            "gateway": self.wildcard.accepted,
        }


def _run(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, text=True)


@contextmanager
def outside_world(folder: Path) -> Iterator[World]:
    """The test's namespace and listeners; all gone on exit (the namespace dies with its
    one process, and its veth pair with it)."""
    block = random.randrange(0, 256) * 256 + random.randrange(0, 64) * 4
    gateway = f"10.251.{block // 256}.{block % 256 + 1}"
    address = f"10.251.{block // 256}.{block % 256 + 2}"
    ports = (random.randrange(20000, 30000), random.randrange(30000, 40000))
    log = folder / "listener.log"
    with log.open("w") as out:
        holder = subprocess.Popen(
            ["unshare", "--net", "--", sys.executable, "-c", _LISTENER, address, *map(str, ports)],
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads fork here
        )
    host_side, ns_side = f"ccw{os.getpid() % 100000}", f"ccn{os.getpid() % 100000}"
    loopback, wildcard = HostListener("127.0.0.1"), HostListener("0.0.0.0")
    try:
        own = os.stat("/proc/self/ns/net").st_ino
        while os.stat(f"/proc/{holder.pid}/ns/net").st_ino == own:
            time.sleep(0.01)
        netns = f"--net=/proc/{holder.pid}/ns/net"
        _run("ip", "link", "add", host_side, "type", "veth", "peer", "name", ns_side)
        _run("ip", "link", "set", ns_side, "netns", str(holder.pid))
        _run("ip", "address", "add", f"{gateway}/30", "dev", host_side)
        _run("ip", "link", "set", host_side, "up")
        _run("nsenter", netns, "ip", "address", "add", f"{address}/30", "dev", ns_side)
        _run("nsenter", netns, "ip", "link", "set", ns_side, "up")
        _run("nsenter", netns, "ip", "link", "set", "lo", "up")
        world = World(gateway, address, ports[0], ports[1], loopback, wildcard, log)
        deadline = time.monotonic() + 10
        while log.read_text().count("listening") < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        # The host reaches the namespace (so silence later is the server's isolation).
        for port in ports:
            with socket.create_connection((address, port), timeout=5) as probe:
                probe.sendall(b"GET / HTTP/1.0\r\n\r\n")
                assert probe.recv(100).startswith(b"HTTP/1.1 200")
        yield world
    finally:
        holder.kill()
        holder.wait()
        loopback.sock.close()
        wildcard.sock.close()
        subprocess.run(["ip", "link", "del", host_side], capture_output=True, check=False)
