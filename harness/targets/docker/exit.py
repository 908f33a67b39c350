"""How a server's container ended: for readiness (``Exits``) and, once it is ready, for
the runner's death probe (``RunningTarget.exited``)."""

from __future__ import annotations

import contextlib

import docker.errors
from docker.models.containers import Container

from harness.targets.death import ExitProbe, ServerExit, from_container_state


class Exits:
    """A container seen as readiness sees a process: has it exited, with what code?"""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.returncode: int | None = None

    def poll(self) -> int | None:
        with contextlib.suppress(docker.errors.DockerException):
            self.container.reload()
            if self.container.status in ("exited", "dead"):
                self.returncode = int(self.container.attrs["State"]["ExitCode"])
        return self.returncode


def exited(container: Container) -> ServerExit | None:
    """None while the container runs; else its exit code (128 + N after signal N) and
    whether the kernel's out-of-memory killer took it."""
    try:
        container.reload()
    except docker.errors.NotFound:
        return ServerExit(None)  # removed under the run: how is not known
    except docker.errors.DockerException:
        return None  # the engine did not answer: that says nothing of the server
    if container.status not in ("exited", "dead"):
        return None
    state = container.attrs["State"]
    return from_container_state(int(state["ExitCode"]), oom=bool(state.get("OOMKilled")))


def probe(container: Container) -> ExitProbe:
    return lambda: exited(container)
