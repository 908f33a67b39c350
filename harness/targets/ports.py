"""Free loopback ports, and a check that a chosen one is free."""

from __future__ import annotations

import socket
import threading

from harness.errors import PortInUseError

_handed_out: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A port free on 127.0.0.1 now, never the same twice in this process."""
    with _lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("no free loopback port found")


def ensure_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUseError(
                f"Port {port} on 127.0.0.1, asked for {what}, is already in use. "
                "Choose another port, or leave it out to let conductor-compat pick a free one."
            ) from None
