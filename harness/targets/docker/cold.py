"""A container per run: start a server in one, wait until it is ready, remove it after.

The server's log and state go to its folder, bind-mounted at /work. Networks
(``--network``) are ``placement``'s; nothing is published in any mode. The container (and
a ``bridge`` network) carries the run's label and is removed when the run ends, by the
``atexit`` sweep if need be, and by ``conductor-compat targets prune`` after a crash.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from harness.conductor import ConductorClient
from harness.targets import netns
from harness.targets.docker import engine
from harness.targets.docker.engine import LABEL, RUN_ID, DockerError
from harness.targets.docker.exit import Exits, probe
from harness.targets.docker.images import image_for
from harness.targets.docker.placement import (
    WORK,
    Placement,
    declared_endpoints,
    place,
    reach,
    write_hosts,
)
from harness.targets.locks import VersionLock
from harness.targets.model import DockerSettings, Isolation, RunningTarget
from harness.targets.process import locked_identity
from harness.targets.profiles import Profile, render_properties
from harness.targets.readiness import wait_ready
from harness.targets.spec import TargetSpec
from harness.targets.threads import ThreadProbe, container_threads


async def prepare(
    spec: TargetSpec, lock: VersionLock, profile: Profile, settings: DockerSettings
) -> tuple[docker.DockerClient, str]:
    """An engine that answers and the image to run, checked before anything starts."""
    client = await asyncio.to_thread(engine.connect)  # no engine: say so before any download
    if profile.name != "embedded":
        raise DockerError(f"The docker runtime runs the embedded profile only, not {profile.name}.")
    image = await asyncio.to_thread(image_for, client, spec, lock, settings)
    return client, image


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
    client, image = await prepare(spec, lock, profile, settings)
    run_dir = (workdir / spec.slug).resolve()
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    network = f"conductor-compat-{RUN_ID}"
    if settings.network == "bridge":
        stack.callback(engine.remove_network, client, network)  # after the containers on it
        engine.track_network(network)
    endpoints = await declared_endpoints(settings, isolation)
    placement = await asyncio.to_thread(
        place, client, settings, network=network, run=RUN_ID, endpoints=endpoints
    )
    write_hosts(run_dir, placement)
    props = placement.properties(profile, lock.embedded_backend)
    (run_dir / "server.properties").write_text(render_properties(props), encoding="utf-8")
    name = f"conductor-compat-{RUN_ID}-{spec.slug}"
    labels = {LABEL: RUN_ID, "conductor-compat.target": str(spec)}
    container = await asyncio.to_thread(
        launch, client, image, placement, run_dir, name=name, labels=labels
    )
    engine.track(str(container.id))
    stack.callback(engine.remove, client, str(container.id))
    base_url, space = await reach(container, placement, stack)
    await ready(container, base_url, spec, run_dir / "server.log", ready_timeout_s)
    return running_target(
        spec,
        lock,
        profile,
        image=image,
        container=container,
        placement=placement,
        base_url=base_url,
        space=space,
        started=started,
        log=run_dir / "server.log",
    )


def running_target(
    spec: TargetSpec,
    lock: VersionLock,
    profile: Profile,
    *,
    image: str,
    container: Container,
    placement: Placement,
    base_url: str,
    space: netns.Namespace | None,
    started: float,
    log: Path,
    fresh: bool = True,
) -> RunningTarget:
    """The ready server in ``container``, as the runner sees it. ``fresh``: started for this
    run, so that a restart gives a new server: only then are its threads watched (a warm
    container, kept between runs, cannot be started afresh)."""
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
        log,
        stub_host=placement.gateway,
        exited=probe(container),
        listen=space.listen if space else None,
        blocked=space.refused if space else None,
        threads=threads(container) if fresh else None,
    )


def threads(container: Container) -> ThreadProbe | None:
    """The probe of the container's JVM, when its engine runs on this machine."""
    container.reload()
    pid = container.attrs.get("State", {}).get("Pid")
    return container_threads(pid if isinstance(pid, int) else 0, str(container.id))


async def ready(
    container: Container, base_url: str, spec: TargetSpec, log: Path, timeout_s: float
) -> None:
    """Wait until the server answers; its exit or the timeout raise with its last log lines."""
    async with ConductorClient(base_url) as http:
        await wait_ready(
            http,
            name=f"{spec} (container {container.name})",
            proc=Exits(container),
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
