"""In-place upgrades and rollbacks on real stores: the shipped in-flight library played
across a switch between real servers, on PostgreSQL and on redis-server.

Each upgrade is run once per module (the servers are the expensive part) and every test
reads what it wrote: the reports, and the traces of the runs that switched.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.classify.verdict import PRECEDENCE
from harness.errors import CompatError, ExitCode
from harness.pipeline.outcome import VERDICT_EXIT
from harness.scenarios import load_all
from harness.targets.postgres import find_postgres
from tests.conftest import require, require_tool
from tests.e2e.conftest import ROOT, assert_nothing_left, cli, processes_mentioning

pytestmark = pytest.mark.e2e

LIBRARY = ROOT / "scenarios" / "upgrade"
TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}
# (from, to..., rolled back from..., profile): one run per store, the upgrades from
# netflix:3.15.0 to both conductor-oss versions and the rollback from oss:3.21.14, each
# version played wholly once for all of them; `upgrade` takes any versions and store.
NEWS = ("oss:3.21.14", "oss:3.32.1")
MATRIX = [
    ("netflix:3.15.0", NEWS, NEWS[:1], "postgres"),
    ("netflix:3.15.0", NEWS, NEWS[:1], "redis"),
]
Entry = tuple[str, tuple[str, ...], tuple[str, ...], str]


def _store(profile: str) -> None:
    if profile == "postgres":
        try:
            find_postgres()
        except CompatError as exc:
            require(False, f"the postgres profile starts a PostgreSQL server: {exc}")
    else:
        require_tool("redis-server", "the redis profile starts a redis-server")


@pytest.fixture(scope="module", params=MATRIX, ids=lambda m: f"{m[0]}-and-back-on-{m[3]}")
def upgraded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, int, Entry]]:
    old, news, backs, profile = request.param
    _store(profile)
    folder = tmp_path_factory.mktemp("upgrade") / "run"
    run = cli(
        "upgrade",
        "--from",
        old,
        *(a for new in news for a in ("--to", new)),
        *(a for back in backs for a in ("--rollback-from", back)),
        "--profile",
        profile,
        "--switch-points",
        "first",  # the library's one point each: every scenario in one round
        "--out",
        str(folder),
        "--quiet",
        timeout=1800,
    )
    assert run.code in (0, 1, 3, 9), run.text
    yield folder, run.code, request.param
    assert_nothing_left(folder)


def _report(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "report.json").read_text()))


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in label).strip("-")


def _traces(folder: Path, label: str) -> list[dict[str, Any]]:
    found = sorted((folder / "traces" / _slug(label)).glob("*.json"))
    return [json.loads(p.read_text()) for p in found]


def test_an_upgrade_reports_each_new_version_and_each_switch_against_the_old(
    upgraded: tuple[Path, int, Entry],
) -> None:
    """The run folder's report compares each new version and the switch to it with the old
    version wholly; each rollback has a report of its own against the version rolled back
    from. Every version played wholly once for all; the exit code is the worst report's."""
    folder, code, (old, news, backs, _) = upgraded
    n = len(load_all([LIBRARY]).scenarios)
    report = _report(folder)
    assert {p.name for p in folder.iterdir()} >= {"report.json", "report.md", "report.html"}
    assert report["baseline"]["target"] == old
    compared = [c["candidate"]["target"] for c in report["comparisons"]]
    assert compared == [x for new in news for x in (new, f"{old}→{new}")]
    reports = [report]
    for back in backs:
        rollback = _report(folder / f"rollback-from-{_slug(back)}")
        assert rollback["baseline"]["target"] == back
        compared = [c["candidate"]["target"] for c in rollback["comparisons"]]
        assert compared == [old, f"{back}→{old}"]
        reports.append(rollback)
    for new in news:  # each played wholly once: twice as a baseline, else once (the
        # re-check plays a scenario that gates again, as runs 2 and 3)
        first = 2 if new in backs else 1
        assert len([t for t in _traces(folder, new) if t.get("repeat", 1) <= first]) == n * first
    assert len([t for t in _traces(folder, old) if t.get("repeat", 1) <= 2]) == 2 * n
    names = {s.name for s in load_all([LIBRARY]).scenarios}
    for comparison in (c for r in reports for c in r["comparisons"]):
        assert {s["name"] for s in comparison["scenarios"]} == names
    worst = next(v for v in PRECEDENCE if v in {r["verdict"]["status"] for r in reports})
    assert code == VERDICT_EXIT[worst]


