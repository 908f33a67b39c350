"""End-to-end tests: real Netflix Conductor and conductor-oss servers on this machine.

Each test runs the real ``conductor-compat`` command in a subprocess, as a user would,
and checks afterwards that no process it started is left (by its work folder, which
appears in every server's command line).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require, require_tool

SUPPORTED = ["netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"]


@pytest.fixture(autouse=True)
def _prerequisites() -> None:
    require_tool("mvn", "servers are resolved from Maven Central with Maven")
    from harness.targets.java import find_java

    try:
        find_java(17)
    except Exception as exc:  # noqa: BLE001
        require(False, f"no Java 17+: {exc}")


def require_postgres() -> None:
    from harness.errors import PostgresMissingError
    from harness.targets.postgres import find_postgres

    try:
        find_postgres()
    except PostgresMissingError as exc:
        require(False, f"the postgres profile starts PostgreSQL on loopback: {exc.message}")


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return " ".join((self.out + self.err).split())


SERVER_PROGRAMS = ("java", "redis-server", "postgres")


def processes_mentioning(marker: str, servers_only: bool = False) -> list[str]:
    """Command lines of live processes that mention ``marker`` (a work folder), in their
    command line or as their working folder (PostgreSQL's children and redis-server rewrite
    their command line, and work in their data folder).

    ``servers_only`` keeps the servers and their stores, leaving out the CLI itself.
    """
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            cwd = ""
        cmdline = b" ".join(argv).decode(errors="replace")
        program = program_name(argv[0].decode(errors="replace"))
        if servers_only and program not in SERVER_PROGRAMS:
            continue
        if (marker in cmdline or marker in cwd) and state != "Z":
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def program_name(argv0: str) -> str:
    """``java`` of "/usr/bin/java", ``postgres`` of "postgres: checkpointer" (a process
    title), ``redis-server`` of "/usr/bin/redis-server 127.0.0.1:6379"."""
    words = Path(argv0).name.split()
    return words[0].rstrip(":") if words else ""


ROOT = Path(__file__).resolve().parents[2]
# The 17 starter scenarios: what fixtures/runs was recorded from and what the compare and
# docker tests run (the whole library runs on every version in test_run_scenarios.py).
STARTER = [
    ROOT / "scenarios" / path
    for path in (
        "api/metadata_crud.yaml",
        "api/unknown_workflow_id.yaml",
        "lifecycle/in_progress_callback_logs.yaml",
        "operations/pause_resume.yaml",
        "operations/retry_restart_rerun.yaml",
        "operations/start_options.yaml",
        "operations/terminate_skip_decide.yaml",
        "retries/fail_twice_then_succeed.yaml",
        "tasks/do_while.yaml",
        "tasks/fork_join.yaml",
        "tasks/http.yaml",
        "tasks/inline.yaml",
        "tasks/simple_sequential.yaml",
        "tasks/sub_workflow.yaml",
        "tasks/switch.yaml",
        "tasks/terminate.yaml",
        "tasks/wait_completed_by_step.yaml",
    )
]
STARTER_TASKS = [p for p in STARTER if p.parent.name == "tasks"]


def assert_nothing_left(workdir: Path, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while processes_mentioning(str(workdir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_mentioning(str(workdir)), processes_mentioning(str(workdir))


def cli(*args: str, timeout: float = 600) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "work"
    yield folder
    leftovers = processes_mentioning(str(folder))
    for line in leftovers:  # never leave a server behind, even when a test fails
        os.kill(int(line.split(":")[0]), signal.SIGKILL)
    assert not leftovers, f"processes outlived the test: {leftovers}"


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A Docker engine and the JRE base images. A running engine is used as it is; else,
    as root, the tests start dockerd and stop it afterwards (it dies with them even if
    they are killed). Images are built once per machine by scripts/build-jre-images."""
    require_tool("dockerd", "the docker runtime needs a Docker engine (Debian: docker.io)")
    require_tool("debootstrap", "the JRE images are built from Debian's packages")
    from harness.targets.procs import die_with_parent

    started = None
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        require(os.geteuid() == 0, "starting dockerd needs root")
        log = (tmp_path_factory.mktemp("dockerd") / "dockerd.log").open("wb")
        started = subprocess.Popen(
            ["dockerd"],
            stdout=log,
            stderr=log,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "info"], capture_output=True, check=False).returncode:
            assert started.poll() is None and time.monotonic() < deadline, "dockerd did not start"
            time.sleep(0.5)
    try:
        root = Path(__file__).resolve().parents[2]
        build = subprocess.run(
            [str(root / "scripts" / "build-jre-images")],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert build.returncode == 0, build.stdout + build.stderr
        yield
    finally:
        if started is not None:
            started.terminate()
            try:
                started.wait(timeout=60)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()


def containers_labelled() -> list[str]:
    """Containers any conductor-compat run labelled (none may outlive its run)."""
    out = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", "label=conductor-compat.run"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()
