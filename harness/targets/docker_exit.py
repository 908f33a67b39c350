"""How the container of a ready server ended (the docker runtime's ``RunningTarget.exited``)."""

from __future__ import annotations

import docker.errors
from docker.models.containers import Container

from harness.targets.death import ExitProbe, ServerExit, from_container_state


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
