"""What a provisioned target looks like to the rest of the harness."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.targets.death import ExitProbe
from harness.targets.spec import TargetSpec
from harness.targets.threads import ThreadProbe


@dataclass(frozen=True, slots=True)
class TargetIdentity:
    """Who answered: recorded in every trace and report."""

    target: str
    flavor: str
    version: str | None
    runtime: str  # process | docker | remote
    profile: str | None  # None for remote targets: their configuration is theirs
    backend: str | None
    java: str | None
    artifact_sha256: str | None
    # whether the kernel keeps the server off the network, and what it may reach
    isolation: str = "not enforced"
    # the server properties its profile and the team set (not where it listens or stores);
    # None where the harness did not configure it (a remote target)
    settings: tuple[tuple[str, str], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "flavor": self.flavor,
            "version": self.version,
            "runtime": self.runtime,
            "profile": self.profile,
            "backend": self.backend,
            "java": self.java,
            "artifact_sha256": self.artifact_sha256,
            "isolation": self.isolation,
            **({"settings": dict(self.settings)} if self.settings is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class RunningTarget:
    """A server that answers at ``base_url``. ``headers`` are secrets: never print them."""

    spec: TargetSpec
    identity: TargetIdentity
    base_url: str
    start_seconds: float
    log: Path | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    # where the harness's HTTP stub must listen for this server to reach it
    stub_host: str = "127.0.0.1"
    # has the server exited, and how? (None: it lives; no probe for remote targets)
    exited: ExitProbe | None = field(default=None, repr=False, compare=False)
    # isolated servers: a listening socket in the server's network namespace, for the stub
    listen: Callable[[], socket.socket] | None = field(default=None, repr=False)
    # isolated servers: calls the kernel refused since the server became ready
    blocked: Callable[[], int | None] | None = field(default=None, repr=False)
    # started here: send the server's process a signal (an upgrade's kill -9 of the old one)
    kill: Callable[[int], None] | None = field(default=None, repr=False, compare=False)
    # started here as a process: its threads and the CPU each has used (targets/threads.py)
    threads: ThreadProbe | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Isolation:
    """How a run keeps its servers off the network.

    ``enforce``: each server in a network namespace of its own (``targets/netns.py``);
    ``False`` only with ``--no-isolation``. ``allowed``: HOST:PORT the servers may reach
    besides the stub (``--allow-outbound`` and the scenarios' ``allow_outbound`` lists).
    """

    enforce: bool = True
    allowed: tuple[str, ...] = ()


NETWORKS = ("none", "bridge", "host")
# The JIT of a server started unpacked on its archive (process runtime): "c1", C1 only
# (-XX:TieredStopAtLevel=1), or "tiered", the JVM's own default (C1 then C2). C1 is the
# default: on 2 cores the default compare's servers use 30% less CPU and are ready in
# 31 to 38% of a boot jar's time, with the same verdicts (docs/benchmarks.md).
JITS = ("tiered", "c1")
DEFAULT_JIT = "c1"


@dataclass(frozen=True, slots=True)
class DockerSettings:
    """How the docker runtime runs targets.

    ``images``: target -> the user's image, instead of one built from the lock.
    ``network``: ``none`` (a network namespace with a loopback only, isolated as under the
    process runtime), ``bridge`` (a per-run internal network: reached from this host only,
    no route out, the host's services at its gateway) or ``host`` (the host's network).
    ``reuse``: keep a warm container between runs, reset to a clean state before each.
    """

    images: Mapping[str, str] = field(default_factory=dict)
    network: str = "none"
    reuse: bool = False

    def image_for(self, spec: TargetSpec) -> str | None:
        return self.images.get(str(spec))
