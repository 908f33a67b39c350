"""Faster server start-up: a boot jar unpacked into a plain class path, and a class data
sharing archive (AppCDS) of the classes the server loads, both cached.

A Spring Boot jar loads its classes from nested jars through its own class loader, which
the JVM cannot archive. Unpacked, the same classes load from plain jars by the JVM's
application class loader, in the order the boot jar's launcher gives them:

- ``JarLauncher``: ``BOOT-INF/classes`` (packed here as one jar carrying the boot jar's
  manifest, so that a package's implementation version reads the same), then
  ``BOOT-INF/lib`` in ``BOOT-INF/classpath.idx`` order;
- ``PropertiesLauncher`` with ``loader.path`` (a store module the boot jar lacks): the
  ``loader.path`` jars first, then the same.

The archive is built in two steps from a server's first start on that class path: the
JVM lists the classes it loads (``-XX:DumpLoadedClassList``) until the server is ready,
then a second JVM dumps them into a static archive (``-Xshare:dump``), which needs no
base archive from the JRE. Later starts map it (``-XX:SharedArchiveFile``, with
``-Xshare:auto``: a stale or refused archive only costs the speed). Everything is keyed
by the boot jar's digest, the JRE and the class path, under the artifact cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInputError
from harness.targets.launcher import manifest_fields
from harness.targets.procs import die_with_parent

_CLASSES = "BOOT-INF/classes/"
_LIB = "BOOT-INF/lib/"
_INDEX = "BOOT-INF/classpath.idx"
_LAUNCHER = ("org/springframework/boot/loader/", "META-INF/services/java.nio.file.spi.")
APP_JAR = "application.jar"
_DUMP_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A boot jar as a plain class path: run as ``java -cp CLASS_PATH MAIN``."""

    main: str
    class_path: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Sharing:
    """Where one class path's archive lives, or is to be built."""

    archive: Path

    @property
    def ready(self) -> bool:
        return self.archive.is_file()

    def flags(self, class_list: Path) -> list[str]:
        """The JVM options of a start: map the archive, or list the classes it loads into
        ``class_list`` (in the start's own folder) to build one."""
        if self.ready:
            return [f"-XX:SharedArchiveFile={self.archive}", "-Xshare:auto"]
        return [f"-XX:DumpLoadedClassList={class_list}"]


def unpack(jar: Path, digest: str, cache: Path) -> Unpacked:
    """The boot jar ``jar`` (sha256 ``digest``) unpacked under ``cache`` once; later calls
    find it there. A half-written folder is never seen: it is renamed into place whole."""
    home = cache / "unpacked" / digest[:32]
    if not (home / "main").is_file():
        home.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=home.parent))
        try:
            _unpack_into(jar, work)
            try:
                work.rename(home)
            except OSError:  # another run unpacked it first
                if not (home / "main").is_file():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    main = (home / "main").read_text(encoding="utf-8").strip()
    order = (home / "classpath").read_text(encoding="utf-8").split()
    return Unpacked(main, tuple(home / name for name in order))


def launch_unpacked(unpacked: Unpacked, extra: Sequence[Path] = ()) -> list[str]:
    """The java arguments, after the JVM's options, that start the unpacked server; the
    extra jars go first, as ``PropertiesLauncher`` puts ``loader.path``."""
    return ["-cp", os.pathsep.join(str(p) for p in (*extra, *unpacked.class_path)), unpacked.main]


def sharing_for(cache: Path, digest: str, java: str, launch: Sequence[str]) -> Sharing:
    """The archive of one boot jar (``digest``) run by one JRE (``java``, its description
    with its path) with the java arguments ``launch``."""
    key = hashlib.sha256("\0".join([digest, java, *launch]).encode()).hexdigest()[:32]
    return Sharing(cache / "cds" / digest[:32] / f"{key}.jsa")


