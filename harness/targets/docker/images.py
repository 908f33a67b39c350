"""The images the docker runtime runs: the same locked server jar as the process runtime,
over a JRE base image of the version's Java.

    --image TARGET=IMAGE         an image the user names, used as it is
    conductor-compat/server:...  built here from the locked jar, reused while its
                                 ``conductor-compat.lock`` label matches the lock
    JRE base                     CONDUCTOR_COMPAT_JRE_IMAGE_<java>, else a local
                                 conductor-compat/jre:<java> (scripts/build-jre-images,
                                 from Debian's packages), else eclipse-temurin:<java>-jre
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

import docker
import docker.errors

from harness.targets.docker.engine import DockerError
from harness.targets.locks import VersionLock
from harness.targets.maven import resolve
from harness.targets.model import DockerSettings
from harness.targets.spec import TargetSpec

LOCK_LABEL = "conductor-compat.lock"
JAR = "/opt/conductor/server.jar"  # where a server image holds the jar


def image_for(
    client: docker.DockerClient, spec: TargetSpec, lock: VersionLock, settings: DockerSettings
) -> str:
    """The user's image for ``spec``, or one built here from its locked jar."""
    named = settings.image_for(spec)
    if named:
        return named
    return server_image(client, lock, resolve(lock))


def base_image(client: docker.DockerClient, java: int) -> str:
    """The JRE image for ``java``: named by the user, built locally, or the public default."""
    named = os.environ.get(f"CONDUCTOR_COMPAT_JRE_IMAGE_{java}")
    if named:
        return _have(client, named)
    local = f"conductor-compat/jre:{java}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.get(local)
        return local
    return _have(client, f"eclipse-temurin:{java}-jre")


def _have(client: docker.DockerClient, name: str) -> str:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.get(name)
        return name
    try:
        client.images.pull(name)
    except docker.errors.DockerException as exc:
        raise DockerError(
            f"The image {name} is not here and cannot be pulled ({exc}). With no registry, "
            "build the JRE images from Debian's packages with scripts/build-jre-images "
            "(--java11 adds the Java 11 one that Netflix up to 3.13.8 runs on), or "
            f"name one with CONDUCTOR_COMPAT_JRE_IMAGE_<java>=IMAGE."
        ) from exc
    return name


def lock_digest(lock: VersionLock, base: str) -> str:
    """What the server image is made of: the lock file (jar digests) and the base image."""
    recipe = json.dumps({"lock": lock.to_json(), "base": base}, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()[:32]


def server_image(client: docker.DockerClient, lock: VersionLock, jar: Path) -> str:
    """conductor-compat/server:<flavor>-<version>, built from the locked jar when missing
    or stale (its label no longer matches the lock and base image)."""
    base = base_image(client, lock.java)
    tag = f"conductor-compat/server:{lock.target.slug}"
    digest = lock_digest(lock, base)
    with contextlib.suppress(docker.errors.ImageNotFound):
        if client.images.get(tag).labels.get(LOCK_LABEL) == digest:
            return tag
    dockerfile = (
        f"FROM {base}\nCOPY server.jar {JAR}\n"
        f'LABEL {LOCK_LABEL}="{digest}" conductor-compat.jar-sha256="{lock.server_jar.sha256}"\n'
    ).encode()
    with tempfile.TemporaryFile() as context:
        with tarfile.open(fileobj=context, mode="w") as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile))
            tar.add(str(jar), arcname="server.jar")
        context.seek(0)
        try:
            client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
        except docker.errors.DockerException as exc:
            raise DockerError(f"Could not build {tag} over {base}: {exc}") from exc
    return tag


def image_id(client: docker.DockerClient, image: str) -> str:
    """The id of a local image (what a tag points at now)."""
    try:
        return str(client.images.get(image).id)
    except docker.errors.DockerException as exc:
        raise DockerError(f"The image {image} is not here: {exc}") from exc
