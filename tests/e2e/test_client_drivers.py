"""Client drivers built from their lock files and played against real servers, through
the recording proxy: what the SDK returned or raised, call by call, and the response
behind every call it failed on."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import pytest

from harness.clients.build import build
from harness.clients.drive import DriverRun, drive
from harness.clients.known import parse_client
from harness.targets import get_profile, start_target
from harness.targets.spec import parse_target
from tests.e2e.conftest import processes_mentioning

pytestmark = pytest.mark.e2e

SERVERS = ("netflix:3.15.0", "oss:3.32.1")
CALLS = (  # the standard client script's first calls, in order (docs/client-drivers.md)
    "register_task_defs",
    "get_task_def",
    "register_workflow_def",
    "get_workflow_def",
    "start_workflow",
    "start_workflow_sync",
    "run_workers",
)


@pytest.fixture(scope="module")
def python_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DriverRun]:
    """conductor-python 2.0.0's driver, built into a fresh cache, on both servers at once."""
    root = tmp_path_factory.mktemp("clients")
    built = build(parse_client("python:2.0.0"), cache=root / "cache")
    again = build(parse_client("python:2.0.0"), cache=root / "cache")
    assert not built.cached and again.cached and again.seconds == 0.0
    assert again.folder == built.folder

    async def main() -> dict[str, DriverRun]:
        async with AsyncExitStack() as stack:

            async def one(name: str) -> DriverRun:
                server = await start_target(
                    parse_target(name),
                    profile=get_profile("embedded"),
                    workdir=root / "servers",
                    stack=stack,
                )
                out = root / "runs" / name.replace(":", "-")
                return await drive(
                    again, name, f"{server.base_url}/api", out, prefix="cc_e2e", script_timeout_s=30
                )

            runs = await asyncio.gather(*(one(n) for n in SERVERS))
            return dict(zip(SERVERS, runs, strict=True))

    runs = asyncio.run(main())
    assert not processes_mentioning(str(built.folder)), "a driver process outlived its run"
    return runs


def test_a_driver_plays_the_whole_script_and_records_every_call(
    python_runs: dict[str, DriverRun],
) -> None:
    for name, run in python_runs.items():
        assert run.problem is None, f"{name}: {run.problem}: {run.log_tail}"
        assert run.driver["version"] == "2.0.0"
        calls = [r["call"] for r in run.records]
        assert tuple(calls[: len(CALLS)]) == CALLS, f"{name}: {calls}"
        assert calls[-1] == "unregister_task_def"
        for record in run.records:
            assert record["ok"] is ("error" not in record), record
            if record["ok"] or record["error"]["type"] not in ("not_in_sdk", "skipped"):
                assert record["at_ms"] <= record["end_ms"], record
        documents = (run.log.parent / "exchanges.jsonl").read_text().splitlines()
        assert [json.loads(d)["seq"] for d in documents] == [e.seq for e in run.exchanges]


def test_every_call_the_sdk_failed_on_has_the_response_that_broke_it(
    python_runs: dict[str, DriverRun],
) -> None:
    """An SDK exception that carries an HTTP status was raised on an answer the proxy
    recorded with that status while the call lasted; and the workers' results on
    netflix:3.15.0 show why run_workers failed there, or it did not fail."""
    for name, run in python_runs.items():
        for record in run.records:
            status = (record.get("error") or {}).get("status")
            if not isinstance(status, int):
                continue
            during = [e for e in run.exchanges if record["at_ms"] <= e.at_ms <= record["end_ms"]]
            assert status in {e.status for e in during}, f"{name}: {record['call']}: {during}"
    workers = {n: r.records[CALLS.index("run_workers")] for n, r in python_runs.items()}
    assert workers["oss:3.32.1"]["ok"], workers["oss:3.32.1"]
    if not workers["netflix:3.15.0"]["ok"]:
        updates = [e for e in python_runs["netflix:3.15.0"].exchanges if "update" in e.path]
        assert updates and all(e.status and e.status >= 400 for e in updates), updates
