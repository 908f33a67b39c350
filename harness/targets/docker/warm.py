"""``--reuse``: one warm container per target, kept between runs and reset before each.

A cold start costs the JVM's start-up (8 to 15 s here); a warm container costs a reset.
The container is named after the target and network, and labelled with a digest of what
it runs (image, server properties, JVM flags): a run whose recipe differs replaces it.
It outlives the run on purpose, the one exception to "nothing outlives a run":
``conductor-compat targets prune`` removes it.

The reset (``harness.conductor.admin``) brings the server back to what a fresh one shows
through the API: every running workflow terminated and removed, every workflow and task
definition and every event handler deleted. Scenario runs are namespaced besides, so
nothing of an earlier run can reach a later one by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.conductor import ConductorClient, ConductorHTTPError, admin
from harness.targets.docker import cold, engine
from harness.targets.docker.engine import LABEL, DockerError
from harness.targets.docker.images import image_id
from harness.targets.docker.placement import (
    Placement,
    declared_endpoints,
    place,
    reach,
    write_hosts,
)
from harness.targets.locks import VersionLock
from harness.targets.maven import cache_dir
from harness.targets.model import DockerSettings, Isolation, RunningTarget
from harness.targets.profiles import Profile, render_properties
from harness.targets.spec import TargetSpec

WARM = "warm"  # the run label's value on warm containers and their network
RECIPE_LABEL = "conductor-compat.recipe"
PORT_LABEL = "conductor-compat.port"
NETWORK = "conductor-compat-warm"


def folder(spec: TargetSpec, network: str) -> Path:
    """The warm container's folder (log, properties, state), kept between runs."""
    return cache_dir() / "warm" / f"{spec.slug}-{network}"


async def start(
    spec: TargetSpec,
    lock: VersionLock,
    profile: Profile,
    *,
    stack: AsyncExitStack,
    settings: DockerSettings,
    ready_timeout_s: float = 240.0,
    isolation: Isolation | None = None,
) -> RunningTarget:
    """The warm container of ``spec``, reset; started first if missing or stale.
    ``isolation``: what it may reach under ``--network none``; relays closed on ``stack``."""
    started = time.monotonic()
    client, image = await cold.prepare(spec, lock, profile, settings)
    endpoints = await declared_endpoints(settings, isolation)
    name = f"conductor-compat-warm-{spec.slug}-{settings.network}"
    run_dir = folder(spec, settings.network)
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    existing = await asyncio.to_thread(_find, client, name)
    port = int(existing.labels.get(PORT_LABEL, 0)) if existing is not None else 0
    placement = await asyncio.to_thread(
        place, client, settings, network=NETWORK, run=WARM, endpoints=endpoints, host_port=port
    )
    props = placement.properties(profile, lock.embedded_backend)
    recipe = _recipe(client, image, props, placement)
    log = run_dir / "server.log"
    if existing is not None and _usable(existing, recipe):
        base_url, space = await reach(existing, placement, stack)
        await cold.ready(existing, base_url, spec, log, ready_timeout_s)
        await reset(base_url, name)
        running = existing
    else:
        if existing is not None:
            await asyncio.to_thread(engine.remove, client, str(existing.id))
        (run_dir / "conductor.db").unlink(missing_ok=True)  # a new server starts empty
        (run_dir / "server.properties").write_text(render_properties(props), encoding="utf-8")
        write_hosts(run_dir, placement)
        labels = {
            LABEL: WARM,
            "conductor-compat.target": str(spec),
            RECIPE_LABEL: recipe,
            PORT_LABEL: str(placement.port),
        }
        container = await asyncio.to_thread(
            cold.launch, client, image, placement, run_dir, name=name, labels=labels
        )
        try:
            base_url, space = await reach(container, placement, stack)
            await cold.ready(container, base_url, spec, log, ready_timeout_s)
        except BaseException:
            await asyncio.to_thread(engine.remove, client, str(container.id))
            raise
        running = container
    return cold.running_target(
        spec,
        lock,
        profile,
        image=image,
        container=running,
        placement=placement,
        base_url=base_url,
        space=space,
        started=started,
        log=log,
        fresh=False,
    )


async def reset(base_url: str, name: str) -> None:
    """The warm server at ``base_url`` (container ``name``) brought back to a fresh one's
    state through the API."""
    async with ConductorClient(base_url) as http:
        try:
            await admin.reset(http)
        except ConductorHTTPError as exc:
            raise DockerError(f"Could not reset the warm server {name}: {exc.message}") from exc


def _find(client: docker.DockerClient, name: str) -> Any:
    with contextlib.suppress(docker.errors.NotFound):
        return client.containers.get(name)
    return None


def _usable(container: Any, recipe: str) -> bool:
    return bool(container.status == "running" and container.labels.get(RECIPE_LABEL) == recipe)


def _recipe(
    client: docker.DockerClient, image: str, props: dict[str, str], placement: Placement
) -> str:
    made_of = {"image": image_id(client, image), "props": props, "command": placement.command()}
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:32]
