"""The docker runtime: real servers in containers built from the locked jars, through the
Docker SDK, on the default network (``none``: a loopback only, the server's port forwarded
to 127.0.0.1; its isolation is tests/e2e/test_isolation.py's). Needs a Docker engine: the
``docker_engine`` fixture starts one as root and builds the JRE base images from Debian's
packages (no container registry is reachable)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import STARTER, assert_nothing_left, cli, containers_labelled

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("docker_engine")]

ROOT = Path(__file__).resolve().parents[2]
PROCESS_RUNS = ROOT / "fixtures" / "runs" / "netflix-3.15.0-a"  # recorded with --runtime process


@pytest.fixture(autouse=True)
def _no_container_left() -> Iterator[None]:
    yield
    left = containers_labelled()
    subprocess.run(["docker", "rm", "-f", *left], capture_output=True, check=False)
    assert not left, f"containers outlived the test: {left}"


def test_check_under_docker_builds_images_from_the_locks(workdir: Path) -> None:
    """On the host's network (not isolated, still supported); the default network is the
    other tests'."""
    run = cli(
        "targets",
        "check",
        "--runtime",
        "docker",
        "--network",
        "host",
        "netflix:3.15.0",
        "oss:3.21.14",
        "--workdir",
        str(workdir),
    )
    assert run.code == 0, run.text
    assert run.out.count("PASS") == 2 and "runtime=docker" in run.out
    for target in ("netflix_3.15.0", "oss_3.21.14"):
        labels = json.loads(
            subprocess.run(
                [
                    "docker",
                    "image",
                    "inspect",
                    "-f",
                    "{{json .Config.Labels}}",
                    f"conductor-compat/server:{target}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        lock = json.loads(
            (ROOT / "fixtures" / "locks" / f"{target.replace('_', '-')}.json").read_text()
        )
        assert labels["conductor-compat.jar-sha256"] == lock["artifacts"][0]["sha256"]
        assert len(labels["conductor-compat.lock"]) == 32
    assert_nothing_left(workdir)


def test_the_same_version_gives_the_same_traces_under_both_runtimes(tmp_path: Path) -> None:
    out = tmp_path / "docker"
    run = cli(
        "run",
        "--runtime",
        "docker",
        "--target",
        "netflix:3.15.0",
        "--repeats",
        "2",
        "--out",
        str(out),
        "--workdir",
        str(tmp_path / "work"),
        *(str(p) for p in STARTER),
    )
    assert run.code == 0, run.text
    traces = json.loads(next(out.glob("*.trace.json")).read_text())
    assert traces["target"]["runtime"] == "docker"
    diff = cli("diff", str(PROCESS_RUNS), str(out), "--out", str(tmp_path / "diff"))
    report = json.loads((tmp_path / "diff" / "report.json").read_text())
    comparison = report["comparisons"][0]
    assert diff.code == 0, diff.text
    assert comparison["summary"]["by_disposition"].get("open", 0) == 0, comparison["summary"]


def test_a_server_that_exits_during_start_shows_its_log(workdir: Path) -> None:
    # A JRE image with no server jar in it: java cannot start, the container exits.
    run = cli(
        "targets",
        "check",
        "--runtime",
        "docker",
        "--image",
        "netflix:3.15.0=conductor-compat/jre:17",
        "netflix:3.15.0",
        "--workdir",
        str(workdir),
    )
    assert run.code != 0
    assert "exited with code 1 before it became ready" in run.text
    assert "Unable to access jarfile" in run.text


def test_prune_removes_what_a_killed_run_left(workdir: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "targets",
            "up",
            "--runtime",
            "docker",
            "netflix:3.15.0",
            "--for",
            "300",
            "--workdir",
            str(workdir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    line = ""
    while not re.search(r"http://127\.0\.0\.1:\d+", line) and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line or proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGKILL)  # no cleanup code runs; a container has no parent
    proc.communicate(timeout=30)
    assert containers_labelled()
    prune = cli("targets", "prune")
    assert prune.code == 0 and "1 leftover container and 0 networks removed" in prune.text, (
        prune.text
    )
    assert not containers_labelled()


def test_a_warm_container_on_a_bridge_network_gives_the_process_runtime_traces(
    tmp_path: Path,
) -> None:
    """--network bridge --reuse: the second run finds the warm container, resets it, and its
    traces equal the process runtime's (the stub is reached through the network's gateway).
    The first run only warms the container: one run of each scenario, and a scenario that
    netflix:3.15.0's in-memory queue leaves waiting for its worker now and then (seen once
    in retry-restart-rerun's rerun) is the server's, so that run need only finish (exit 0,
    or 1 for such a finding). The warm container outlives the runs on purpose; prune
    removes it and its network."""
    try:
        runs = []
        for n in (1, 2):
            out = tmp_path / f"warm{n}"
            began = time.monotonic()
            run = cli(
                "run",
                "--runtime",
                "docker",
                "--network",
                "bridge",
                "--reuse",
                "--target",
                "netflix:3.15.0",
                "--repeats",
                str(n),
                "--out",
                str(out),
                "--workdir",
                str(tmp_path / f"work{n}"),
                *(str(p) for p in STARTER),
            )
            assert run.code in ((0, 1) if n == 1 else (0,)), run.text
            runs.append((out, time.monotonic() - began))
            assert len(containers_labelled()) == 1  # the same warm container, kept
        print(f"bridge --reuse: first run {runs[0][1]:.1f} s, second {runs[1][1]:.1f} s")
        http = json.loads((runs[1][0] / "http.trace.json").read_text())
        assert not http["namespace"]["stub"].startswith("http://127.")  # the gateway
        assert http["stub_requests"], "the server reached the stub from its network"
        diff = cli("diff", str(PROCESS_RUNS), str(runs[1][0]), "--out", str(tmp_path / "diff"))
        report = json.loads((tmp_path / "diff" / "report.json").read_text())
        assert diff.code == 0, diff.text
        assert report["comparisons"][0]["summary"]["by_disposition"].get("open", 0) == 0
    finally:
        prune = cli("targets", "prune")
    assert "1 leftover container and 1 network removed" in prune.text, prune.text
    networks = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", "label=conductor-compat.run"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not networks


def test_a_fresh_container_has_its_server_threads_watched(workdir: Path) -> None:
    """The runaway watch (runner/runaway.py) reads a container's JVM as it reads a process's:
    the container's main process, found by the id the engine on this machine gives."""
    import asyncio
    from contextlib import AsyncExitStack

    from harness.targets.profiles import get_profile
    from harness.targets.provision import start_target
    from harness.targets.spec import parse_target
    from harness.targets.threads import ThreadCpu

    async def threads() -> ThreadCpu:
        async with AsyncExitStack() as stack:
            server = await start_target(
                parse_target("netflix:3.15.0"),
                profile=get_profile("embedded"),
                workdir=workdir,
                stack=stack,
                runtime="docker",
            )
            assert server.threads is not None
            return server.threads()

    names = {name for name, _ in asyncio.run(threads()).values()}
    assert "java" in names and "VM Thread" in names
    assert any(name.startswith("http-nio-") for name in names), names
