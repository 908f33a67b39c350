"""Where the docker runtime runs a server (``--network``), and how the harness reaches it.

``none`` (the default): a namespace with a loopback and nothing else, isolated as the
process runtime's servers are (``netns``): the harness forwards the server's port from
127.0.0.1 into the container's namespace, makes each stub's socket there, and relays the
declared outbound hosts. Entering a container's namespace needs root. ``bridge``: an
internal network, the stub at its gateway; ``host``: the host's network. Neither isolates
the server from the host's services.
"""

from __future__ import annotations

import asyncio
import shlex
from contextlib import AsyncExitStack
from pathlib import Path

import docker
from docker.models.containers import Container

from harness.targets import netns
from harness.targets.docker.engine import internal_network
from harness.targets.docker.images import JAR
from harness.targets.model import DockerSettings, Isolation
from harness.targets.ports import free_port
from harness.targets.process import jvm_flags
from harness.targets.profiles import Profile

WORK = Path("/work")  # the server's folder, as the container sees it
BRIDGE_PORT = 8080  # the server's port inside its own network namespace


class Placement:
    """Where a server runs: its network, its address as the host reaches it, and the
    address the harness's stub must listen on for the server to reach it."""

    def __init__(
        self,
        network: str,
        *,
        port: int,
        gateway: str = "127.0.0.1",
        endpoints: tuple[netns.Endpoint, ...] = (),
    ) -> None:
        self.network = network  # "host", "none" or a docker network's name
        self.port = port
        self.gateway = gateway
        self.endpoints = endpoints  # "none": the declared outbound hosts

    @property
    def is_host(self) -> bool:
        return self.network == "host"

    @property
    def is_sealed(self) -> bool:
        """In a namespace of its own with a loopback only (``--network none``)."""
        return self.network == "none"

    def isolation(self) -> str:
        if self.is_sealed:
            return netns.describe(Isolation(), self.endpoints)
        if self.is_host:
            return "not enforced (--network host)"
        return "not enforced (--network bridge: the host's services answer at the gateway)"

    def properties(self, profile: Profile, embedded_backend: str) -> dict[str, str]:
        props = profile.properties(
            port=self.port, embedded_backend=embedded_backend, state_dir=WORK
        )
        if not self.is_host and not self.is_sealed:
            props["server.address"] = "0.0.0.0"  # on a network only this host reaches
        return props

    def command(self) -> str:
        direct = [e.host for e in self.endpoints] if self.is_sealed else []
        direct += [] if self.is_host else [self.gateway]
        config = f"--spring.config.additional-location=file:{WORK / 'server.properties'}"
        flags = jvm_flags(WORK, direct, isolated=self.is_sealed)
        if netns.hosts_file(self.endpoints, "localhost") is not None:
            flags.append(f"-Djdk.net.hosts.file={WORK / 'hosts'}")  # no DNS in the namespace
        argv = ["java", *flags, "-jar", JAR, config]
        return f"exec {' '.join(shlex.quote(a) for a in argv)} > {WORK / 'server.log'} 2>&1"

    def base_url(self, container: Container) -> str:
        if self.is_host:
            return f"http://127.0.0.1:{self.port}"
        container.reload()
        address = container.attrs["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        return f"http://{address}:{self.port}"


def place(
    client: docker.DockerClient,
    settings: DockerSettings,
    *,
    network: str,
    run: str,
    endpoints: tuple[netns.Endpoint, ...] = (),
    host_port: int = 0,
) -> Placement:
    """A placement on the host's network (at ``host_port``, else a free one), in a namespace
    of its own (``none``), or on the internal bridge network ``network``, labelled ``run``."""
    if settings.network == "host":
        return Placement("host", port=host_port or free_port())
    if settings.network == "none":
        return Placement("none", port=BRIDGE_PORT, endpoints=endpoints)
    name, gateway = internal_network(client, network, run)
    return Placement(name, port=BRIDGE_PORT, gateway=gateway)


async def declared_endpoints(
    settings: DockerSettings, isolation: Isolation | None
) -> tuple[netns.Endpoint, ...]:
    """The declared outbound hosts, resolved, for ``--network none`` (which needs root)."""
    if settings.network != "none":
        return ()
    why = netns.unavailable()
    if why:
        raise netns.IsolationError(
            f"--network none cannot reach its containers here: {why}. Run as root, or choose "
            "--network bridge or host, which do not isolate servers from this host's services."
        )
    allowed = isolation.allowed if isolation else ()
    return tuple(await asyncio.to_thread(netns.resolve, allowed))


def write_hosts(run_dir: Path, placement: Placement) -> None:
    names = netns.hosts_file(placement.endpoints, "localhost")
    if names is not None:
        (run_dir / "hosts").write_text(names, encoding="utf-8")


async def reach(
    container: Container, placement: Placement, stack: AsyncExitStack
) -> tuple[str, netns.Namespace | None]:
    """The server's URL from this host; under ``--network none``, a port forwarded into
    the container's namespace, opened to the declared hosts, also returned."""
    if not placement.is_sealed:
        return await asyncio.to_thread(placement.base_url, container), None
    await asyncio.to_thread(container.reload)
    pid = int(container.attrs["State"]["Pid"])
    if not pid:  # exited already: readiness says how, with the server's log
        return "http://127.0.0.1:9", None
    space = await netns.attach(pid, placement.endpoints, stack)
    return f"http://127.0.0.1:{await space.forward_in(placement.port, 0)}", space
