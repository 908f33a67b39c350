"""Bring targets up in parallel and guarantee they come down.

>>> async with provision([parse_target("oss:3.32.1")], profile=get_profile("embedded"),
...                      workdir=Path("/tmp/run")) as targets:
...     print(targets[0].base_url)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from packaging.version import InvalidVersion, Version

from harness.conductor import ConductorClient, ConductorUnreachable
from harness.errors import BadInputError
from harness.targets import netns, process
from harness.targets.locks import find_lock
from harness.targets.model import (
    DEFAULT_JIT,
    DockerSettings,
    Isolation,
    RunningTarget,
    TargetIdentity,
)
from harness.targets.profiles import Profile
from harness.targets.readiness import wait_ready
from harness.targets.spec import TargetSpec, auth_headers

RUNTIMES = ("process", "docker")


async def start_target(
    spec: TargetSpec,
    *,
    profile: Profile,
    workdir: Path,
    stack: AsyncExitStack,
    runtime: str = "process",
    port: int | None = None,
    ready_timeout_s: float = 240.0,
    docker: DockerSettings | None = None,
    isolation: Isolation | None = None,
    boot_jar: bool = False,
    jit: str = DEFAULT_JIT,
) -> RunningTarget:
    """Start (or, for ``remote:URL``, reach) one target; its teardown goes on ``stack``.
    ``docker``: images, network and reuse, for the docker runtime. ``isolation``: how the
    server is kept off the network (the default: a network namespace, or an error).
    ``boot_jar``: the process runtime starts the boot jar with ``-jar``, not unpacked with
    a class data sharing archive (``sharing``); ``jit``: the unpacked server's JIT
    (``process.JIT_FLAGS``)."""
    if spec.is_remote:
        return await _reach_remote(spec, ready_timeout_s=min(ready_timeout_s, 30.0))
    if runtime not in RUNTIMES:
        raise BadInputError(f"Unknown runtime '{runtime}'. Known runtimes: {', '.join(RUNTIMES)}.")
    if runtime == "docker":
        if profile.store is not None:
            raise BadInputError(
                f"The {profile.name} profile runs with the process runtime (--runtime process): "
                f"the docker runtime runs the embedded profile only, with no {profile.store} "
                "server beside the container."
            )
        from harness.targets.docker import start as start_container  # the SDK when asked for

        return await start_container(
            spec,
            find_lock(spec),
            profile,
            workdir=workdir,
            stack=stack,
            settings=docker or DockerSettings(),
            ready_timeout_s=ready_timeout_s,
            isolation=isolation or Isolation(),
        )
    netns.require_isolation(isolation or Isolation(), "process")  # before any download
    prepared = await process.prepare_async(spec, profile, unpack_jar=not boot_jar, jit=jit)
    return await process.start(
        prepared,
        profile,
        workdir,
        stack,
        port=port,
        ready_timeout_s=ready_timeout_s,
        isolation=isolation,
    )


async def _reach_remote(spec: TargetSpec, *, ready_timeout_s: float) -> RunningTarget:
    assert spec.url is not None
    started = time.monotonic()
    headers = auth_headers()
    async with ConductorClient(spec.url, headers=headers) as client:
        await wait_ready(client, name=str(spec), proc=None, log=None, timeout_s=ready_timeout_s)
        flavor, version = await remote_version(client)
    identity = TargetIdentity(
        target=str(spec),
        flavor=flavor,
        version=version,
        runtime="remote",
        profile=None,
        backend=None,
        java=None,
        artifact_sha256=None,
        isolation="not enforced (remote target)",
    )
    return RunningTarget(spec, identity, spec.url, time.monotonic() - started, None, headers)


LAST_NETFLIX = Version("3.15.0")  # Netflix archived Conductor at 3.15.0; conductor-oss went on


async def remote_version(client: ConductorClient) -> tuple[str, str | None]:
    """``(flavor, version)`` of a remote server, from the ``version`` its admin config reports
    (every version here does, seen); ``("remote", None)`` when it says nothing usable, and
    then every scenario is tried on it."""
    try:
        response = await client.request("GET", "/api/admin/config", timeout_s=10.0)
        reported = response.json().get("version") if response.status_code == 200 else None
        version = Version(str(reported)) if reported is not None else None
    except (ConductorUnreachable, ValueError, AttributeError, InvalidVersion):
        return "remote", None
    if version is None:
        return "remote", None
    return ("netflix" if version <= LAST_NETFLIX else "oss"), str(version)


@asynccontextmanager
async def provision(
    specs: Sequence[TargetSpec],
    *,
    profile: Profile,
    workdir: Path,
    runtime: str = "process",
    port: int | None = None,
    ready_timeout_s: float = 240.0,
    docker: DockerSettings | None = None,
    isolation: Isolation | None = None,
    boot_jar: bool = False,
    jit: str = DEFAULT_JIT,
) -> AsyncIterator[list[RunningTarget]]:
    """All targets up, in parallel, or none: the first failure stops the others.

    ``port`` fixes the server's port, and goes with a single target only.
    """
    if port is not None and len(specs) != 1:
        raise BadInputError("A fixed port goes with a single target.")
    async with AsyncExitStack() as stack:
        tasks = [
            start_target(
                s,
                profile=profile,
                workdir=workdir,
                stack=stack,
                runtime=runtime,
                port=port,
                ready_timeout_s=ready_timeout_s,
                docker=docker,
                isolation=isolation,
                boot_jar=boot_jar,
                jit=jit,
            )
            for s in specs
        ]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        yield [r for r in results if isinstance(r, RunningTarget)]
