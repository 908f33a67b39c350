"""What a provisioned target looks like to the rest of the harness."""

from __future__ import annotations

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
