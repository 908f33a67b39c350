"""The pytest plugin in a project of its own, as a user wires it: scenario items and the
``conductor_compat`` fixture under pytest-xdist on real servers; then a release gate
against recorded baselines in which one scenario's final status was changed, whose item
fails with the difference that no catalogued change explains.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import require
from tests.e2e.conftest import assert_nothing_left

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("tasks/inline.yaml", "tasks/switch.yaml")

USER_TEST = """
def test_inline_completes_on_the_baseline(conductor_compat):
    played = conductor_compat.play("workflows/inline.yaml", "netflix:3.15.0")
    assert played.status == "completed", played.reason
    (workflow,) = played.workflows
    assert workflow["status"] == "COMPLETED"
"""


def _project(folder: Path, ini: str) -> Path:
    (folder / "workflows").mkdir(parents=True)
    (folder / "tests").mkdir()
    for name in SCENARIOS:
        shutil.copy(ROOT / "scenarios" / name, folder / "workflows")
    (folder / "tests" / "test_mine.py").write_text(USER_TEST)
    (folder / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n" + ini)
    return folder


def _pytest(project: Path, *args: str) -> tuple[int, str, ET.Element]:
    junit = project / "junit.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            "-o",
            "addopts=",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr, ET.parse(junit).getroot()


def _outcomes(junit: ET.Element) -> dict[str, str]:
    found = {}
    for case in junit.iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        found[case.get("name", "")] = "failed" if failed else "skipped" if skipped else "passed"
    return found


def test_scenario_items_and_the_fixture_under_xdist(tmp_path: Path) -> None:
    require(
        importlib.util.find_spec("xdist") is not None,
        "pytest-xdist is not installed (the dev extra has it)",
    )
    out = tmp_path / "run"
    project = _project(
        tmp_path / "project",
        "conductor_compat_scenarios = workflows\n"
        "conductor_compat_candidates = oss:3.21.14\n"
        "conductor_compat_fail_on_known = no\n"
        f"conductor_compat_out = {out}\n",
    )
    code, text, junit = _pytest(project, "-n", "2")
    assert code == 0, text
    assert _outcomes(junit) == {
        "test_inline_completes_on_the_baseline": "passed",
        "inline[netflix:3.15.0]": "passed",
        "inline[oss:3.21.14]": "passed",
        "switch[netflix:3.15.0]": "passed",
        "switch[oss:3.21.14]": "passed",
    }
    report = json.loads((out / "comparison" / "report.json").read_text())
    # One comparison, not one per worker: one oss:3.21.14 server, two baseline runs each.
    assert len(list(out.glob("servers/*/oss-3.21.14"))) == 1
    assert len(list(out.glob("comparison/traces/netflix-3.15.0/*.trace.json"))) == 4
    (comparison,) = report["comparisons"]
    assert {s["name"] for s in comparison["scenarios"]} == {"inline", "switch"}
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert str(properties["report"]).endswith("report.html")
    assert_nothing_left(out)


def test_a_gating_difference_fails_its_item_with_the_explanation(tmp_path: Path) -> None:
    """netflix:3.15.0's committed baselines of inline, with the final workflow status
    changed from COMPLETED to FAILED: the live candidate differs where nothing catalogued
    explains it."""
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    for path in (ROOT / "fixtures" / "baselines" / "netflix-3.15.0").glob("inline.*json"):
        trace = json.loads(path.read_text())
        last = [s for s in trace["steps"] if s.get("snapshots")][-1]
        for document in last["snapshots"]:
            document["status"] = "FAILED"
        (baselines / path.name).write_text(json.dumps(trace))
    out = tmp_path / "run"
    project = _project(
        tmp_path / "project",
        f"conductor_compat_scenarios = workflows/inline.yaml\n"
        f"conductor_compat_baseline = {baselines}\n"
        "conductor_compat_candidates = oss:3.21.14\n"
        "conductor_compat_fail_on_known = no\n"
        f"conductor_compat_out = {out}\n",
    )
    code, text, junit = _pytest(project, "workflows")
    assert code == 1, text
    assert _outcomes(junit) == {"inline[oss:3.21.14]": "failed"}
    (failure,) = junit.iter("failure")
    message = failure.get("message", "") + (failure.text or "")
    assert "incompatible" in message
    assert "status" in message and "'FAILED' -> 'COMPLETED'" in message
    assert_nothing_left(out)
