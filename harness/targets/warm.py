"""``--reuse``: one warm container per target, kept between runs and reset before each.

A cold start costs the JVM's start-up (8 to 15 s here); a warm container costs a reset.
The container is named after the target and network, and labelled with a digest of what
it runs (image, server properties, JVM flags): a run whose recipe differs replaces it.
It outlives the run on purpose, the one exception to "nothing outlives a run":
``conductor-compat targets prune`` removes it.

The reset brings the server back to what a fresh one shows through the API: every
running workflow terminated and removed, every workflow and task definition and every
event handler deleted. Scenario runs are namespaced besides, so nothing of an earlier
run can reach a later one by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.conductor import ConductorClient
from harness.targets import containers, netns
from harness.targets.containers import LABEL, DockerError
from harness.targets.docker_exit import probe
from harness.targets.locks import VersionLock
from harness.targets.maven import cache_dir
from harness.targets.model import DockerSettings, RunningTarget
from harness.targets.placement import Placement, reach, write_hosts
from harness.targets.ports import free_port
from harness.targets.process import locked_identity
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
    client: docker.DockerClient,
    spec: TargetSpec,
    lock: VersionLock,
    profile: Profile,
    *,
    image: str,
    settings: DockerSettings,
    ready_timeout_s: float,
    stack: AsyncExitStack,
    endpoints: tuple[netns.Endpoint, ...] = (),
) -> RunningTarget:
    """The warm container of ``spec``, reset; started first if missing or stale.
    ``endpoints``: what it may reach under ``--network none``; relays closed on ``stack``."""
    started = time.monotonic()
    name = f"conductor-compat-warm-{spec.slug}-{settings.network}"
    run_dir = folder(spec, settings.network)
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    existing = await asyncio.to_thread(_find, client, name)
    port = int(existing.labels.get(PORT_LABEL, 0)) if existing is not None else 0
    placement = await asyncio.to_thread(_place, client, settings, port or free_port(), endpoints)
    props = placement.properties(profile, lock.embedded_backend)
    recipe = _recipe(client, image, props, placement)
    log = run_dir / "server.log"
    if existing is not None and _usable(existing, recipe):
        base_url, space = await reach(existing, placement, stack)
        await containers.ready(existing, base_url, spec, log, ready_timeout_s)
        await reset(base_url)
        running = existing
    else:
        if existing is not None:
            await asyncio.to_thread(containers.remove, client, str(existing.id))
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
            containers.launch, client, image, placement, run_dir, name=name, labels=labels
        )
        try:
            base_url, space = await reach(container, placement, stack)
            await containers.ready(container, base_url, spec, log, ready_timeout_s)
        except BaseException:
            await asyncio.to_thread(containers.remove, client, str(container.id))
            raise
        running = container
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
        exited=probe(running),
        listen=space.listen if space else None,
        blocked=space.refused if space else None,
    )


def _find(client: docker.DockerClient, name: str) -> Any:
    with contextlib.suppress(docker.errors.NotFound):
        return client.containers.get(name)
    return None


def _usable(container: Any, recipe: str) -> bool:
    return bool(container.status == "running" and container.labels.get(RECIPE_LABEL) == recipe)


def _place(
    client: docker.DockerClient,
    settings: DockerSettings,
    port: int,
    endpoints: tuple[netns.Endpoint, ...],
) -> Placement:
    if settings.network == "host":
        return Placement("host", port=port)
    if settings.network == "none":
        return Placement("none", port=containers.BRIDGE_PORT, endpoints=endpoints)
    name, gateway = containers.internal_network(client, NETWORK, WARM)
    return Placement(name, port=containers.BRIDGE_PORT, gateway=gateway)


def _recipe(
    client: docker.DockerClient, image: str, props: dict[str, str], placement: Placement
) -> str:
    try:
        image_id = client.images.get(image).id
    except docker.errors.DockerException as exc:
        raise DockerError(f"The image {image} is not here: {exc}") from exc
    made_of = {"image": image_id, "props": props, "command": placement.command()}
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:32]


async def reset(base_url: str) -> None:
    """Terminate and remove every running workflow; delete every definition and handler."""
    async with ConductorClient(base_url) as http:
        workflows = await _json(http, "/api/metadata/workflow")
        for definition in workflows:
            name, version = definition["name"], definition.get("version", 1)
            running = await _json(http, f"/api/workflow/running/{name}", {"version": version})
            for workflow_id in running:
                await http.request(
                    "DELETE", f"/api/workflow/{workflow_id}", params={"reason": "reset"}
                )
                await http.request("DELETE", f"/api/workflow/{workflow_id}/remove")
            await _gone(http, f"/api/metadata/workflow/{name}/{version}")
        for task in await _json(http, "/api/metadata/taskdefs"):
            await _gone(http, f"/api/metadata/taskdefs/{task['name']}")
        for handler in await _json(http, "/api/event"):
            await _gone(http, f"/api/event/{handler['name']}")


async def _json(http: ConductorClient, path: str, params: dict[str, Any] | None = None) -> Any:
    response = await http.request("GET", path, params=params)
    if response.status_code != 200:
        raise DockerError(f"Could not reset the warm server: GET {path} -> {response.status_code}")
    return response.json() or []


async def _gone(http: ConductorClient, path: str) -> None:
    response = await http.request("DELETE", path)
    if response.status_code >= 300 and response.status_code != 404:
        raise DockerError(
            f"Could not reset the warm server: DELETE {path} -> {response.status_code} "
            f"{response.text[:200]}"
        )