async def build_archive(
    sharing: Sharing,
    listed: Path,
    *,
    java: Path,
    jvm_options: Sequence[str],
    launch: Sequence[str],
    log: Path,
) -> bool:
    """Dump the classes a first start listed (``listed``, up to now: the server runs on)
    into ``sharing``'s archive; ``launch`` gives the class path. Returns whether an archive
    is now in place. A failure costs speed only: the reason goes to ``log``, and the next
    start lists the classes again."""
    if sharing.ready or not listed.is_file():
        return sharing.ready
    sharing.archive.parent.mkdir(parents=True, exist_ok=True)
    snapshot = listed.with_suffix(".snapshot")
    lines = listed.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    complete = [line for line in lines if line.endswith("\n")]  # one may be half-written
    snapshot.write_text("".join(complete), encoding="utf-8")
    partial = sharing.archive.with_suffix(f".{os.getpid()}.part")
    argv = [
        str(java),
        *jvm_options,
        "-Xshare:dump",
        f"-XX:SharedClassListFile={snapshot}",
        f"-XX:SharedArchiveFile={partial}",
        *launch[:2],  # -cp CLASS_PATH
    ]
    if launch[:1] != ["-cp"]:
        raise BadInputError(f"an archive is built for a class path, not for {launch[:2]}")
    try:
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
            try:
                code = await asyncio.wait_for(proc.wait(), _DUMP_TIMEOUT_S)
            except (TimeoutError, asyncio.CancelledError):
                proc.kill()
                await proc.wait()
                raise
        if code == 0 and partial.is_file():
            partial.replace(sharing.archive)
        return sharing.ready
    except TimeoutError:
        return False
    finally:
        snapshot.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)


def _unpack_into(jar: Path, work: Path) -> None:
    with zipfile.ZipFile(jar) as boot:
        names = boot.namelist()
        manifest = manifest_fields(boot.read("META-INF/MANIFEST.MF").decode("utf-8", "replace"))
        main = manifest.get("Start-Class")
        if not main or not any(n.startswith(_CLASSES) for n in names):
            raise BadInputError(f"{jar} is not a Spring Boot jar (no Start-Class or classes).")
        libs = [n for n in names if n.startswith(_LIB) and n.endswith(".jar")]
        order = _lib_order(boot, libs)
        (work / "lib").mkdir()
        for name in order:
            with boot.open(name) as src, (work / "lib" / Path(name).name).open("wb") as dst:
                shutil.copyfileobj(src, dst)
        roots = [n for n in names if not n.startswith(_CLASSES)]
        _pack_classes(boot, roots + [n for n in names if n.startswith(_CLASSES)], work / APP_JAR)
    paths = [APP_JAR, *(f"lib/{Path(n).name}" for n in order)]
    (work / "classpath").write_text("\n".join(paths) + "\n", encoding="utf-8")
    (work / "main").write_text(main + "\n", encoding="utf-8")


def _lib_order(boot: zipfile.ZipFile, libs: list[str]) -> list[str]:
    """``BOOT-INF/lib`` in the launcher's order: the class path index, else the jar's."""
    if _INDEX not in boot.namelist():
        return libs
    indexed = []
    for line in boot.read(_INDEX).decode("utf-8").splitlines():
        name = line.strip().removeprefix("- ").strip().strip('"')
        if name:
            indexed.append(name)
    known = set(libs)
    ordered = [n for n in indexed if n in known]
    return ordered + [n for n in libs if n not in set(ordered)]


def _pack_classes(boot: zipfile.ZipFile, names: list[str], target: Path) -> None:
    """One jar of what the launcher's class loaders see besides ``BOOT-INF/lib``: the boot
    jar's own entries first (``META-INF/build-info.properties``, read through the parent
    loader; its manifest, whose ``Implementation-Version`` a package reports), then
    ``BOOT-INF/classes``. Not the launcher itself, nor its signature and services files."""
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as app:
        for name in names:
            if name.startswith(_CLASSES):
                inner = name[len(_CLASSES) :]
            elif name.startswith(("BOOT-INF/", *_LAUNCHER)) or name.endswith(".SF"):
                continue
            else:
                inner = name
            if not inner or inner in seen:
                continue
            seen.add(inner)
            app.writestr(inner, b"" if name.endswith("/") else boot.read(name))
