"""The JIT of a server started unpacked on its archive: the JVM's tiered compilation by
default, C1 only when asked (``--jit c1``), the JVM's default always from the boot jar;
and an archive dumped without the flag maps with it (a real JVM)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import zipfile
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from harness.cli import config
from harness.cli.app import build_parser
from harness.cli.options import SERVER, plan_values
from harness.errors import BadInputError
from harness.pipeline import Plan
from harness.targets import process, procs
from harness.targets.java import JavaRuntime
from harness.targets.locks import find_lock
from harness.targets.model import DEFAULT_JIT, JITS, Isolation
from harness.targets.profiles import PROFILES
from harness.targets.sharing import Sharing, Unpacked, build_archive
from harness.targets.spec import parse_target

C1 = "-XX:TieredStopAtLevel=1"


def _prepared(tmp_path: Path, *, jit: str, unpacked: bool) -> process.Prepared:
    spec = parse_target("oss:3.32.1")
    shape = Unpacked("com.example.App", (tmp_path / "application.jar",)) if unpacked else None
    java = JavaRuntime(Path("/usr/bin/java"), 17, "PATH")
    return process.Prepared(
        spec, find_lock(spec), tmp_path / "server.jar", java, unpacked=shape, jit=jit
    )


def test_tiered_is_the_default_and_every_jit_has_its_flags() -> None:
    assert DEFAULT_JIT == "c1"
    assert set(process.JIT_FLAGS) == set(JITS)
    assert process.JIT_FLAGS["c1"] == (C1,)
    assert process.JIT_FLAGS["tiered"] == ()


@pytest.mark.parametrize(
    ("jit", "unpacked", "flags"),
    [
        ("c1", True, [C1]),
        ("tiered", True, []),
        ("c1", False, []),  # the boot jar keeps the JVM's default
        ("tiered", False, []),
    ],
)
def test_the_jit_flags_of_a_launch(
    tmp_path: Path, jit: str, unpacked: bool, flags: list[str]
) -> None:
    assert _prepared(tmp_path, jit=jit, unpacked=unpacked).jit_flags() == flags


def test_an_unknown_jit_is_refused_before_anything_is_resolved() -> None:
    with pytest.raises(BadInputError, match="Unknown JIT 'c2'"):
        process.prepare(parse_target("oss:3.32.1"), PROFILES["embedded"], jit="c2")


class _Spawned(Exception):
    pass


@pytest.mark.parametrize(("jit", "present"), [("c1", True), ("tiered", False)])
def test_the_server_command_carries_the_flag_before_its_class_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jit: str, present: bool
) -> None:
    argvs: list[list[str]] = []

    def spawn(argv: list[str], **_: object) -> None:
        argvs.append(list(argv))
        raise _Spawned

    monkeypatch.setattr(procs, "spawn", spawn)
    monkeypatch.setattr(process, "cache_dir", lambda: tmp_path / "cache")
    prepared = _prepared(tmp_path, jit=jit, unpacked=True)

    async def go() -> None:
        async with AsyncExitStack() as stack:
            await process.start(
                prepared, PROFILES["embedded"], tmp_path, stack, isolation=Isolation(enforce=False)
            )

    with pytest.raises(_Spawned):
        asyncio.run(go())
    (argv,) = argvs
    assert (C1 in argv) is present
    if present:
        assert argv.index(C1) < argv.index("-cp")  # a JVM option, not the server's


def test_run_takes_jit_from_the_flag_the_file_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config file found

    def settled(argv: list[str]) -> str:
        args = build_parser().parse_args(argv)
        config.apply(args)
        return str(plan_values(args, SERVER)["jit"])

    assert settled(["run", "--target", "oss:3.32.1", "--out", "t"]) == "c1"
    assert settled(["run", "--target", "oss:3.32.1", "--out", "t", "--jit", "tiered"]) == "tiered"
    (tmp_path / "conductor-compat.toml").write_text('jit = "tiered"\n', encoding="utf-8")
    assert settled(["run", "--target", "oss:3.32.1", "--out", "t"]) == "tiered"
    assert settled(["run", "--target", "oss:3.32.1", "--out", "t", "--jit", "c1"]) == "c1"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--target", "oss:3.32.1", "--jit", "c2"])


def test_a_plan_from_an_older_run_json_keeps_the_jit_it_ran_with() -> None:
    fresh = Plan(kind="run", targets=("oss:3.32.1",), out="t").to_json()
    assert Plan.from_json({**fresh, "jit": "c1"}).jit == "c1"
    older = {k: v for k, v in fresh.items() if k != "jit"}
    assert Plan.from_json(older).jit == "tiered"  # what it ran with


@pytest.mark.skipif(shutil.which("java") is None, reason="no java on PATH")
@pytest.mark.parametrize("flags", [[C1], []])
def test_an_archive_dumped_without_the_flag_maps_with_it(tmp_path: Path, flags: list[str]) -> None:
    """The archive is dumped with the servers' memory options only; a JVM with C1 only
    runs on it with ``-Xshare:on``, which fails unless the archive maps."""
    java = Path(shutil.which("java") or "java")
    app = tmp_path / "app.jar"
    with zipfile.ZipFile(app, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n")
    listed = tmp_path / "classes.lst"
    listed.write_text("java/lang/Object\njava/util/ArrayList\n", encoding="utf-8")
    sharing = Sharing(tmp_path / "cds" / "app.jsa")
    launch = ["-cp", str(app), "Main"]
    built = asyncio.run(
        build_archive(
            sharing,
            listed,
            java=java,
            jvm_options=process.MEMORY,
            launch=launch,
            log=tmp_path / "cds.log",
        )
    )
    assert built, (tmp_path / "cds.log").read_text(errors="replace")[-2000:]
    args = ["-cp", str(app), "-version"]
    mapped = subprocess.run(
        [str(java), *process.MEMORY, *flags, *sharing.flags(listed)[:1], "-Xshare:on", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert mapped.returncode == 0, mapped.stderr[-2000:]
    assert "sharing" in mapped.stderr