def test_the_new_server_continues_the_old_servers_executions(
    upgraded: tuple[Path, int, Entry],
) -> None:
    """Every run switched; what the old server had at the switch, the new one reads: the same
    workflow ids, with every task the old server had scheduled; and the executions in flight
    go on to a terminal status on the new server. For each --to."""
    folder, _, (old, news, backs, _) = upgraded
    for frm, to in [*((old, new) for new in news), *((back, old) for back in backs)]:
        _continued(folder, frm, to)


def _continued(folder: Path, old: str, new: str) -> None:
    traces = _traces(folder, f"{old}→{new}")  # and the re-check's runs, switched anew
    assert len([t for t in traces if t.get("repeat", 1) == 1]) == len(load_all([LIBRARY]).scenarios)
    points = {t["scenario"]["name"]: t["switch"]["after_step"] for t in traces if t.get("switch")}
    for trace in traces:
        name = f"{new}: {trace['scenario']['name']}"
        if trace["outcome"]["status"] == "not_applicable":
            continue
        switch = trace.get("switch")
        if not switch and trace["outcome"]["status"] == "failed_expectation":
            # failed on the old server before its switch point (a busy machine's timeout):
            # the report shows it; another run of the scenario must have switched
            point = points.get(trace["scenario"]["name"])
            assert point is not None, f"{name} never switched: {trace['outcome']}"
            assert trace["outcome"]["step"] <= point, f"{name}: {trace['outcome']}"
            continue
        assert switch, f"{name} never switched: {trace['outcome']}"
        assert switch["to"]["version"] == new.split(":")[1]
        before = _last_snapshots(trace["steps"][: switch["after_step"] + 1])
        taken = {w["workflowId"]: w for w in switch.get("snapshots", [])}
        final = {w["workflowId"]: w for w in _last_snapshots(trace["steps"])}
        for workflow in before:  # none: the state in flight is definitions or handlers
            if workflow.get("status") is None:
                continue  # removed before the switch, on purpose
            read = taken.get(workflow["workflowId"]) or {}
            assert read.get("status"), f"{name}: the new server lost {workflow['workflowId']}"
            ids = {t["taskId"] for t in read.get("tasks", [])}
            scheduled = {t["taskId"] for t in workflow.get("tasks", [])}
            assert scheduled <= ids, f"{name}: tasks the old server scheduled are gone"
            end = final.get(workflow["workflowId"]) or {}
            if trace["outcome"]["status"] == "completed" and end.get("status"):
                assert end["status"] in TERMINAL, f"{name}: {end['status']} at the end"


def _last_snapshots(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for step in reversed(steps):
        if step.get("snapshots"):
            return list(step["snapshots"])
    return []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_an_interrupted_upgrade_leaves_no_server_or_store(tmp_path: Path, sig: int) -> None:
    """Ctrl-C stops every server and store in order; a kill -9 of conductor-compat leaves
    them to the kernel (each dies with its parent). Either way nothing of the run is left,
    and its data stays inside the run folder."""
    _store("postgres")
    folder = tmp_path / "run"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "harness", "upgrade", "--to", "oss:3.21.14"),
            *("--switch-points", "first", "--out", str(folder)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not _stores_and_servers(folder):
        time.sleep(0.5)
    assert _stores_and_servers(folder), "no server or store started within 300 s"
    proc.send_signal(sig)
    proc.communicate(timeout=120)
    assert proc.returncode == (ExitCode.INTERRUPTED if sig == signal.SIGINT else -sig)
    assert_nothing_left(folder)


def _stores_and_servers(folder: Path) -> bool:
    """A JVM and a store of the run are up."""
    up = processes_mentioning(str(folder), servers_only=True)
    return any("java" in line for line in up) and any("postgres" in line for line in up)
