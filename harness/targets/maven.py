"""Resolve locked server artifacts with Maven into a per-user cache, verified.

Maven is used through its ordinary client, so a user's ``settings.xml`` (mirrors,
proxies, credentials) applies unchanged. Files land in
``$CONDUCTOR_COMPAT_CACHE/artifacts/`` (default ``~/.cache/conductor-compat``) and
are checked against the lock's sha256 on every use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.errors import ArtifactResolutionError, MavenMissingError
from harness.targets.locks import Artifact, VersionLock, verify
from harness.targets.procs import die_with_parent

CACHE_ENV = "CONDUCTOR_COMPAT_CACHE"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
_MVN_TIMEOUT_S = 1800


def cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "conductor-compat"


def find_mvn() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise MavenMissingError(
            "Maven ('mvn') is not on PATH. conductor-compat resolves the servers' published "
            "artifacts with it. Install it (Debian/Ubuntu: 'apt-get install maven'; others: "
            "https://maven.apache.org/install.html), or run against a server you start "
            "yourself with a remote:URL target."
        )
    return mvn


def artifact_path(artifact: Artifact, cache: Path | None = None) -> Path:
    group, name, version, *_ = artifact.coordinate.split(":")
    return (cache or cache_dir()) / "artifacts" / group / name / version / artifact.file


def resolve(lock: VersionLock, cache: Path | None = None) -> Path:
    """Return the verified server jar of ``lock``, downloading it with Maven if needed."""
    paths = [ensure_artifact(a, cache) for a in lock.artifacts]
    return paths[0]


def resolve_class_path(lock: VersionLock, profile: str, cache: Path | None = None) -> list[Path]:
    """The verified jars ``profile`` adds to the server's class path (none for most)."""
    return [ensure_artifact(a, cache) for a in lock.extra_jars(profile)]


def ensure_artifact(artifact: Artifact, cache: Path | None = None) -> Path:
    path = artifact_path(artifact, cache)
    if not path.exists():
        download(artifact.coordinate, path)
    verify(path, artifact)
    return path


def download(coordinate: str, dest: Path) -> None:
    """Copy one artifact from Maven (local repository or remote) to ``dest``, atomically."""
    mvn = find_mvn()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".resolve-") as tmp:
        cmd = [
            mvn,
            "-B",
            "-q",
            "-C",  # batch, quiet, fail on checksum mismatch
            f"{DEPENDENCY_PLUGIN}:copy",
            f"-Dartifact={coordinate}",
            f"-DoutputDirectory={tmp}",
            "-Dmdep.overWriteReleases=true",
        ]
        try:
            proc = subprocess.run(
                cmd,
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=_MVN_TIMEOUT_S,
                check=False,
                preexec_fn=die_with_parent,
            )
        except subprocess.TimeoutExpired as exc:
            raise ArtifactResolutionError(
                f"Maven did not resolve {coordinate} within {_MVN_TIMEOUT_S} s."
            ) from exc
        files = [p for p in Path(tmp).iterdir() if p.is_file()]
        if proc.returncode != 0 or len(files) != 1:
            lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
            raise ArtifactResolutionError(
                f"Maven could not resolve {coordinate} (exit {proc.returncode}). Check that "
                "Maven reaches Maven Central or your settings.xml mirror, then try again.",
                details=lines[-15:],
            )
        os.replace(files[0], dest)
