"""The ``docker`` runtime: each target in a container, through the Docker SDK.

The image holds the same locked server jar as the process runtime, over a JRE base
image of the version's Java:

    --image TARGET=IMAGE         an image the user names, used as it is
    conductor-compat/server:...  built here from the locked jar, reused while its
                                 ``conductor-compat.lock`` label matches the lock
    JRE base                     CONDUCTOR_COMPAT_JRE_IMAGE_<java>, else a local
                                 conductor-compat/jre:<java> (scripts/build-jre-images,
                                 from Debian's packages), else eclipse-temurin:<java>-jre

Networks (``--network``): ``none`` (default) gives each container a network namespace with
a loopback and nothing else, isolated as the process runtime's servers are (``netns``): the
harness forwards the server's port to 127.0.0.1 on the host, makes each stub's socket
inside the container's namespace, and relays declared outbound hosts. ``bridge`` puts the
run's containers on a network of their own created ``--internal``: reachable from this host
at the container's address, with no route out (Docker drops what would leave it), the stub
on the network's gateway address; but every service of the host is reachable at that
gateway, so isolation is recorded as not enforced. ``host`` runs the server on 127.0.0.1,
not isolated. Nothing is published in any mode.

The server's log and state go to its folder, bind-mounted. Every container and network
carries the run's label: removed when the run ends, by an ``atexit`` sweep if need be,
and by ``conductor-compat targets prune`` after a crash. ``--reuse`` (harness/targets/
warm.py) is the one exception, on request: a warm container kept between runs.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from harness.conductor import ConductorClient
from harness.errors import HarnessError
from harness.targets import netns
from harness.targets.docker_exit import probe
from harness.targets.locks import VersionLock
from harness.targets.maven import resolve
from harness.targets.model import DockerSettings, Isolation, RunningTarget
from harness.targets.placement import JAR, WORK, Placement, declared_endpoints, reach, write_hosts
from harness.targets.ports import free_port
from harness.targets.process import locked_identity
from harness.targets.profiles import Profile, render_properties
from harness.targets.readiness import wait_ready
from harness.targets.spec import TargetSpec

LABEL = "conductor-compat.run"  # on every container: the run that started it
LOCK_LABEL = "conductor-compat.lock"
RUN_ID = f"{os.getpid()}-{int(time.time())}"
BRIDGE_PORT = 8080  # the server's port inside its own network namespace
_live: set[str] = set()  # containers to remove at exit
_live_networks: set[str] = set()
_network_lock = threading.Lock()


class DockerError(HarnessError):
    """No engine, an image that cannot be had, a container that will not run."""


def engine() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerError(
            f"No Docker engine is reachable ({exc}). Start one (as root: `dockerd &`, or "
            "`systemctl start docker`), point DOCKER_HOST at one, or use --runtime process."
        ) from exc
    return client


def base_image(client: docker.DockerClient, java: int) -> str:
    """The JRE image for ``java``: named by the user, built locally, or the public default."""
    named = os.environ.get(f"CONDUCTOR_COMPAT_JRE_IMAGE_{java}")
    if named:
        return _have(client, named)
    local = f"conductor-compat/jre:{java}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.get(local)
        return local
    return _have(client, f"eclipse-temurin:{java}-jre")


def _have(client: docker.DockerClient, name: str) -> str:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.get(name)
        return name
    try:
        client.images.pull(name)
    except docker.errors.DockerException as exc:
        raise DockerError(
            f"The image {name} is not here and cannot be pulled ({exc}). With no registry, "
            "build the JRE images from Debian's packages with scripts/build-jre-images, or "
            f"name one with CONDUCTOR_COMPAT_JRE_IMAGE_<java>=IMAGE."
        ) from exc
    return name


def lock_digest(lock: VersionLock, base: str) -> str:
    """What the server image is made of: the lock file (jar digests) and the base image."""
    recipe = json.dumps({"lock": lock.to_json(), "base": base}, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()[:32]


def server_image(client: docker.DockerClient, lock: VersionLock, jar: Path) -> str:
    """conductor-compat/server:<flavor>-<version>, built from the locked jar when missing
    or stale (its label no longer matches the lock and base image)."""
    base = base_image(client, lock.java)
    tag = f"conductor-compat/server:{lock.target.slug}"
    digest = lock_digest(lock, base)
    with contextlib.suppress(docker.errors.ImageNotFound):
        if client.images.get(tag).labels.get(LOCK_LABEL) == digest:
            return tag
    dockerfile = (
        f"FROM {base}\nCOPY server.jar {JAR}\n"
        f'LABEL {LOCK_LABEL}="{digest}" conductor-compat.jar-sha256="{lock.server_jar.sha256}"\n'
    ).encode()
    with tempfile.TemporaryFile() as context:
        with tarfile.open(fileobj=context, mode="w") as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile))
            tar.add(str(jar), arcname="server.jar")
        context.seek(0)
        try:
            client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
        except docker.errors.DockerException as exc:
            raise DockerError(f"Could not build {tag} over {base}: {exc}") from exc
    return tag


class _Exits:
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
    """The internal bridge network ``name`` (created if missing): (name, gateway address)."""
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


def place(
    client: docker.DockerClient,
    settings: DockerSettings,
    network: str,
    endpoints: tuple[netns.Endpoint, ...] = (),
) -> Placement:
    """A placement on the host's network, in a namespace of its own (``none``), or on the
    internal bridge network ``network``."""
    if settings.network == "host":
        return Placement("host", port=free_port())
    if settings.network == "none":
        return Placement("none", port=BRIDGE_PORT, endpoints=endpoints)
    name, gateway = internal_network(client, network, RUN_ID)
    return Placement(name, port=BRIDGE_PORT, gateway=gateway)


def image_for(
    client: docker.DockerClient, spec: TargetSpec, lock: VersionLock, settings: DockerSettings
) -> str:
    """The user's image for ``spec``, or one built here from its locked jar."""
    named = settings.image_for(spec)
    if named:
        return named
    return server_image(client, lock, resolve(lock))


