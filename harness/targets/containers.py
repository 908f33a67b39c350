"""The ``docker`` runtime: each target in a container, through the Docker SDK.

The image holds the same locked server jar as the process runtime, over a JRE base
image of the version's Java:

    --image TARGET=IMAGE         an image the user names, used as it is
    conductor-compat/server:...  built here from the locked jar, reused while its
                                 ``conductor-compat.lock`` label matches the lock
    JRE base                     CONDUCTOR_COMPAT_JRE_IMAGE_<java>, else a local
                                 conductor-compat/jre:<java> (scripts/build-jre-images,
                                 from Debian's packages), else eclipse-temurin:<java>-jre

Containers run with host networking, so the server listens on loopback exactly as under
the process runtime and reaches the harness's HTTP stub on 127.0.0.1; the server's log
and state go to its folder, bind-mounted. Every container carries the run's label:
stopped and removed when the run ends, by an ``atexit`` sweep if need be, and by
``conductor-compat targets prune`` after a crash.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import io
import json
import os
import shlex
import tarfile
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from harness.conductor import ConductorClient
from harness.errors import HarnessError
from harness.targets.locks import VersionLock
from harness.targets.maven import resolve
from harness.targets.model import RunningTarget
from harness.targets.ports import free_port
from harness.targets.process import jvm_flags, locked_identity
from harness.targets.profiles import Profile, render_properties
from harness.targets.readiness import wait_ready
from harness.targets.spec import TargetSpec

LABEL = "conductor-compat.run"  # on every container: the run that started it
LOCK_LABEL = "conductor-compat.lock"
RUN_ID = f"{os.getpid()}-{int(time.time())}"
WORK = Path("/work")  # the server's folder, as the container sees it
JAR = "/opt/conductor/server.jar"
_live: set[str] = set()


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


def prune(client: docker.DockerClient) -> list[str]:
    """Remove every container a conductor-compat run left behind; their names."""
    names = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        names.append(str(container.name))
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
    return names


@atexit.register
def _sweep() -> None:
    if not _live:
        return
    with contextlib.suppress(docker.errors.DockerException):
        client = docker.from_env(timeout=30)
        for container_id in list(_live):
            remove(client, container_id)


async def start(
    spec: TargetSpec,
    lock: VersionLock,
    profile: Profile,
    *,
    workdir: Path,
    stack: AsyncExitStack,
    image: str | None = None,
    ready_timeout_s: float = 240.0,
) -> RunningTarget:
    """Start one server in a container; its removal is pushed on ``stack`` first."""
    started = time.monotonic()
    client = await asyncio.to_thread(engine)  # no engine: say so before any download
    chosen = image
    if not chosen:
        jar = await asyncio.to_thread(resolve, lock)
        chosen = await asyncio.to_thread(server_image, client, lock, jar)
    run_dir = (workdir / spec.slug).resolve()
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    if profile.name != "embedded":
        raise DockerError(f"The docker runtime runs the embedded profile only, not {profile.name}.")
    port = free_port()
    props = profile.properties(port=port, embedded_backend=lock.embedded_backend, state_dir=WORK)
    (run_dir / "server.properties").write_text(render_properties(props), encoding="utf-8")
    config = f"--spring.config.additional-location=file:{WORK / 'server.properties'}"
    java = "exec " + " ".join(
        shlex.quote(a) for a in ["java", *jvm_flags(WORK), "-jar", JAR, config]
    )
    log = run_dir / "server.log"
    container = await asyncio.to_thread(
        _run, client, chosen, f"{java} > {WORK / 'server.log'} 2>&1", run_dir, spec
    )
    stack.callback(remove, client, str(container.id))
    base_url = f"http://127.0.0.1:{port}"
    async with ConductorClient(base_url) as http:
        await wait_ready(
            http,
            name=f"{spec} (container {container.name})",
            proc=_Exits(container),
            log=log,
            timeout_s=ready_timeout_s,
        )
    java_text = f"Java {lock.java} (image {chosen})"
    identity = locked_identity(spec, lock, profile, runtime="docker", java=java_text)
    return RunningTarget(spec, identity, base_url, time.monotonic() - started, log)


def _run(
    client: docker.DockerClient, image: str, command: str, run_dir: Path, spec: TargetSpec
) -> Container:
    labels: dict[str, Any] = {LABEL: RUN_ID, "conductor-compat.target": str(spec)}
    try:
        container: Container = client.containers.run(
            image,
            ["sh", "-c", command],
            detach=True,
            name=f"conductor-compat-{RUN_ID}-{spec.slug}",
            labels=labels,
            network_mode="host",
            privileged=False,
            environment={"LANG": "C.UTF-8", "TZ": "UTC", "HOME": str(WORK)},
            volumes={str(run_dir): {"bind": str(WORK), "mode": "rw"}},
            working_dir=str(WORK),
        )
    except docker.errors.DockerException as exc:
        raise DockerError(f"Could not start a container of {image} for {spec}: {exc}") from exc
    _live.add(str(container.id))
    return container
