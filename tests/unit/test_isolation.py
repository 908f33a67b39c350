"""Network isolation (harness/targets/netns.py, relay.py): the pure parts everywhere, the
kernel's part where namespaces can be made (root). Real servers: tests/e2e/test_isolation.py."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import BadInputError, ExitCode
from harness.pipeline import Plan
from harness.scenarios import load_scenario
from harness.scenarios.outbound import declared_hosts
from harness.targets import netns
from harness.targets.model import Isolation
from harness.targets.netns import Endpoint, describe, hosts_file, parse_endpoint, resolve
from harness.targets.relay import Relay, open_socket
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


def test_endpoints_are_host_and_port() -> None:
    assert parse_endpoint("10.0.0.5:8080") == ("10.0.0.5", 8080)
    assert parse_endpoint(" API.Example.org:443 ") == ("api.example.org", 443)
    for bad in ("10.0.0.5", "10.0.0.5:0", "host:65536", "http://h:80", "[::1]:80", "h:80/x"):
        with pytest.raises(BadInputError):
            parse_endpoint(bad)


def test_addresses_are_taken_as_they_are_and_names_resolved() -> None:
    assert resolve(["192.0.2.7:80", "192.0.2.7:80", "localhost:8080"]) == [
        Endpoint("192.0.2.7", 80, "192.0.2.7"),
        Endpoint("localhost", 8080, "127.0.0.1"),
    ]
    with pytest.raises(BadInputError, match="does not resolve"):
        resolve(["no-such-host.invalid:80"])


def test_declared_names_get_a_hosts_file_and_addresses_none() -> None:
    address = Endpoint("192.0.2.7", 80, "192.0.2.7")
    assert hosts_file([address], "box") is None
    named = hosts_file([address, Endpoint("api.example.org", 443, "192.0.2.8")], "box")
    assert named == "127.0.0.1 localhost\n127.0.0.1 box\n192.0.2.8 api.example.org\n"


def test_what_the_report_says_of_isolation() -> None:
    assert describe(Isolation(), []) == "enforced (network namespace)"
    assert describe(Isolation(), [Endpoint("192.0.2.7", 80, "192.0.2.7")]) == (
        "enforced (network namespace; outbound to 192.0.2.7:80)"
    )
    assert describe(Isolation(enforce=False), []) == "not enforced (--no-isolation)"


SCENARIO = """\
name: out
allow_outbound: ALLOWED
definitions:
  workflows:
    - name: out_wf
      tasks:
        - name: call
          taskReferenceName: call
          type: HTTP
          inputParameters: {http_request: {uri: "http://192.0.2.7:8080/x", method: GET}}
steps:
  - start: {workflow: out_wf}
"""


def _scenario(tmp_path: Path, allowed: str) -> Path:
    path = tmp_path / "out.yaml"
    path.write_text(SCENARIO.replace("ALLOWED", allowed))
    return path


def test_only_a_run_that_allows_outbound_lets_the_declared_hosts_through(tmp_path: Path) -> None:
    scenario = load_scenario(
        _scenario(tmp_path, '["192.0.2.7:8080", "api.example.org:443"]'),
        tmp_path,
        allow_outbound=True,
    )
    assert scenario.outbound_hosts == ("192.0.2.7:8080", "api.example.org:443")
    assert declared_hosts([scenario, scenario]) == scenario.outbound_hosts
    plan = Plan(kind="compare", baseline="netflix:3.15.0", candidates=("oss:3.32.1",), paths=())
    assert plan.isolation([scenario]) == Isolation()  # no --allow-outbound: nothing
    allowing = Plan.from_json({**plan.to_json(), "allow_outbound": True})
    assert allowing.isolation([scenario]).allowed == scenario.outbound_hosts
    unisolated = Plan.from_json({**plan.to_json(), "no_isolation": True})
    assert unisolated.isolation([scenario]) == Isolation(enforce=False)


def test_true_declares_no_host(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, "true"), tmp_path, allow_outbound=True)
    assert scenario.allow_outbound and scenario.outbound_hosts == ()


def test_a_declared_host_must_be_host_and_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _scenario(tmp_path, '["http://192.0.2.7/x"]')
    assert main(["validate", "--allow-outbound", str(path)]) == ExitCode.BAD_INPUT
    assert "out.yaml:2:" in capsys.readouterr().out


def test_without_namespaces_a_run_is_refused_unless_it_says_no_isolation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code = main(["targets", "check", "netflix:3.15.0", "--workdir", str(tmp_path)])
    assert code == ExitCode.PREREQUISITE_MISSING
    out = " ".join(capsys.readouterr().out.split())
    assert "cannot isolate servers from the network here: network namespaces need root" in out
    assert "--no-isolation" in out
    netns.require_isolation(Isolation(enforce=False), "process")  # said: no error


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(100):
        writer.write(data.upper())
        await writer.drain()
    writer.close()


def test_a_relay_copies_both_ways_and_passes_a_half_close() -> None:
    async def scenario() -> None:
        server = await asyncio.start_server(_echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        listening = socket.create_server(("127.0.0.1", 0))

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await open_socket(socket.socket(), ("127.0.0.1", port))

        relay = Relay(listening, connect)
        await relay.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        writer.write(b"ping")
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 5) == b"PING"
        writer.close()
        relay.close()
        server.close()

    asyncio.run(scenario())


def _needs_namespaces() -> None:
    why = netns.unavailable()
    require(why is None, f"network namespaces cannot be made here: {why}")


def test_a_namespace_reaches_only_its_own_sockets(tmp_path: Path) -> None:
    _needs_namespaces()
    outside = socket.create_server(("127.0.0.1", 0))
    port = outside.getsockname()[1]

    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            space = await netns.create(tmp_path, [], stack)
            inside = space.listen()  # the stub's socket: reached from inside only
            with space.tcp_socket() as client:
                client.connect(inside.getsockname())
            with space.tcp_socket() as client, pytest.raises(ConnectionRefusedError):
                client.connect(("127.0.0.1", port))  # the host's loopback is not there
            with space.tcp_socket() as client, pytest.raises(OSError, match="unreachable"):
                client.connect(("192.0.2.7", 80))
            assert space.refused() == 1
            space.mark()
            assert space.refused() == 0
            inside.close()
            holder = space.path
        assert not holder.exists()  # the holder is gone, and its namespace with it

    asyncio.run(scenario())
    outside.close()


_KILLED = """
import asyncio, sys
from contextlib import AsyncExitStack
from pathlib import Path
from harness.targets import netns

async def main():
    async with AsyncExitStack() as stack:
        space = await netns.create(Path(sys.argv[1]), [], stack)
        print(space.pid, flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


def test_a_namespace_dies_with_a_harness_killed_by_sigkill(tmp_path: Path) -> None:
    _needs_namespaces()
    harness = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert harness.stdout is not None
    holder = int(harness.stdout.readline())
    namespace = os.stat(f"/proc/{holder}/ns/net").st_ino
    harness.send_signal(signal.SIGKILL)
    harness.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{holder}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{holder}").exists()
    left = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.stat(proc / "ns" / "net").st_ino == namespace:
                left.append(proc.name)
        except OSError:
            continue
    assert not left, f"processes still in the namespace: {left}"
