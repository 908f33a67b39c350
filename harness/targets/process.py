"""The ``process`` runtime: a locked server jar run on a suitable JRE, on loopback."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from harness.conductor import ConductorClient
from harness.errors import BadInputError, PortInUseError
from harness.targets import netns, procs
from harness.targets.death import process_probe
from harness.targets.java import JavaRuntime, find_java
from harness.targets.launcher import has_module, launch_args
from harness.targets.locks import VersionLock, find_lock
from harness.targets.maven import cache_dir, resolve, resolve_class_path
from harness.targets.model import DEFAULT_JIT, Isolation, RunningTarget, TargetIdentity
from harness.targets.ports import ensure_free, free_port
from harness.targets.profiles import Profile, render_properties
from harness.targets.readiness import wait_ready
from harness.targets.sharing import (
    Sharing,
    Unpacked,
    build_archive,
    launch_unpacked,
    sharing_for,
    unpack,
)
from harness.targets.spec import TargetSpec
from harness.targets.stores import Store, check_store, start_store
from harness.targets.threads import process_threads

HEAP = "1536m"
# Unisolated servers (--no-isolation, docker's host and bridge networks): outbound HTTP
# from the JVM goes to a dead proxy unless it is to loopback. Defence in depth for clients
# that honour the JVM's proxy settings only (oss:3.32.1's does not): the isolation the
# kernel enforces is the network namespace (``netns``).
_NO_EGRESS = [
    "-Dhttp.proxyHost=127.0.0.1",
    "-Dhttp.proxyPort=9",
    "-Dhttps.proxyHost=127.0.0.1",
    "-Dhttps.proxyPort=9",
]
_DIRECT = ("localhost", "127.*", "[::1]")
# The module a server needs for each store: in its boot jar, or on the class path its lock
# adds for the profile.
STORE_MODULES = {
    "redis": "conductor-redis-persistence",
    "postgres": "conductor-postgres-persistence",
}


MEMORY = [
    f"-Xmx{HEAP}",
    # The serial collector: on 2 cores G1's concurrent threads compete with start-up
    # (measured: oss:3.32.1 ready in 13.0 s instead of 15.1 s; 3.15.0 7.4 s vs 7.7 s).
    # The collector changes no behaviour a scenario can see.
    "-XX:+UseSerialGC",
]
# The JIT of a server started unpacked on its archive (``model.JITS``): "c1" (the
# default) stops tiered compilation at its first tier (C1, no profiling, no C2): ready
# sooner on 2 cores, where C2's compiler threads compete with start-up, and less CPU over
# a run (docs/benchmarks.md, class data sharing); "tiered" keeps the JVM's own default.
# A boot jar's server keeps the JVM's default.
JIT_FLAGS = {"tiered": (), "c1": ("-XX:TieredStopAtLevel=1",)}


def jvm_flags(
    run_dir: Path, direct_hosts: Sequence[str] = (), *, isolated: bool = False
) -> list[str]:
    """The JVM options of every server, whatever runs it (``run_dir`` as the JVM sees it).
    ``direct_hosts``: reached without the dead proxy besides loopback (the stub's host).
    ``isolated``: in a network namespace, which refuses what the dead proxy would."""
    proxy = (
        []
        if isolated
        else [*_NO_EGRESS, "-Dhttp.nonProxyHosts=" + "|".join((*_DIRECT, *direct_hosts))]
    )
    return [
        *MEMORY,
        "-Duser.timezone=UTC",
        "-Dfile.encoding=UTF-8",
        "-Djava.net.preferIPv4Stack=true",
        f"-Djava.io.tmpdir={run_dir / 'tmp'}",
        f"-Duser.home={run_dir}",
        *proxy,
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
        profile=profile.label,
        backend=profile.backend(lock.embedded_backend),
        java=java,
        artifact_sha256=lock.server_jar.sha256,
        settings=profile.configured(),
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything resolved before a JVM starts: checked once, reported on failure early."""

    spec: TargetSpec
    lock: VersionLock
    jar: Path
    java: JavaRuntime
    class_path: tuple[Path, ...] = ()  # the profile's extra jars (a store module)
    unpacked: Unpacked | None = None  # the jar as a plain class path, with its archive
    jit: str = DEFAULT_JIT  # a key of JIT_FLAGS, for an unpacked server

    def jit_flags(self) -> list[str]:
        """The JIT options of this launch: ``jit``'s, unpacked; none from the boot jar."""
        return list(JIT_FLAGS[self.jit]) if self.unpacked is not None else []

    def launch(self) -> list[str]:
        if self.unpacked is not None:
            return launch_unpacked(self.unpacked, self.class_path)
        return launch_args(self.jar, self.class_path)

    def sharing(self) -> Sharing | None:
        """The class data sharing archive of this launch (``None`` from the boot jar)."""
        if self.unpacked is None:
            return None
        digest = self.lock.server_jar.sha256
        java = f"{self.java.describe()} {self.java.executable}"
        return sharing_for(cache_dir(), digest, java, self.launch())


def prepare(
    spec: TargetSpec, profile: Profile, *, unpack_jar: bool = True, jit: str = DEFAULT_JIT
) -> Prepared:
    """Resolve the lock, the verified jar (and the profile's extra jars) and a JRE; fail
    fast with a clear error. ``unpack_jar``: run the jar unpacked, with a class data
    sharing archive (``sharing``), rather than with ``-jar``; ``jit``: its JIT
    (``JIT_FLAGS``)."""
    if jit not in JIT_FLAGS:
        raise BadInputError(f"Unknown JIT '{jit}'. Known: {', '.join(JIT_FLAGS)}.")
    lock = find_lock(spec)
    java = find_java(lock.java, lock.java_max)
    check_store(profile)
    jar = resolve(lock)
    class_path = tuple(resolve_class_path(lock, profile.name))
    module = STORE_MODULES.get(profile.store or "")
    if module and not class_path and not has_module(jar, module):
        raise BadInputError(
            f"{spec} cannot run the {profile.name} profile: its server jar has no {module}, "
            f"and its lock file ({lock.path}) adds none to its class path."
        )
    unpacked = unpack(jar, lock.server_jar.sha256, cache_dir()) if unpack_jar else None
    prepared = Prepared(spec, lock, jar, java, class_path, unpacked, jit)
    prepared.launch()  # a jar that cannot be launched so: say it now
    return prepared


async def start(
    prepared: Prepared,
    profile: Profile,
    workdir: Path,
    stack: AsyncExitStack,
    *,
    port: int | None = None,
    ready_timeout_s: float = 240.0,
    isolation: Isolation | None = None,
    store: Store | None = None,
    space: netns.Namespace | None = None,
) -> RunningTarget:
    """Start one server; its stop is pushed on ``stack`` before anything can fail.
    ``isolation``: in a network namespace of its own (the default), or not.

    ``store`` and ``space``: a store (``stores.start_store``) and a network namespace
    (``netns.create``, opened to ``isolation.allowed``) that the caller started and stops:
    the server runs in ``space`` on ``store`` and leaves both up, so that another server
    can run on them next. Without them, the server gets a namespace of its own (unless
    ``isolation`` says not to) and its profile's store, both stopped on ``stack``."""
    started = time.monotonic()
    spec, lock = prepared.spec, prepared.lock
    run_dir = (workdir / spec.slug).resolve()  # the JVM runs elsewhere: paths must be absolute
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    given_store, given_space = store, space
    isolation, endpoints, space, store = await _place(
        profile, run_dir, stack, isolation or Isolation(), store=store, space=space
    )
    if port is not None:
        ensure_free(port, str(spec))
    chosen = port if port is not None else free_port()  # in the namespace: any port is free
    props = profile.properties(
        port=chosen,
        embedded_backend=lock.embedded_backend,
        state_dir=run_dir,
        store=store,
    )
    props_file = run_dir / "server.properties"
    props_file.write_text(render_properties(props), encoding="utf-8")
    props_file.chmod(0o600)  # it may hold the store's password
    log = run_dir / "server.log"
    names = netns.hosts_file(endpoints, socket.gethostname())
    if names is not None:  # declared host names, the namespace having no DNS
        (run_dir / "hosts").write_text(names, encoding="utf-8")
    sharing = prepared.sharing()
    argv = [
        str(prepared.java.executable),
        *jvm_flags(run_dir, [e.host for e in endpoints], isolated=space is not None),
        *prepared.jit_flags(),
        *(sharing.flags(run_dir / "classes.lst") if sharing else []),
        *([f"-Djdk.net.hosts.file={run_dir / 'hosts'}"] if names is not None else []),
        *prepared.launch(),
        f"--spring.config.additional-location=file:{props_file}",
    ]
    # A clean environment: no cloud or AI credentials, no proxies, the same locale and
    # time zone everywhere. conductor-oss 3.32 reads OPENAI_API_KEY and friends.
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC", "HOME": str(run_dir)}
    proc = procs.spawn(space.command(argv) if space else argv, log=log, cwd=run_dir, env=env)
    stack.callback(procs.stop, proc)
    base_url = f"http://127.0.0.1:{chosen}"
    if space is not None:  # the server's port, forwarded to loopback on the host
        base_url = f"http://127.0.0.1:{await space.forward_in(chosen, port or 0)}"
    async with ConductorClient(base_url) as client:
        try:
            await wait_ready(client, name=str(spec), proc=proc, log=log, timeout_s=ready_timeout_s)
        except PortInUseError:
            if port is not None:
                raise
            procs.stop(proc)  # lost a race for an auto-picked port: try once more
            return await start(
                prepared,
                profile,
                workdir / "retry",
                stack,
                ready_timeout_s=ready_timeout_s,
                isolation=isolation,
                store=given_store,
                space=given_space,
            )
    if sharing is not None and not sharing.ready:  # the first start lists, this builds
        await build_archive(
            sharing,
            run_dir / "classes.lst",
            java=prepared.java.executable,
            jvm_options=MEMORY,
            launch=prepared.launch(),
            log=run_dir / "cds.log",
        )
    identity = locked_identity(
        spec, lock, profile, runtime="process", java=prepared.java.describe()
    )
    identity = replace(identity, isolation=netns.describe(isolation, endpoints))
    if space is not None:
        space.mark()  # blocked calls count from here: start-up is not a workflow's doing
    return RunningTarget(
        spec,
        identity,
        base_url,
        time.monotonic() - started,
        log,
        exited=process_probe(proc),
        listen=space.listen if space else None,
        blocked=space.refused if space else None,
        kill=lambda sig: procs.signal_group(proc, signal.Signals(sig)),
        threads=process_threads(proc.pid),
    )


async def _place(
    profile: Profile,
    run_dir: Path,
    stack: AsyncExitStack,
    isolation: Isolation,
    *,
    store: Store | None,
    space: netns.Namespace | None,
) -> tuple[Isolation, list[netns.Endpoint], netns.Namespace | None, Store | None]:
    """Where the server runs: the caller's namespace and store, or its own, stopped on
    ``stack``; with the isolation it has and the endpoints it may reach."""
    if store is not None and store.kind != profile.store:
        raise ValueError(f"the {profile.name} profile does not run on a {store.kind} store")
    if store is not None and space is None and isolation.enforce:
        raise ValueError("a store without its namespace: an isolated server cannot reach it")
    if space is not None:
        isolation = replace(isolation, enforce=True)  # the caller's namespace isolates it
    else:
        netns.require_isolation(isolation, "process")
    endpoints: list[netns.Endpoint] = []
    if isolation.enforce:
        endpoints = await asyncio.to_thread(netns.resolve, isolation.allowed)
    if space is None and isolation.enforce:
        space = await netns.create(run_dir / "netns", endpoints, stack)
    if store is None and profile.store is not None:
        store = await start_store(profile, run_dir / profile.store, space)
        if store is not None:
            stack.callback(store.stop)
    return isolation, endpoints, space, store


async def prepare_async(
    spec: TargetSpec, profile: Profile, *, unpack_jar: bool = True, jit: str = DEFAULT_JIT
) -> Prepared:
    """``prepare`` off the event loop: Maven downloads, hashing and unpacking take seconds."""
    return await asyncio.to_thread(prepare, spec, profile, unpack_jar=unpack_jar, jit=jit)