async def start(
    spec: TargetSpec,
    lock: VersionLock,
    profile: Profile,
    *,
    workdir: Path,
    stack: AsyncExitStack,
    settings: DockerSettings,
    ready_timeout_s: float = 240.0,
    isolation: Isolation | None = None,
) -> RunningTarget:
    """Start one server in a container; its removal is pushed on ``stack`` first.
    ``isolation``: what a server under ``--network none`` may reach besides the stub."""
    started = time.monotonic()
    client = await asyncio.to_thread(engine)  # no engine: say so before any download
    if profile.name != "embedded":
        raise DockerError(f"The docker runtime runs the embedded profile only, not {profile.name}.")
    image = await asyncio.to_thread(image_for, client, spec, lock, settings)
    if settings.reuse:
        from harness.targets import warm

        return await warm.start(
            client,
            spec,
            lock,
            profile,
            image=image,
            settings=settings,
            ready_timeout_s=ready_timeout_s,
            endpoints=await declared_endpoints(settings, isolation),
            stack=stack,
        )
    run_dir = (workdir / spec.slug).resolve()
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    network = f"conductor-compat-{RUN_ID}"
    if settings.network == "bridge":
        stack.callback(remove_network, client, network)  # after the containers on it
        _live_networks.add(network)
    endpoints = await declared_endpoints(settings, isolation)
    placement = await asyncio.to_thread(place, client, settings, network, endpoints)
    write_hosts(run_dir, placement)
    props = placement.properties(profile, lock.embedded_backend)
    (run_dir / "server.properties").write_text(render_properties(props), encoding="utf-8")
    name = f"conductor-compat-{RUN_ID}-{spec.slug}"
    labels = {LABEL: RUN_ID, "conductor-compat.target": str(spec)}
    container = await asyncio.to_thread(
        launch, client, image, placement, run_dir, name=name, labels=labels
    )
    _live.add(str(container.id))
    stack.callback(remove, client, str(container.id))
    base_url, space = await reach(container, placement, stack)
    await ready(container, base_url, spec, run_dir / "server.log", ready_timeout_s)
    identity = locked_identity(
        spec, lock, profile, runtime="docker", java=f"Java {lock.java} (image {image})"
    )
    if space is not None:
        space.mark()
    return RunningTarget(
        spec,
        replace(identity, isolation=placement.isolation()),
        base_url,
        time.monotonic() - started,
        run_dir / "server.log",
        stub_host=placement.gateway,
        exited=probe(container),
        listen=space.listen if space else None,
        blocked=space.refused if space else None,
    )


async def ready(
    container: Container, base_url: str, spec: TargetSpec, log: Path, timeout_s: float
) -> None:
    """Wait until the server answers; its exit or the timeout raise with its last log lines."""
    async with ConductorClient(base_url) as http:
        await wait_ready(
            http,
            name=f"{spec} (container {container.name})",
            proc=_Exits(container),
            log=log,
            timeout_s=timeout_s,
        )


def launch(
    client: docker.DockerClient,
    image: str,
    placement: Placement,
    run_dir: Path,
    *,
    name: str,
    labels: dict[str, str],
) -> Container:
    """Run the server of ``image`` detached, its folder bind-mounted at /work."""
    network: dict[str, Any] = (
        {"network_mode": placement.network}
        if placement.is_host or placement.is_sealed
        else {"network": placement.network}
    )
    try:
        container: Container = client.containers.run(
            image,
            ["sh", "-c", placement.command()],
            detach=True,
            name=name,
            labels=labels,
            privileged=False,
            environment={"LANG": "C.UTF-8", "TZ": "UTC", "HOME": str(WORK)},
            volumes={str(run_dir): {"bind": str(WORK), "mode": "rw"}},
            working_dir=str(WORK),
            **network,
        )
    except docker.errors.DockerException as exc:
        raise DockerError(f"Could not start a container of {image} ({name}): {exc}") from exc
    return container
