"""What a provisioned target looks like to the rest of the harness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.targets.spec import TargetSpec


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


NETWORKS = ("host", "bridge")


@dataclass(frozen=True, slots=True)
class DockerSettings:
    """How the docker runtime runs targets.

    ``images``: target -> the user's image, instead of one built from the lock.
    ``network``: ``host`` (the server on 127.0.0.1, as under the process runtime) or
    ``bridge`` (a per-run internal network: reached from this host only, no route out).
    ``reuse``: keep a warm container between runs, reset to a clean state before each.
    """

    images: Mapping[str, str] = field(default_factory=dict)
    network: str = "host"
    reuse: bool = False

    def image_for(self, spec: TargetSpec) -> str | None:
        return self.images.get(str(spec))
