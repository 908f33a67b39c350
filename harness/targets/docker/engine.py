"""The Docker engine as the docker runtime uses it: the client, the labels, what to remove.

Every container and network the harness creates carries the run's label (``LABEL``) and
is tracked here until removed: the exit stack removes it when the run ends, an ``atexit``
sweep if need be, and ``conductor-compat targets prune`` after a crash (``prune``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time

import docker
import docker.errors

from harness.errors import HarnessError

LABEL = "conductor-compat.run"  # on every container and network: the run that made it
RUN_ID = f"{os.getpid()}-{int(time.time())}"
_live: set[str] = set()  # containers to remove at exit
_live_networks: set[str] = set()
_network_lock = threading.Lock()


class DockerError(HarnessError):
    """No engine, an image that cannot be had, a container that will not run."""


def connect() -> docker.DockerClient:
    """A client of a Docker engine that answers, or a ``DockerError`` that says what to do."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerError(
            f"No Docker engine is reachable ({exc}). Start one (as root: `dockerd &`, or "
            "`systemctl start docker`), point DOCKER_HOST at one, or use --runtime process."
        ) from exc
    return client


def track(container_id: str) -> None:
    """Remove the container at exit if the run does not."""
    _live.add(container_id)


def track_network(name: str) -> None:
    """Remove the network at exit if the run does not."""
    _live_networks.add(name)


def remove(client: docker.DockerClient, container_id: str) -> None:
    """Stop and remove a container; gone already is fine."""
    with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
        client.containers.get(container_id).remove(force=True)
    _live.discard(container_id)


def remove_network(client: docker.DockerClient, name: str) -> None:
    """Remove a network once no container is on it; gone or still in use is fine."""
    with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
        client.networks.get(name).remove()
        _live_networks.discard(name)


def internal_network(client: docker.DockerClient, name: str, run: str) -> tuple[str, str]:
    """The internal bridge network ``name`` (created if missing, labelled with ``run``):
    (name, gateway address)."""
    with _network_lock:  # the run's targets start side by side and share it
        try:
            network = client.networks.get(name)
        except docker.errors.NotFound:
            try:
                network = client.networks.create(
                    name, driver="bridge", internal=True, labels={LABEL: run}
                )
            except docker.errors.DockerException as exc:
                raise DockerError(f"Could not create the docker network {name}: {exc}") from exc
    network.reload()
    gateway = str(network.attrs["IPAM"]["Config"][0]["Gateway"])
    return str(network.name), gateway


def prune(client: docker.DockerClient) -> list[str]:
    """Remove every container and network a conductor-compat run left behind (warm
    containers of ``--reuse`` included); their names."""
    names = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        names.append(str(container.name))
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
    for network in client.networks.list(filters={"label": LABEL}):
        names.append(f"network {network.name}")
        remove_network(client, str(network.name))
    return names


@atexit.register
def _sweep() -> None:
    if not _live and not _live_networks:
        return
    with contextlib.suppress(docker.errors.DockerException):
        client = docker.from_env(timeout=30)
        for container_id in list(_live):
            remove(client, container_id)
        for name in list(_live_networks):
            remove_network(client, name)
