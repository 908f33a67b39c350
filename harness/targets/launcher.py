"""How a server's boot jar is launched: ``-jar``, or, when a profile adds jars to its class
path (a store module the boot jar lacks), through Spring Boot's ``PropertiesLauncher``,
which loads them from ``loader.path`` besides the jar's own ``BOOT-INF/lib``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from harness.errors import BadInputError


def launch_args(jar: Path, class_path: Sequence[Path] = ()) -> list[str]:
    """The java arguments, after the JVM's options, that start the server in ``jar``."""
    if not class_path:
        return ["-jar", str(jar)]
    fields = manifest(jar)
    main, start = fields.get("Main-Class"), fields.get("Start-Class")
    if not main or not start:
        raise BadInputError(f"{jar} names no Main-Class and Start-Class: not a Spring Boot jar.")
    # org.springframework.boot.loader[.launch].JarLauncher -> …PropertiesLauncher
    launcher = main.rsplit(".", 1)[0] + ".PropertiesLauncher"
    return [
        "-cp",
        str(jar),
        "-Dloader.path=" + ",".join(str(p) for p in class_path),
        f"-Dloader.main={start}",
        launcher,
    ]


def has_module(jar: Path, artifact_id: str) -> bool:
    """Does the boot jar carry ``artifact_id`` (any version) in its ``BOOT-INF/lib``?"""
    with zipfile.ZipFile(jar) as boot:
        return any(n.startswith(f"BOOT-INF/lib/{artifact_id}-") for n in boot.namelist())


def manifest(jar: Path) -> dict[str, str]:
    """The main attributes of ``jar``'s manifest."""
    with zipfile.ZipFile(jar) as boot:
        return manifest_fields(boot.read("META-INF/MANIFEST.MF").decode("utf-8", "replace"))


def manifest_fields(text: str) -> dict[str, str]:
    """A manifest's attributes, long values joined from their continuation lines."""
    fields: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith(" ") and name:  # a long value goes on over lines
            fields[name] += line[1:].rstrip()
            continue
        name, sep, value = line.partition(":")
        name = name.strip() if sep else ""
        if name:
            fields[name] = value.strip()
    return fields
