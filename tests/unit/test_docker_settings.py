"""The docker runtime's options and placements, without an engine; and the scrub rule that
makes a server's host name comparable (the bridge network gives it the container's id)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import ExitCode
from harness.normalize import load_spec, scrub_trace
from harness.pipeline import Plan
from harness.targets.docker.placement import BRIDGE_PORT, Placement
from harness.targets.model import DockerSettings
from harness.targets.netns import Endpoint
from harness.targets.profiles import get_profile
from tests.unit.traces import RUNS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "flags", [["--reuse"], ["--network", "bridge"], ["--image", "netflix:3.15.0=mine:1"]]
)
def test_docker_options_without_the_docker_runtime_are_refused(
    flags: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["targets", "check", *flags, "netflix:3.15.0", "--workdir", str(tmp_path)])
    assert code == ExitCode.BAD_INPUT
    assert "goes with --runtime docker" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["targets", "check", "--runtime", "docker", "netflix:3.15.0"], ["targets", "prune"]]
)
def test_the_docker_runtime_without_its_sdk_says_how_to_install_it(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # `import docker` fails
    extra = ["--workdir", str(tmp_path)] if argv[1] == "check" else []
    code = main([*argv, *extra])
    assert code == 5 == int(ExitCode.PREREQUISITE_MISSING)
    shown = capsys.readouterr()
    assert "needs the Docker SDK for Python" in shown.out + shown.err
    assert "pip install 'conductor-compat[docker]'" in shown.out + shown.err


def test_the_docker_sdk_is_imported_only_for_the_docker_runtime() -> None:
    code = (
        "import sys, harness.cli, harness.targets.docker, harness.pipeline; "
        "assert 'docker' not in sys.modules, 'docker imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_an_unknown_network_mode_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["targets", "check", "--runtime", "docker", "--network", "overlay", "netflix:3.15.0"]
    )
    assert code == ExitCode.BAD_INPUT
    assert "invalid choice: 'overlay'" in capsys.readouterr().err


def test_the_plan_keeps_the_docker_settings_for_a_resume() -> None:
    plan = Plan(
        kind="compare",
        baseline="netflix:3.15.0",
        candidates=("oss:3.32.1",),
        paths=(str(ROOT / "scenarios"),),
        runtime="docker",
        images=("oss:3.32.1=mine:1",),
        network="bridge",
        reuse=True,
    )
    again = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    settings = again.docker_settings()
    assert (settings.network, settings.reuse) == ("bridge", True)
    assert dict(settings.images) == {"oss:3.32.1": "mine:1"}


def test_host_placement_is_the_process_runtime_on_loopback() -> None:
    placement = Placement("host", port=18123)
    props = placement.properties(get_profile("embedded"), "memory")
    assert props["server.address"] == "127.0.0.1" and props["server.port"] == "18123"
    assert placement.gateway == "127.0.0.1"  # the stub stays on loopback
    assert "-Dhttp.nonProxyHosts=localhost|127.*|[::1]" in shlex.split(placement.command())


def test_bridge_placement_listens_inside_and_reaches_the_stub_on_the_gateway() -> None:
    placement = Placement("conductor-compat-1", port=BRIDGE_PORT, gateway="172.20.0.1")
    props = placement.properties(get_profile("embedded"), "memory")
    assert props["server.address"] == "0.0.0.0"  # on a network only this host reaches
    argv = shlex.split(placement.command())
    assert "-Dhttp.nonProxyHosts=localhost|127.*|[::1]|172.20.0.1" in argv
    assert "-Dhttp.proxyHost=127.0.0.1" in argv  # anything else meets a dead proxy
    assert argv[-3:] == [">", "/work/server.log", "2>&1"]


def test_the_default_network_is_none_isolated_with_no_dead_proxy() -> None:
    assert DockerSettings().network == "none"
    placement = Placement("none", port=BRIDGE_PORT)
    props = placement.properties(get_profile("embedded"), "memory")
    assert props["server.address"] == "127.0.0.1"  # reached through a forwarded port
    argv = shlex.split(placement.command())
    assert not [a for a in argv if "proxy" in a.lower()]  # the namespace refuses instead
    assert placement.isolation() == "enforced (network namespace)"
    assert Placement("host", port=1).isolation().startswith("not enforced")
    assert Placement("n", port=1, gateway="172.20.0.1").isolation().startswith("not enforced")


def test_declared_names_reach_the_jvm_through_a_hosts_file() -> None:
    endpoints = (
        Endpoint("api.example.org", 443, "192.0.2.7"),
        Endpoint("192.0.2.8", 80, "192.0.2.8"),
    )
    argv = shlex.split(Placement("none", port=BRIDGE_PORT, endpoints=endpoints).command())
    assert "-Djdk.net.hosts.file=/work/hosts" in argv
    assert Placement("none", port=BRIDGE_PORT, endpoints=endpoints[1:]).isolation() == (
        "enforced (network namespace; outbound to 192.0.2.8:80)"
    )


def _values(value: Any, key: str) -> list[Any]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == key and isinstance(v, str)]
        return found + [x for v in value.values() for x in _values(v, key)]
    if isinstance(value, list):
        return [x for v in value for x in _values(v, key)]
    return []


@pytest.mark.parametrize("scenario", ["http", "api-unknown-workflow-id", "simple-sequential"])
def test_the_server_host_name_is_scrubbed_and_the_harness_worker_id_kept(scenario: str) -> None:
    trace = json.loads((RUNS / "netflix-3.15.0-a" / f"{scenario}.trace.json").read_text())
    names = set(_values(trace, "workerId") + _values(trace, "instance"))
    assert names and names <= {"vm", "conductor-compat-worker"}  # recorded on host "vm"
    renamed = json.loads(json.dumps(trace).replace('"vm"', '"92793877c713"'))
    spec = load_spec()
    scrubbed = [scrub_trace(t, spec).trace for t in (trace, renamed)]
    assert scrubbed[0] == scrubbed[1]
    after = set(_values(scrubbed[0], "workerId") + _values(scrubbed[0], "instance"))
    assert after == {n if n == "conductor-compat-worker" else "<host>" for n in names}
