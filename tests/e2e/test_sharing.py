"""A server unpacked into a plain class path loads the same classes from the same jars as
its boot jar does, and the class data sharing archive its first start built maps on the
JVM that runs it. (docs/benchmarks.md has the whole library recorded both ways, and the
start-up times.)
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from harness.targets import get_profile, parse_target, process
from harness.targets.process import MEMORY, Prepared, prepare
from tests.e2e.conftest import assert_nothing_left

pytestmark = pytest.mark.e2e

TARGET = "oss:3.32.1"  # Spring Boot 3.5: the boot jar's own nested-jar loader at its newest
_LOADED = re.compile(r"\] (\S+) source: (.+)$")
# Classes that one way loads and not the other, and why:
# - the boot jar's launcher and its nested-jar protocol (``org.springframework.boot.loader``);
# - the JDK's own classes for either way of reading jars, and for checking the signature
#   of a signed library jar (bcprov), which the JDK checks on a plain class path;
# - Tomcat's static resource set over jars: a nested-jar one, or the plain one.
_EITHER_WAY = (
    "org.springframework.boot.loader.",
    "org.springframework.boot.web.embedded.tomcat.NestedJarResourceSet",
    "org.springframework.boot.web.servlet.server.StaticResourceJars",
    "org.apache.catalina.webresources.",
    "org.apache.catalina.WebResourceRoot",
    "org.apache.tomcat.",
    "org.bouncycastle.",
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "com.sun.",
)


def _jar_of(source: str) -> str:
    """The library jar a class came from, named as both ways name it."""
    if "BOOT-INF/classes" in source or source.endswith("application.jar"):
        return "application"
    nested = re.search(r"BOOT-INF/lib/([^!/]+\.jar)", source)
    plain = re.search(r"/lib/([^/]+\.jar)$", source)
    match = nested or plain
    return match.group(1) if match else source


async def _loaded(
    prepared: Prepared, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Each class the server loaded until it was ready, with the jar it came from."""
    log = workdir / "class-load.log"
    flags = process.jvm_flags
    monkeypatch.setattr(
        process, "jvm_flags", lambda *a, **k: [*flags(*a, **k), f"-Xlog:class+load=info:file={log}"]
    )
    async with AsyncExitStack() as stack:
        await process.start(prepared, get_profile("embedded"), workdir, stack)
        text = log.read_text(encoding="utf-8", errors="replace")  # at ready, before the stop
    loaded = {}
    for line in text.splitlines():
        if m := _LOADED.search(line):
            name = re.sub(r"/0x[0-9a-f]+$", "", m.group(1))  # a lambda's or proxy's address
            loaded[name] = _jar_of(m.group(2).strip())
    return loaded


def test_unpacked_loads_every_class_from_the_jar_the_boot_jar_does(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, profile = parse_target(TARGET), get_profile("embedded")
    boot_jar = prepare(spec, profile, unpack_jar=False)
    boot = asyncio.run(_loaded(boot_jar, workdir / "boot", monkeypatch))
    unpacked_prepared = prepare(spec, profile)
    with monkeypatch.context() as m:  # no archive: the log then names each class's jar
        m.setattr(Prepared, "sharing", lambda self: None)
        unpacked = asyncio.run(_loaded(unpacked_prepared, workdir / "unpacked", monkeypatch))

    both = boot.keys() & unpacked.keys()
    assert len(both) > 10_000, len(both)
    moved = {c: (boot[c], unpacked[c]) for c in both if boot[c] != unpacked[c]}
    assert moved == {}
    only = sorted(c for c in boot.keys() ^ unpacked.keys() if not c.startswith(_EITHER_WAY))
    assert only == []
    conductor = {c for c in both if c.startswith(("com.netflix.conductor.", "org.conductoross."))}
    assert len(conductor) > 500  # the server's own classes are among them

    # The first unpacked start (of this test or an earlier run) built the archive: it maps
    # with this class path (-Xshare:on refuses to start otherwise).
    sharing = unpacked_prepared.sharing()
    if sharing is not None and not sharing.ready:  # a start with no archive builds it
        asyncio.run(_loaded(unpacked_prepared, workdir / "first", monkeypatch))
    assert sharing is not None and sharing.ready
    java = str(unpacked_prepared.java.executable)
    mapped = subprocess.run(
        [java, *MEMORY, f"-XX:SharedArchiveFile={sharing.archive}", "-Xshare:on",
         *unpacked_prepared.launch()[:2], "-version"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    assert "sharing" in mapped.stderr
    assert_nothing_left(workdir)
