"""Write a lock file for a published version (``conductor-compat targets lock``)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from harness.errors import BadInputError, UnknownTargetError
from harness.targets.locks import UNPUBLISHED, Artifact, VersionLock, lock_path, sha256_file
from harness.targets.maven import artifact_path, download
from harness.targets.spec import Flavor, TargetSpec

GROUPS = {Flavor.NETFLIX: "com.netflix.conductor", Flavor.OSS: "org.conductoross"}
_DYNO_QUEUE = "com/netflix/conductor/redis/dao/DynoQueueDAO.class"
# Netflix's 3.x jars do not say which JDK built them; 17 is what they were verified on.
DEFAULT_JAVA = 17


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
            if line.startswith("Build-Jdk-Spec:"):
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


def write_lock(target: TargetSpec, directory: Path | None = None, java: int | None = None) -> Path:
    """Resolve ``target`` with Maven, hash it, and write its lock file."""
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
    )
    lock.path.parent.mkdir(parents=True, exist_ok=True)
    lock.path.write_text(json.dumps(lock.to_json(), indent=2) + "\n", encoding="utf-8")
    return lock.path
