"""Lock files: the pinned, digest-checked server artifacts of each known version.

One JSON file per version under ``fixtures/locks/`` (``netflix-3.15.0.json``; an installed
wheel carries them as package data: ``harness.resources``). The set of lock files *is*
the set of versions conductor-compat knows how to start; ``conductor-compat targets lock``
writes a new one from what Maven resolves.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import BadInputError, DigestMismatchError, UnknownTargetError
from harness.resources import locks_dir as shipped_locks_dir
from harness.targets.spec import Flavor, TargetSpec

LOCK_FORMAT = 1
LOCKS_ENV = "CONDUCTOR_COMPAT_LOCKS"

# Versions users ask for that Maven Central does not carry, with what to do instead.
# Checked with `mvn dependency:get` on 2026-11-25: org.conductoross:conductor-server
# publishes boot jars for 3.21.14 and 3.32.1-3.32.3 only in that range.
UNPUBLISHED: dict[str, str] = {
    "oss:3.21.20": (
        "conductor-oss 3.21.20 has no server artifact on Maven Central "
        "(org.conductoross:conductor-server publishes 3.21.14, then 3.32.x), so the "
        "process runtime cannot start it. Use oss:3.21.14, the newest published Java 17 "
        "server, or point remote:URL at a 3.21.20 server you run yourself."
    ),
}


@dataclass(frozen=True, slots=True)
class Artifact:
    """One pinned file: its Maven coordinate, name, size and sha256."""

    coordinate: str  # groupId:artifactId:version:type:classifier
    file: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "coordinate": self.coordinate,
            "file": self.file,
            "size": self.size,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Artifact:
        return cls(raw["coordinate"], raw["file"], int(raw["size"]), raw["sha256"].lower())


@dataclass(frozen=True, slots=True)
class VersionLock:
    """Everything needed to start one version with the process runtime.

    ``class_path``: per profile, the jars a profile adds to the server's class path (a store
    module the boot jar lacks); resolved only when that profile runs. Optional in the file.
    """

    target: TargetSpec
    java: int  # the lowest Java major version the server runs on
    embedded_backend: str  # "memory" or "sqlite": see profiles.py
    artifacts: tuple[Artifact, ...]
    path: Path
    class_path: Mapping[str, tuple[Artifact, ...]] = field(default_factory=dict, hash=False)
    java_max: int | None = None  # the newest Java it runs correctly on (None: any newer)

    @property
    def server_jar(self) -> Artifact:
        return self.artifacts[0]

    def extra_jars(self, profile: str) -> tuple[Artifact, ...]:
        """What ``profile`` adds to the server's class path (mostly nothing)."""
        return self.class_path.get(profile, ())

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "lock_format": LOCK_FORMAT,
            "target": str(self.target),
            "java": self.java,
            **({"java_max": self.java_max} if self.java_max else {}),
            "embedded_backend": self.embedded_backend,
            "artifacts": [a.to_json() for a in self.artifacts],
        }
        if self.class_path:
            raw["class_path"] = {
                name: [a.to_json() for a in jars] for name, jars in sorted(self.class_path.items())
            }
        return raw


def locks_dir() -> Path:
    """Where lock files live: ``$CONDUCTOR_COMPAT_LOCKS``, else the shipped ones (the
    package's data when installed, ``fixtures/locks`` in a checkout)."""
    override = os.environ.get(LOCKS_ENV)
    if override:
        return Path(override)
    return shipped_locks_dir()


def lock_path(target: TargetSpec, directory: Path | None = None) -> Path:
    return (directory or locks_dir()) / f"{target.flavor.value}-{target.version}.json"


def load_lock(path: Path) -> VersionLock:
    from harness.targets.spec import parse_target

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("lock_format") != LOCK_FORMAT:
            raise ValueError(f"lock_format {raw.get('lock_format')!r}, expected {LOCK_FORMAT}")
        artifacts = tuple(Artifact.from_json(a) for a in raw["artifacts"])
        if not artifacts:
            raise ValueError("no artifacts")
        class_path = {
            str(name): tuple(Artifact.from_json(a) for a in jars)
            for name, jars in (raw.get("class_path") or {}).items()
        }
        return VersionLock(
            target=parse_target(raw["target"]),
            java=int(raw["java"]),
            embedded_backend=str(raw["embedded_backend"]),
            artifacts=artifacts,
            path=path,
            class_path=class_path,
            java_max=int(raw["java_max"]) if raw.get("java_max") else None,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInputError(f"Lock file {path} is unreadable: {exc}.") from exc


def known_locks(directory: Path | None = None) -> list[VersionLock]:
    """Every lock file, sorted by flavor then version."""
    folder = directory or locks_dir()
    locks = [load_lock(p) for p in sorted(folder.glob("*.json"))]
    return sorted(locks, key=lambda lk: (lk.target.flavor.value, _version_key(lk.target)))


def release_key(target: TargetSpec) -> tuple[tuple[int, ...], str]:
    """Release order across both lines: conductor-oss continues Netflix's numbers."""
    return _version_key(target), target.flavor.value


def _version_key(target: TargetSpec) -> tuple[int, ...]:
    return tuple(int(p) for p in (target.version or "0").split("."))


def find_lock(target: TargetSpec, directory: Path | None = None) -> VersionLock:
    """The lock of a known version, or an error that lists the known ones."""
    if target.flavor is Flavor.REMOTE:
        raise BadInputError(f"{target} is a remote target: it has no artifacts to lock.")
    path = lock_path(target, directory)
    if path.exists():
        return load_lock(path)
    known = ", ".join(str(lk.target) for lk in known_locks(directory)) or "none"
    hint = UNPUBLISHED.get(str(target))
    message = f"Unknown target {target}: conductor-compat has no lock file for it. Known: {known}."
    if hint:
        message = f"{message} {hint}"
    else:
        message = (
            f"{message} To add a published version, run "
            f"'conductor-compat targets lock {target}' and commit the file it writes."
        )
    raise UnknownTargetError(message)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, artifact: Artifact) -> None:
    """Refuse a file whose size or sha256 differs from the lock."""
    size = path.stat().st_size
    actual = sha256_file(path) if size == artifact.size else None
    if actual == artifact.sha256:
        return
    got = f"sha256 {actual}" if actual else f"{size} bytes"
    raise DigestMismatchError(
        f"{path} does not match its lock: expected sha256 {artifact.sha256} "
        f"({artifact.size} bytes), got {got}. conductor-compat refuses to run an "
        "unverified server. If the file is corrupt, delete it and it will be resolved "
        "again; if the lock is wrong, re-create it with 'conductor-compat targets lock'."
    )
