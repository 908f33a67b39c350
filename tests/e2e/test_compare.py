"""`conductor-compat compare` and `gate` end to end: real netflix:3.15.0 and oss:3.21.14
servers (oss:3.21.14 stands in for 3.21.20, which is not on Maven Central), the
scenario library, the four reports, an interrupted run resumed, and a gate against the
baseline traces the compare recorded.
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

from harness.errors import ExitCode
from harness.report import report_errors
from tests.e2e.conftest import (
    STARTER,
    STARTER_TASKS,
    Run,
    assert_nothing_left,
    cli,
    processes_mentioning,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = [str(p) for p in STARTER]
PAIR = ["--baseline", "netflix:3.15.0", "--candidate", "oss:3.21.14"]
EXIT = {"compatible": 0, "action_required": 9, "incompatible": 1, "inconclusive": 3}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Run]]:
    folder = tmp_path_factory.mktemp("compare") / "run"
    run = cli("compare", *PAIR, "--out", str(folder), *LIBRARY)
    yield folder, run
    for line in processes_mentioning(str(folder)):
        subprocess.run(["kill", "-9", line.split(":")[0]], check=False)


def _report(folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((folder / "report.json").read_text())
    assert report_errors(report) == []
    return report


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["verdict"] for s in report["comparisons"][0]["scenarios"]}


def test_compare_writes_four_reports_and_exits_with_the_verdict(
    reference: tuple[Path, Run],
) -> None:
    folder, run = reference
    report = _report(folder)
    assert run.code == EXIT[report["verdict"]["status"]], run.out + run.err
    assert report["complete"] is True
    assert {p.name for p in folder.iterdir()} >= {
        "report.json",
        "report.md",
        "report.html",
        "junit.xml",
        "run.json",
        "traces",
        "servers",
    }
    comparison = report["comparisons"][0]
    assert comparison["candidate"]["target"] == "oss:3.21.14"
    assert report["baseline"]["version"] == "3.15.0"
    scenarios = comparison["scenarios"]
    assert len(scenarios) == len(LIBRARY)
    assert all(len(s["baseline_runs"]) == 2 for s in scenarios)  # noise is measured
    html = (folder / "report.html").read_text()
    markdown = (folder / "report.md").read_text()
    for scenario in scenarios:
        assert scenario["name"] in html and scenario["name"] in markdown
        for finding in scenario["findings"]:
            assert finding["fingerprint"] in html  # every difference, with both values
            if finding["gates"]:
                assert finding["fingerprint"] in markdown
    assert f"{report['verdict']['status'].replace('_', ' ')}:" in run.out
    assert_nothing_left(folder)


def test_an_interrupted_compare_resumes_to_the_same_result(
    reference: tuple[Path, Run], tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "compare", *PAIR, "--out", str(folder), *LIBRARY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while len(list(folder.glob("traces/*/*.trace.json"))) < 6:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no traces within 300 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED, out + err
    assert f"--resume {folder}" in err
    partial = _report(folder)
    assert partial["complete"] is False and partial["run"]["pending"]
    assert "INCOMPLETE" in (folder / "report.md").read_text()
    assert_nothing_left(folder)
    kept = {p: p.stat().st_mtime_ns for p in folder.glob("traces/*/*.trace.json")}
    assert kept

    resumed = cli("compare", "--resume", str(folder))
    report = _report(folder)
    assert report["complete"] is True, resumed.out + resumed.err
    for path, mtime in kept.items():  # finished runs were not made again
        assert path.stat().st_mtime_ns == mtime, path
    expected = _report(reference[0])
    assert resumed.code == reference[1].code
    assert report["verdict"]["status"] == expected["verdict"]["status"]
    assert _verdicts(report) == _verdicts(expected)
    assert_nothing_left(folder)


def _gate(
    baselines: Path, folder: Path, *scenarios: Path, options: tuple[str, ...] = ()
) -> tuple[Run, dict[str, Any]]:
    """`gate` of a live oss:3.21.14 against ``baselines``: the run and its report.json."""
    run = cli("gate", "--baselines", str(baselines), "--candidate", "oss:3.21.14",
              "--out", str(folder), *options, *(str(p) for p in scenarios))  # fmt: skip
    return run, _report(folder)


def test_gate_compares_a_live_candidate_with_recorded_baselines(
    reference: tuple[Path, Run], tmp_path: Path
) -> None:
    folder = tmp_path / "gate"
    run, report = _gate(reference[0] / "traces" / "netflix-3.15.0", folder, *STARTER_TASKS)
    assert run.code == EXIT[report["verdict"]["status"]], run.out + run.err
    assert report["run"]["kind"] == "gate"
    tasks = {s["name"] for s in report["comparisons"][0]["scenarios"]}
    assert len(tasks) == len(STARTER_TASKS)
    unused = set(report["run"]["unused_baselines"])
    assert unused and not unused & tasks  # the other scenarios' baselines are reported
    assert "api-metadata-crud" in unused
    assert not (folder / "traces" / "netflix-3.15.0").exists()  # the baseline never ran
    assert_nothing_left(folder)


@pytest.mark.usefixtures("docker_engine")
def test_compare_under_docker_gives_the_verdict_of_the_process_runtime(
    reference: tuple[Path, Run], tmp_path: Path
) -> None:
    folder = tmp_path / "docker"
    run = cli("compare", *PAIR, "--runtime", "docker", "--out", str(folder), *LIBRARY)
    report = _report(folder)
    assert report["baseline"]["runtime"] == "docker"
    expected = _report(reference[0])
    assert run.code == reference[1].code, run.out + run.err
    assert report["verdict"]["status"] == expected["verdict"]["status"]
    assert _verdicts(report) == _verdicts(expected)
    assert_nothing_left(folder)
    left = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", "label=conductor-compat.run"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not left, left


def test_gate_works_out_of_the_box_with_the_committed_baselines(tmp_path: Path) -> None:
    """fixtures/baselines holds netflix:3.15.0's traces of the whole library
    (scripts/record-baselines): a live candidate is gated against them, here on the
    task-type scenarios, as a release gate does: only unexplained differences fail."""
    folder = tmp_path / "gate"
    baselines = ROOT / "fixtures" / "baselines" / "netflix-3.15.0"
    tasks = ROOT / "scenarios" / "tasks"
    run, report = _gate(baselines, folder, tasks, options=("--fail-on-known", "no"))
    comparison = report["comparisons"][0]
    assert run.code == 0, (run.out + run.err, comparison["unexplained"])
    scenarios = comparison["scenarios"]
    assert len(scenarios) == len(list(tasks.glob("*.yaml")))
    assert not report["run"]["no_baseline"]  # every scenario has a committed baseline
    assert all(len(s["baseline_runs"]) == 2 for s in scenarios)
    assert comparison["catalog"]["files"][0].endswith("changes.yaml")
    assert comparison["changes"]  # catalogued changes are reached, and shown
    assert_nothing_left(folder)


def test_gate_fails_on_a_difference_no_change_explains(tmp_path: Path) -> None:
    """The committed baseline of one scenario with its final workflow status swapped
    (COMPLETED to FAILED): the live candidate now differs in a way nothing catalogued
    explains, and the release gate fails."""
    name, scenario = "inline", ROOT / "scenarios" / "tasks" / "inline.yaml"
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    for path in (ROOT / "fixtures" / "baselines" / "netflix-3.15.0").glob(f"{name}.*json"):
        trace = json.loads(path.read_text())
        last = [s for s in trace["steps"] if s.get("snapshots")][-1]
        for document in last["snapshots"]:
            assert document["status"] == "COMPLETED"
            document["status"] = "FAILED"
        (baselines / path.name).write_text(json.dumps(trace))
    run, report = _gate(baselines, tmp_path / "gate", scenario, options=("--fail-on-known", "no"))
    assert run.code == 1, run.out + run.err
    comparison = report["comparisons"][0]
    assert [u for u in comparison["unexplained"] if u["level"] == "status" and u["gates"]]
    assert_nothing_left(tmp_path / "gate")
