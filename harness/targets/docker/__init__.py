"""The ``docker`` runtime: each target in a container, through the Docker SDK.

Its modules, each using only those listed before it:

    engine     the SDK's client, the run's labels, ``DockerError``, the ``atexit`` sweep
               and ``targets prune``
    exit       how a container ended (readiness, and the runner's death probe)
    images     the server images, built from the lock files over the JRE base images
    placement  ``--network``: where a server runs, and how the harness reaches it
    cold       a container per run: start, wait until ready, remove
    warm       ``--reuse``: a warm container kept between runs, reset before each

Importing this package does not import the SDK (an optional extra,
``conductor-compat[docker]``): ``start`` and ``prune`` do, and say how to install it
when it is missing.
"""

from __future__ import annotations

import importlib
from contextlib import AsyncExitStack
from pathlib import Path

from harness.errors import MissingPrerequisiteError
from harness.targets.locks import VersionLock
from harness.targets.model import DockerSettings, Isolation, RunningTarget
from harness.targets.profiles import Profile
from harness.targets.spec import TargetSpec

__all__ = ["INSTALL", "prune", "require_sdk", "start"]

INSTALL = "pip install 'conductor-compat[docker]'"


def require_sdk() -> None:
    """Import the Docker SDK, or say how to install it (exit 5)."""
    try:
        importlib.import_module("docker")
    except ImportError as exc:
        raise MissingPrerequisiteError(
            "The docker runtime needs the Docker SDK for Python, which is not installed",
            f"Install it with: {INSTALL} (or use --runtime process)",
        ) from exc


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
    """Start one server in a container (a warm one with ``settings.reuse``); what stops
    it goes on ``stack``."""
    require_sdk()
    if settings.reuse:
        from harness.targets.docker import warm

        return await warm.start(
            spec,
            lock,
            profile,
            stack=stack,
            settings=settings,
            ready_timeout_s=ready_timeout_s,
            isolation=isolation,
        )
    from harness.targets.docker import cold

    return await cold.start(
        spec,
        lock,
        profile,
        workdir=workdir,
        stack=stack,
        settings=settings,
        ready_timeout_s=ready_timeout_s,
        isolation=isolation,
    )


def prune() -> list[str]:
    """Remove every container and network that conductor-compat runs left; their names."""
    require_sdk()
    from harness.targets.docker import engine

    return engine.prune(engine.connect())
