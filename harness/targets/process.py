"""The ``process`` runtime: a locked server jar run on a suitable JRE, on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from harness.conductor import ConductorClient
from harness.errors import PortInUseError
from harness.targets import procs
from harness.targets.java import JavaRuntime, find_java
from harness.targets.locks import VersionLock, find_lock
from harness.targets.maven import resolve
from harness.targets.model import RunningTarget, TargetIdentity
from harness.targets.ports import ensure_free, free_port
from harness.targets.profiles import Profile, render_properties
from harness.targets.readiness import wait_ready
from harness.targets.redis import find_redis, start_redis
from harness.targets.spec import TargetSpec

HEAP = "1536m"
# Outbound HTTP from the JVM goes to a dead proxy unless it is to loopback. This is
# defence in depth for clients that honour the JVM's proxy settings, not a sandbox:
# scenario validation is what keeps workflows pointed at the harness's local stub.
_NO_EGRESS = [
    "-Dhttp.proxyHost=127.0.0.1",
    "-Dhttp.proxyPort=9",
    "-Dhttps.proxyHost=127.0.0.1",
    "-Dhttps.proxyPort=9",
]
_DIRECT = ("localhost", "127.*", "[::1]")


def jvm_flags(run_dir: Path, direct_hosts: Sequence[str] = ()) -> list[str]:
    """The JVM options of every server, whatever runs it (``run_dir`` as the JVM sees it).
    ``direct_hosts``: reached without the dead proxy besides loopback (the stub's host)."""
    return [
        f"-Xmx{HEAP}",
        # The serial collector: on 2 cores G1's concurrent threads compete with start-up
        # (measured: oss:3.32.1 ready in 13.0 s instead of 15.1 s; 3.15.0 7.4 s vs 7.7 s).
        # The collector changes no behaviour a scenario can see.
        "-XX:+UseSerialGC",
        "-Duser.timezone=UTC",
        "-Dfile.encoding=UTF-8",
        "-Djava.net.preferIPv4Stack=true",
        f"-Djava.io.tmpdir={run_dir / 'tmp'}",
        f"-Duser.home={run_dir}",
        *_NO_EGRESS,
        "-Dhttp.nonProxyHosts=" + "|".join((*_DIRECT, *direct_hosts)),
    ]


def locked_identity(
    spec: TargetSpec, lock: VersionLock, profile: Profile, *, runtime: str, java: str
) -> TargetIdentity:
    """Who answers, for a server started here from its locked jar (any runtime)."""
    return TargetIdentity(
        target=str(spec),
        flavor=spec.flavor.value,
        version=spec.version,
        runtime=runtime,
        profile=profile.name,
        backend=profile.backend(lock.embedded_backend),
        java=java,
        artifact_sha256=lock.server_jar.sha256,
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything resolved before a JVM starts: checked once, reported on failure early."""

    spec: TargetSpec
    lock: VersionLock
    jar: Path
    java: JavaRuntime


def prepare(spec: TargetSpec, profile: Profile) -> Prepared:
    """Resolve the lock, the verified jar and a JRE; fail fast with a clear error."""
    lock = find_lock(spec)
    java = find_java(lock.java)
    if profile.name == "redis":
        find_redis()
    jar = resolve(lock)
    return Prepared(spec, lock, jar, java)


async def start(
    prepared: Prepared,
    profile: Profile,
    workdir: Path,
    stack: AsyncExitStack,
    *,
    port: int | None = None,
    ready_timeout_s: float = 240.0,
) -> RunningTarget:
    """Start one server; its stop is pushed on ``stack`` before anything can fail."""
    started = time.monotonic()
    spec, lock = prepared.spec, prepared.lock
    run_dir = (workdir / spec.slug).resolve()  # the JVM runs elsewhere: paths must be absolute
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    redis_port = None
    if profile.name == "redis":
        redis = await start_redis(run_dir / "redis")
        stack.callback(redis.stop)
        redis_port = redis.port
    if port is not None:
        ensure_free(port, str(spec))
    chosen = port if port is not None else free_port()
    props = profile.properties(
        port=chosen,
        embedded_backend=lock.embedded_backend,
        state_dir=run_dir,
        redis_port=redis_port,
    )
    props_file = run_dir / "server.properties"
    props_file.write_text(render_properties(props), encoding="utf-8")
    log = run_dir / "server.log"
    argv = [
        str(prepared.java.executable),
        *jvm_flags(run_dir),
        "-jar",
        str(prepared.jar),
        f"--spring.config.additional-location=file:{props_file}",
    ]
    # A clean environment: no cloud or AI credentials, no proxies, the same locale and
    # time zone everywhere. conductor-oss 3.32 reads OPENAI_API_KEY and friends.
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC", "HOME": str(run_dir)}
    proc = procs.spawn(argv, log=log, cwd=run_dir, env=env)
    stack.callback(procs.stop, proc)
    base_url = f"http://127.0.0.1:{chosen}"
    async with ConductorClient(base_url) as client:
        try:
            await wait_ready(client, name=str(spec), proc=proc, log=log, timeout_s=ready_timeout_s)
        except PortInUseError:
            if port is not None:
                raise
            procs.stop(proc)  # lost a race for an auto-picked port: try once more
            return await start(
                prepared, profile, workdir / "retry", stack, ready_timeout_s=ready_timeout_s
            )
    identity = locked_identity(
        spec, lock, profile, runtime="process", java=prepared.java.describe()
    )
    return RunningTarget(spec, identity, base_url, time.monotonic() - started, log)


async def prepare_async(spec: TargetSpec, profile: Profile) -> Prepared:
    """``prepare`` off the event loop: Maven downloads and hashing take seconds."""
    return await asyncio.to_thread(prepare, spec, profile)
