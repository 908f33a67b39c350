"""A scenario that makes a real server decide without end (netflix 3.11.3 with the
execution lock off: a DO_WHILE whose condition never changes) spoils that server for
every run beside it: the run halts (the runs under way cut short), the server is started
afresh, the runs beside it are played again there, and the scenario, played last and
alone, is named as the cause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ExitCode
from harness.traces import ASIDE
from tests.e2e.conftest import ROOT, assert_nothing_left, cli

pytestmark = pytest.mark.e2e
TARGET = "netflix:3.11.3"  # its jar is fetched for the bisect tests too
LOCK_OFF = "conductor.app.workflow-execution-lock-enabled=false"
CULPRIT = "oss-e2e.do-while-set-variable-fix"
SCENARIOS = [
    ROOT / "scenarios" / path
    for path in (
        "corpus/conductor-oss-e2e/do-while-set-variable-fix.yaml",
        "tasks/fork_join.yaml",
        "tasks/sub_workflow.yaml",
    )
]


def _outcomes(folder: Path) -> dict[str, dict[str, object]]:
    return {
        path.name.removesuffix(".trace.json"): json.loads(path.read_text())["outcome"]
        for path in folder.glob("*.trace.json")
    }


def test_a_server_spoilt_by_an_endless_decision_is_restarted_and_the_cause_named(
    workdir: Path,
) -> None:
    out = workdir / "traces"
    run = cli(
        "run", "--target", TARGET, "--server-property", LOCK_OFF, "--jobs", "2",
        "--workdir", str(workdir / "servers"), "--out", str(out), *map(str, SCENARIOS),
        timeout=480,
    )  # fmt: skip
    said = " ".join((run.out + run.err).split())
    # the cause's own run ends on its start call, never answered: an error, its finding
    assert run.code == ExitCode.INCONCLUSIVE, said
    assert f"{TARGET}: server threads ran without pause ('http-nio-127.0.' from" in said
    assert "restarting it afresh" in said
    # the cause's run was cut short when the thread was found (no trace); what had ended
    # beside the thread on the first server is kept aside
    assert "(1 cut short)" in said
    first = _outcomes(out / ASIDE / "restart-1") if (out / ASIDE).exists() else {}
    assert set(first) <= {"fork-join", "sub-workflow"}
    # the fresh server played the others, then the cause alone, which spun a thread again
    again = _outcomes(out)
    assert set(again) == {CULPRIT, "fork-join", "sub-workflow"}
    for name in ("fork-join", "sub-workflow"):
        assert again[name]["status"] == "completed", again[name]
        assert "runaway_threads" not in again[name], again[name]
    threads = again[CULPRIT]["runaway_threads"]
    assert isinstance(threads, list) and threads
    assert all(t["alone"] and t["thread"].startswith("http-nio") for t in threads), threads
    # a server started for each: the first, and the fresh one
    logs = sorted(p.relative_to(workdir) for p in workdir.rglob("server.log"))
    assert len(logs) == 2 and any("restart-1" in p.parts for p in logs), logs
    assert_nothing_left(workdir)
