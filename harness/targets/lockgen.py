"""Write a lock file for a published version (``conductor-compat targets lock``)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from harness.errors import BadInputError, UnknownTargetError
from harness.targets.java import NASHORN_LAST
from harness.targets.locks import UNPUBLISHED, Artifact, VersionLock, lock_path, sha256_file
from harness.targets.maven import artifact_path, download
from harness.targets.spec import Flavor, TargetSpec

GROUPS = {Flavor.NETFLIX: "com.netflix.conductor", Flavor.OSS: "org.conductoross"}
_DYNO_QUEUE = "com/netflix/conductor/redis/dao/DynoQueueDAO.class"
# A jar that names no JDK (no Build-Jdk-Spec, no X-Compile-Target-JDK) is taken to need 17.
DEFAULT_JAVA = 17
# What a profile adds to a version's class path when its boot jar lacks the store module:
# the community module and the part of its dependency tree that BOOT-INF/lib lacks
# (verified: netflix 3.15.0 starts on PostgreSQL with these, Flyway applying V1 to V8).
CLASS_PATH: dict[str, dict[str, tuple[str, ...]]] = {
    "netflix:3.15.0": {
        "postgres": (
            "com.netflix.conductor:conductor-postgres-persistence:3.15.0:jar",
            "com.netflix.conductor:conductor-common-persistence:3.15.0:jar",
            "org.postgresql:postgresql:42.3.8:jar",
            "com.zaxxer:HikariCP:4.0.3:jar",
            "org.springframework:spring-jdbc:5.3.30:jar",
            "org.springframework:spring-tx:5.3.30:jar",
            "org.flywaydb:flyway-core:8.5.13:jar",
        ),
    },
}


def coordinate(target: TargetSpec) -> str:
    if target.flavor not in GROUPS:
        raise BadInputError(f"{target} has no published artifacts to lock.")
    return f"{GROUPS[target.flavor]}:conductor-server:{target.version}:jar:boot"


def inspect_jar(jar: Path) -> tuple[int, str]:
    """(Java major the jar was built for, its embedded backend), read from the jar itself."""
    with zipfile.ZipFile(jar) as boot:
        manifest = boot.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
        java = DEFAULT_JAVA
        for line in manifest.splitlines():
            if line.startswith(("Build-Jdk-Spec:", "X-Compile-Target-JDK:")):
                java = int(line.split(":", 1)[1].strip())
        libs = [n for n in boot.namelist() if n.startswith("BOOT-INF/lib/")]
        for name in libs:
            if "/conductor-redis-persistence-" in name:
                with zipfile.ZipFile(io.BytesIO(boot.read(name))) as inner:
                    if _DYNO_QUEUE in inner.namelist():
                        return java, "memory"
        if any("/conductor-sqlite-persistence-" in n for n in libs):
            return java, "sqlite"
    raise BadInputError(
        f"{jar} has neither the in-memory dyno queue nor SQLite persistence, so the embedded "
        "profile cannot run it without external services."
    )


def newest_java(jar: Path, built_for: int) -> int | None:
    """The newest Java the jar runs correctly on: a jar built for a Java that had Nashorn
    and carrying no Nashorn of its own evaluates JavaScript with the JDK's, which Java 15
    removed (None: no such bound)."""
    if built_for > NASHORN_LAST:
        return None
    with zipfile.ZipFile(jar) as boot:
        if any("/nashorn-core-" in n for n in boot.namelist()):
            return None
    return NASHORN_LAST


def pinned(coord: str) -> Artifact:
    """One artifact resolved with Maven into the cache, with its size and sha256."""
    _, name, version, *rest = coord.split(":")
    kind = rest[0] if rest else "jar"
    classifier = f"-{rest[1]}" if len(rest) > 1 else ""
    file = f"{name}-{version}{classifier}.{kind}"
    staged = artifact_path(Artifact(coord, file, 0, ""))
    if not staged.exists():
        download(coord, staged)
    return Artifact(coord, file, staged.stat().st_size, sha256_file(staged))


def class_path(target: TargetSpec) -> dict[str, tuple[Artifact, ...]]:
    """The pinned extra jars of each profile that needs some on ``target``."""
    wanted = CLASS_PATH.get(str(target), {})
    return {profile: tuple(pinned(c) for c in coords) for profile, coords in wanted.items()}


def write_lock(target: TargetSpec, directory: Path | None = None, java: int | None = None) -> Path:
    """Resolve ``target`` (and the jars a profile adds to it) with Maven, hash them, and
    write its lock file."""
    if str(target) in UNPUBLISHED:
        raise UnknownTargetError(UNPUBLISHED[str(target)])
    coord = coordinate(target)
    name = f"conductor-server-{target.version}-boot.jar"
    staged = artifact_path(Artifact(coord, name, 0, ""))
    if not staged.exists():
        download(coord, staged)
    built_for, backend = inspect_jar(staged)
    lock = VersionLock(
        target=target,
        java=java or built_for,
        embedded_backend=backend,
        artifacts=(Artifact(coord, name, staged.stat().st_size, sha256_file(staged)),),
        path=lock_path(target, directory),
        class_path=class_path(target),
        java_max=newest_java(staged, built_for),
    )
    lock.path.parent.mkdir(parents=True, exist_ok=True)
    lock.path.write_text(json.dumps(lock.to_json(), indent=2) + "\n", encoding="utf-8")
    return lock.path
