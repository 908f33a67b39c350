"""The postgres profile's store: finding PostgreSQL, a real start and stop (about a second),
the record that stops a server whose run is gone, and the launcher of extra jars."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli.app import main
from harness.errors import ExitCode, PostgresMissingError, RedisMissingError, ServerExitedError
from harness.targets import postgres, stale
from harness.targets.launcher import has_module, launch_args
from harness.targets.lockgen import pinned
from harness.targets.locks import Artifact
from harness.targets.maven import artifact_path
from harness.targets.postgres import accepts, find_postgres, searchable, start_postgres
from harness.targets.profiles import PROFILES
from harness.targets.stores import Store, start_store
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONDUCTOR_COMPAT_CACHE", str(folder))
    return folder


@pytest.fixture
def installed() -> None:
    try:
        find_postgres()
    except PostgresMissingError as exc:
        require(False, exc.message)


def _exe(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_the_newest_packaged_postgresql_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setattr(postgres, "PACKAGES", tmp_path)
    for major in ("9", "15", "13"):
        for name in ("postgres", "initdb"):
            _exe(tmp_path / major / "bin" / name)
    _exe(tmp_path / "16" / "bin" / "postgres")  # no initdb: not usable
    assert find_postgres().postgres == tmp_path / "15" / "bin" / "postgres"


def test_missing_postgresql_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "postgres"
                        else which(name, *a, **k))  # fmt: skip
    monkeypatch.setattr(postgres, "PACKAGES", tmp_path)
    with pytest.raises(PostgresMissingError) as err:
        find_postgres()
    assert err.value.exit_code == RedisMissingError.exit_code == ExitCode.PREREQUISITE_MISSING
    assert "apt-get install postgresql" in err.value.message
    code = main(["targets", "check", "oss:3.21.14", "--profile", "postgres",
                 "--workdir", str(tmp_path / "w")])  # fmt: skip
    assert code == ExitCode.PREREQUISITE_MISSING
    shown = capsys.readouterr()
    assert "apt-get install postgresql" in shown.out + shown.err


def test_postgres_on_the_docker_runtime_is_refused_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # refused before the SDK is wanted
    code = main(["targets", "check", "--runtime", "docker", "--profile", "postgres",
                 "oss:3.21.14", "--workdir", str(tmp_path)])  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    shown = capsys.readouterr()
    assert "postgres profile runs with the process runtime" in shown.out + shown.err


def test_searchable_reads_the_mode_of_every_folder_on_the_way(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    uid, gid = 65534, 65534
    os.chmod(tmp_path, 0o755)
    assert searchable(deep, uid, gid) == all(p.stat().st_mode & 0o001 for p in tmp_path.parents)
    os.chmod(tmp_path / "a", 0o700)
    assert not searchable(deep, uid, gid)
    os.chmod(tmp_path / "a", 0o755)


def _status(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return line.split()[1]
    return ""


def _start_stop(folder: Path) -> dict[str, str]:
    """Start PostgreSQL in ``folder``, check it, stop it; what was seen of it."""

    async def go() -> dict[str, str]:
        store = await start_store(PROFILES["postgres"], folder, None)
        assert store is not None and store.server is not None
        server = store.server
        assert isinstance(server, postgres.PostgresServer)
        seen = {
            "uid": _status(server.proc.pid, "Uid"),
            "ambient": _status(server.proc.pid, "CapAmb"),
            "owner": str((folder / "data").stat().st_uid),
            "mode": oct((folder / "data").stat().st_mode & 0o777),
            "children": str(len(stale.children(server.proc.pid))),
        }
        assert accepts(store.port)
        assert store.properties()["spring.datasource.url"].endswith(f":{store.port}/postgres")
        assert server.record is not None and server.record.exists()
        store.stop()
        assert not accepts(store.port)
        assert not server.record.exists()
        assert server.proc.poll() is not None
        store.stop()  # a second stop does nothing more
        return seen

    return asyncio.run(go())


@pytest.mark.usefixtures("installed", "cache")
def test_a_real_postgres_in_a_folder_only_root_can_search(tmp_path: Path) -> None:
    folder = tmp_path / "closed" / "run" / "postgres"
    folder.mkdir(parents=True)
    os.chmod(tmp_path / "closed", 0o700)  # as pytest's own /tmp/pytest-of-root is
    started = time.monotonic()
    seen = _start_stop(folder)
    assert time.monotonic() - started < 30  # about a second on an idle machine
    assert seen["mode"] == "0o700"
    assert int(seen["children"]) >= 3  # checkpointer, writers, launchers
    if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as nobody, with the one cap
        assert seen["uid"] == seen["owner"] == "65534"
        assert int(seen["ambient"], 16) == 1 << 2  # CAP_DAC_READ_SEARCH
    assert "database system is shut down" in (folder / "postgres.log").read_text()


@pytest.mark.usefixtures("installed", "cache")
def test_a_real_postgres_where_nobody_can_search_gets_no_capability() -> None:
    base = Path(tempfile.mkdtemp(prefix="cc-pg-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        if not searchable(base, 65534, 65534):
            pytest.skip("/tmp is not searchable by nobody here")
        seen = _start_stop(base / "postgres")
        assert int(seen["ambient"], 16) == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.usefixtures("installed", "cache")
def test_a_start_that_fails_names_postgresql_and_shows_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(postgres.SETTINGS, "shared_buffers", "lots")
    with pytest.raises(ServerExitedError) as err:
        asyncio.run(start_postgres(tmp_path / "postgres"))
    assert "PostgreSQL (postgres profile) exited" in err.value.message
    assert any("shared_buffers" in line for line in err.value.details)
    assert not list(stale.live_dir().glob("*.json"))  # its record went with it


_KILLED = """
import asyncio, sys, time
from pathlib import Path
from harness.targets.postgres import start_postgres
server = asyncio.run(start_postgres(Path(sys.argv[1])))
print(server.proc.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.usefixtures("installed", "cache")
def test_postgresql_dies_with_a_harness_killed_with_sigkill(tmp_path: Path) -> None:
    folder = tmp_path / "closed" / "postgres"
    folder.mkdir(parents=True)
    os.chmod(tmp_path / "closed", 0o700)
    harness = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert harness.stdout is not None
    pid = int(harness.stdout.readline())
    family = [(pid, stale.start_time(pid) or 0), *stale.children(pid)]
    assert len(family) > 3
    harness.kill()
    harness.wait()
    deadline = time.monotonic() + 10
    while any(stale.alive(*p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(stale.alive(*p) for p in family)


@pytest.fixture
def sleeper() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A process whose command line names a marker, standing for a server."""
    marker = f"/tmp/cc-marker-{os.getpid()}-{time.monotonic_ns()}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    yield proc, marker
    proc.kill()
    proc.wait()


def _gone_owner() -> tuple[int, int]:
    owner = subprocess.Popen(["sleep", "30"])
    start = stale.start_time(owner.pid) or 0
    owner.kill()
    owner.wait()
    return owner.pid, start


def _record(cache: Path, pid: int, marker: str, owner: tuple[int, int]) -> Path:
    record = stale.Record("postgres", pid, stale.start_time(pid) or 0, *owner, marker)
    path = stale.live_dir(cache) / f"postgres-{pid}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(record)))
    return path


def test_a_server_of_a_live_run_is_left_alone(
    cache: Path, sleeper: tuple[subprocess.Popen[bytes], str]
) -> None:
    proc, marker = sleeper
    path = stale.register("postgres", proc.pid, marker)
    assert json.loads(path.read_text())["owner"] == os.getpid()
    assert stale.sweep() == []
    assert path.exists() and proc.poll() is None


def test_a_server_whose_run_is_gone_is_stopped(
    cache: Path, sleeper: tuple[subprocess.Popen[bytes], str]
) -> None:
    proc, marker = sleeper
    path = _record(cache, proc.pid, marker, _gone_owner())
    assert stale.sweep() == [f"postgres pid {proc.pid} ({marker})"]
    assert proc.wait(timeout=5) == -signal.SIGKILL
    assert not path.exists()


def test_a_recycled_pid_is_never_killed(
    cache: Path, sleeper: tuple[subprocess.Popen[bytes], str]
) -> None:
    proc, _ = sleeper
    path = _record(cache, proc.pid, "/some/other/data", _gone_owner())
    assert stale.sweep() == []
    assert proc.poll() is None and not path.exists()
    (stale.live_dir(cache) / "postgres-1.json").write_text("{not json")
    assert stale.sweep() == [] and not list(stale.live_dir(cache).iterdir())


def test_prune_stops_leftover_postgres_servers(
    cache: Path,
    sleeper: tuple[subprocess.Popen[bytes], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proc, marker = sleeper
    _record(cache, proc.pid, marker, _gone_owner())
    monkeypatch.setitem(sys.modules, "docker", None)  # no SDK: containers cannot be pruned
    assert main(["targets", "prune"]) == ExitCode.PREREQUISITE_MISSING
    shown = capsys.readouterr()
    assert f"stopped postgres pid {proc.pid}" in shown.out
    assert "1 leftover PostgreSQL server stopped" in shown.err
    assert proc.wait(timeout=5) == -signal.SIGKILL


@pytest.mark.parametrize(
    ("profile", "kind", "isolated", "says"),
    [
        ("postgres", "redis", False, "does not run on a redis store"),
        ("embedded", "postgres", False, "does not run on a postgres store"),
        ("postgres", "postgres", True, "a store without its namespace"),
    ],
)
def test_a_server_runs_only_on_a_store_it_can_use(
    tmp_path: Path, profile: str, kind: str, isolated: bool, says: str
) -> None:
    from contextlib import AsyncExitStack

    from harness.targets import process
    from harness.targets.java import JavaRuntime
    from harness.targets.locks import find_lock
    from harness.targets.model import Isolation
    from harness.targets.spec import parse_target

    spec = parse_target("oss:3.21.14")
    prepared = process.Prepared(
        spec, find_lock(spec), tmp_path / "server.jar", JavaRuntime(Path("java"), 17, "PATH")
    )
    store = Store(kind, 1, tmp_path, tmp_path / "log")

    async def go() -> None:
        async with AsyncExitStack() as stack:
            await process.start(
                prepared, PROFILES[profile], tmp_path, stack, store=store,
                isolation=Isolation(enforce=isolated),
            )  # fmt: skip

    with pytest.raises(ValueError, match=says):
        asyncio.run(go())


def _boot_jar(path: Path, main_class: str) -> Path:
    manifest = f"Manifest-Version: 1.0\nMain-Class: {main_class}\n"
    manifest += "Start-Class: com.netflix.conductor.Co\n nductor\n"  # a line goes on
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", manifest)
        jar.writestr("BOOT-INF/lib/conductor-redis-persistence-3.15.0.jar", b"")
    return path


@pytest.mark.parametrize(
    "launcher", ["org.springframework.boot.loader", "org.springframework.boot.loader.launch"]
)  # Spring Boot 2 (netflix 3.15.0) and 3.2+
def test_extra_jars_go_through_the_properties_launcher(tmp_path: Path, launcher: str) -> None:
    jar = _boot_jar(tmp_path / "server.jar", f"{launcher}.JarLauncher")
    assert launch_args(jar) == ["-jar", str(jar)]
    extra = [tmp_path / "a.jar", tmp_path / "b.jar"]
    assert launch_args(jar, extra) == [
        "-cp",
        str(jar),
        f"-Dloader.path={extra[0]},{extra[1]}",
        "-Dloader.main=com.netflix.conductor.Conductor",
        f"{launcher}.PropertiesLauncher",
    ]
    assert has_module(jar, "conductor-redis-persistence")
    assert not has_module(jar, "conductor-postgres-persistence")


def test_a_pinned_artifact_is_named_as_maven_names_it(cache: Path) -> None:
    coordinate = "org.postgresql:postgresql:42.3.8:jar"
    path = artifact_path(Artifact(coordinate, "postgresql-42.3.8.jar", 0, ""))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"jar")  # in the cache already: Maven is not asked
    got = pinned(coordinate)
    assert (got.file, got.size) == ("postgresql-42.3.8.jar", 3)
    assert got.sha256 == hashlib.sha256(b"jar").hexdigest()
