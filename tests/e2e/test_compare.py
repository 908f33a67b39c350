"""`conductor-compat compare` and `gate` end to end on real servers: the session's one
gate of the whole library against the committed netflix:3.15.0 baselines (made by the
pytest plugin, the run the scenario items report from) and its four reports; an
interrupted compare resumed, and the same compare under docker, each with live
netflix:3.15.0 and oss:3.21.14 servers, giving the library gate's verdicts; a gate that
fails on a difference that no catalogued change explains.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ExitCode
from harness.plugin import CompatSession
from harness.report import report_errors
from harness.report.markdown import text as markdown_text
from harness.scenarios import load_all
from tests.e2e.conftest import STARTER, Run, assert_nothing_left, cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = [str(p) for p in STARTER]
PAIR = ["--baseline", "netflix:3.15.0", "--candidate", "oss:3.21.14"]
GATE_VIEW = ("--fail-on-known", "no")  # as the library comparison (pyproject's conductor_compat_*)
EXIT = {"compatible": 0, "action_required": 9, "incompatible": 1, "inconclusive": 3}


@pytest.fixture(scope="module")
def reference(conductor_compat: CompatSession) -> dict[str, Any]:
    """report.json of the session's one gate of the whole library (harness/plugin:
    oss:3.21.14 and oss:3.32.1 against netflix:3.15.0's committed baselines,
    --fail-on-known no): the same run that the scenario items report from."""
    return conductor_compat.report()


def _report(folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((folder / "report.json").read_text())
    assert report_errors(report) == []
    return report


def _verdicts(report: dict[str, Any], names: set[str] | None = None) -> dict[str, str]:
    comparison = next(c for c in report["comparisons"] if c["candidate"]["target"] == "oss:3.21.14")
    return {
        s["name"]: s["verdict"]
        for s in comparison["scenarios"]
        if names is None or s["name"] in names
    }


def test_the_library_comparison_writes_four_reports(reference: dict[str, Any]) -> None:
    folder = Path(reference["run"]["directory"])
    report = _report(folder)
    assert report["complete"] is True
    assert {p.name for p in folder.iterdir()} >= {
        "report.json",
        "report.md",
        "report.html",
        "junit.xml",
        "run.json",
        "traces",
    }  # the servers' folders are the session's (its servers outlive one comparison)
    assert [c["candidate"]["target"] for c in report["comparisons"]] == [
        "oss:3.21.14",
        "oss:3.32.1",
    ]
    assert report["baseline"]["version"] == "3.15.0"
    library = load_all([ROOT / "scenarios"]).scenarios
    html = (folder / "report.html").read_text()
    markdown = (folder / "report.md").read_text()
    for comparison in report["comparisons"]:
        scenarios = comparison["scenarios"]
        assert {s["name"] for s in scenarios} == {s.name for s in library}
        assert all(len(s["baseline_runs"]) == 2 for s in scenarios)  # noise is measured
        for scenario in scenarios:
            assert scenario["name"] in html
            if scenario["verdict"] not in ("compatible", "not_applicable"):
                # report.md, sized for a pull request, names what is not compatible
                assert markdown_text(scenario["name"]) in markdown
            for finding in scenario["findings"]:
                assert finding["fingerprint"] in html  # every difference, both values
                if finding["gates"]:
                    assert finding["fingerprint"] in markdown
    assert_nothing_left(folder)


def _starter_names() -> set[str]:
    return {s.name for s in load_all(STARTER).scenarios}


def test_an_interrupted_compare_resumes_to_the_same_result(
    reference: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "compare",
            *PAIR,
            *GATE_VIEW,
            "--out",
            str(folder),
            *LIBRARY,
        ],
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
    assert resumed.code == EXIT[report["verdict"]["status"]], resumed.out + resumed.err
    assert f"{report['verdict']['status'].replace('_', ' ')}:" in resumed.out
    assert _verdicts(report) == _verdicts(reference, _starter_names())
    assert_nothing_left(folder)
    # a finished run resumed again assesses what it has: no run to make, no server started
    again = cli("compare", "--resume", str(folder))
    assert again.code == resumed.code, again.out + again.err
    assert "0 scenario runs to make" in again.out + again.err
    assert "ready at" not in again.out + again.err
    assert _verdicts(_report(folder)) == _verdicts(report)


def _gate(
    baselines: Path, folder: Path, *scenarios: Path, options: tuple[str, ...] = ()
) -> tuple[Run, dict[str, Any]]:
    """`gate` of a live oss:3.21.14 against ``baselines``: the run and its report.json."""
    run = cli("gate", "--baselines", str(baselines), "--candidate", "oss:3.21.14",
              "--out", str(folder), *options, *(str(p) for p in scenarios))  # fmt: skip
    return run, _report(folder)


@pytest.mark.usefixtures("docker_engine")
def test_compare_under_docker_gives_the_verdict_of_the_process_runtime(
    reference: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "docker"
    run = cli("compare", *PAIR, *GATE_VIEW, "--runtime", "docker", "--out", str(folder), *LIBRARY)
    report = _report(folder)
    assert report["baseline"]["runtime"] == "docker"
    assert run.code == EXIT[report["verdict"]["status"]], run.out + run.err
    assert _verdicts(report) == _verdicts(reference, _starter_names())
    assert_nothing_left(folder)
    left = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", "label=conductor-compat.run"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not left, left


def test_the_library_gate_reads_the_committed_baselines(reference: dict[str, Any]) -> None:
    """fixtures/baselines holds netflix:3.15.0's traces of the whole library
    (scripts/record-baselines): the live candidates were gated against them, as a release
    gate does (only unexplained differences fail), and netflix:3.15.0 never ran."""
    folder = Path(reference["run"]["directory"])
    assert reference["run"]["kind"] == "gate"
    assert reference["baseline"]["target"] == "netflix:3.15.0"
    assert not reference["run"]["no_baseline"]  # every scenario has a committed baseline
    assert not reference["run"]["unused_baselines"]  # and every baseline is a scenario's
    for comparison in reference["comparisons"]:
        assert comparison["catalog"]["files"][0].endswith("changes.yaml")
        assert comparison["changes"]  # catalogued changes are reached, and shown
    assert not (folder / "traces" / "netflix-3.15.0").exists()  # the baseline never ran


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
