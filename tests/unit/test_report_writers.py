"""report.md and junit.xml, built from report.json documents of recorded real runs.

Snapshot tests: the expected files are in tests/unit/snapshots/. After a deliberate
change to a writer, regenerate them with ``UPDATE_SNAPSHOTS=1 pytest
tests/unit/test_report_writers.py`` and review the diff like code.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.classify import RunResult, Settings, assess_run, load_severity_rules
from harness.compare.traces import load_trace_set
from harness.normalize import load_spec
from harness.report import build_report, render_junit, render_markdown, write_reports
from harness.report.markdown import BUDGET
from tests.unit.traces import RUNS

SNAPSHOTS = Path(__file__).parent / "snapshots"
FIXED_TIME = "2026-11-25T00:00:00+00:00"


@pytest.fixture(scope="module")
def results() -> dict[str, RunResult]:
    settings = Settings(load_spec([]), load_severity_rules([]))
    baseline = load_trace_set(RUNS / "netflix-3.15.0-a")
    return {
        name: assess_run(baseline, load_trace_set(RUNS / name), settings)
        for name in ("netflix-3.15.0-b", "oss-3.21.14", "oss-3.32.1")
    }


def _report(results: list[RunResult], **kw: Any) -> dict[str, Any]:
    report = build_report(results, command=["compare"], **kw)
    report["created_at"] = FIXED_TIME
    report["harness_version"] = "0.0.0-test"
    return report


def _matches(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {name}; create it with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see module docstring"


def test_markdown_of_a_version_matrix(results: dict[str, RunResult]) -> None:
    report = _report([results["oss-3.21.14"], results["oss-3.32.1"]])
    text = render_markdown(report)
    _matches("matrix.report.md", text)
    assert "| scenario | oss:3.21.14 | oss:3.32.1 |" in text
    assert len(text) < 65_536  # a GitHub comment
    assert len(text) <= BUDGET + 10_000


def test_markdown_shows_every_gating_difference_with_both_values(
    results: dict[str, RunResult],
) -> None:
    report = _report([results["oss-3.32.1"]])
    text = render_markdown(report)
    _matches("oss-3.32.1.report.md", text)
    gating = [f for s in report["comparisons"][0]["scenarios"] for f in s["findings"] if f["gates"]]
    assert gating
    for finding in gating:
        assert finding["fingerprint"] in text
        for side in ("baseline", "candidate"):
            if finding["missing"] != side:
                first = json.dumps(finding[side], indent=2, sort_keys=True).splitlines()[0]
                assert first in text
    assert "## Environment" in text and "netflix:3.15.0" in text


def test_markdown_of_the_same_version_twice(results: dict[str, RunResult]) -> None:
    text = render_markdown(_report([results["netflix-3.15.0-b"]]))
    _matches("same-version.report.md", text)
    assert "✅ compatible" in text and "Incompatible" not in text


def test_an_incomplete_run_is_marked_in_every_report(
    results: dict[str, RunResult], tmp_path: Path
) -> None:
    settings = Settings(load_spec([]), load_severity_rules([]))
    baseline = load_trace_set(RUNS / "netflix-3.15.0-a")
    candidate = load_trace_set(RUNS / "oss-3.21.14")
    names = baseline.scenarios
    half = candidate.restrict(set(names[: len(names) // 2]))
    result = assess_run(baseline, half, settings, names=names)
    pending = [{"target": "oss:3.21.14", "scenario": n, "repeat": 1} for n in names[9:]]
    run = {
        "kind": "compare",
        "directory": str(tmp_path),
        "seconds": 12.0,
        "interrupted": "interrupted by a signal (Ctrl-C or SIGTERM)",
        "targets": [],
        "pending": pending,
        "unused_baselines": [],
        "no_baseline": [],
    }
    report = _report([result], complete=False, run=run)
    assert report["verdict"]["status"] == "inconclusive"
    written = write_reports(tmp_path, report)
    assert set(written) == {"report.json", "report.md", "report.html", "junit.xml"}
    assert "**INCOMPLETE**" in written["report.md"].read_text()
    assert "INCOMPLETE" in written["junit.xml"].read_text()
    assert json.loads(written["report.json"].read_text())["complete"] is False
    not_run = [s for s in report["comparisons"][0]["scenarios"] if "candidate trace" in s["reason"]]
    assert len(not_run) == len(names) - len(names) // 2


def test_junit_has_a_case_per_scenario_and_level(results: dict[str, RunResult]) -> None:
    report = _report([results["oss-3.21.14"], results["oss-3.32.1"]])
    text = render_junit(report)
    _matches("matrix.junit.xml", text)
    root = ET.fromstring(text.split("\n", 1)[1])
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "netflix:3.15.0 vs oss:3.21.14",
        "netflix:3.15.0 vs oss:3.32.1",
    ]
    for suite, comparison in zip(suites, report["comparisons"], strict=True):
        cases = suite.findall("testcase")
        expected = sum(len(s["levels"]) for s in comparison["scenarios"])
        assert len(cases) == expected == int(suite.get("tests", "0"))
        failures = [c for c in cases if c.find("failure") is not None]
        gating_levels = {
            (s["name"], f["level"])
            for s in comparison["scenarios"]
            for f in s["findings"]
            if f["gates"]
        }
        assert len(failures) == len(gating_levels) == int(suite.get("failures", "0"))


def test_junit_errors_for_inconclusive_and_skips_for_not_applicable(
    results: dict[str, RunResult], tmp_path: Path
) -> None:
    report = _report([results["oss-3.32.1"]])
    scenarios = report["comparisons"][0]["scenarios"]
    scenarios[0]["verdict"], scenarios[0]["reason"] = "not_applicable", "needs oss >= 3.30"
    scenarios[1]["verdict"], scenarios[1]["reason"] = "inconclusive", "errored: deadline <90 s>"
    root = ET.fromstring(render_junit(report).split("\n", 1)[1])
    cases = root.find("testsuite")
    assert cases is not None
    skipped = [c for c in cases.findall("testcase") if c.find("skipped") is not None]
    errors = [c for c in cases.findall("testcase") if c.find("error") is not None]
    assert len(skipped) == len(scenarios[0]["levels"])
    assert skipped[0].find("skipped").get("message") == "needs oss >= 3.30"  # type: ignore[union-attr]
    assert len(errors) == len(scenarios[1]["levels"])
    assert errors[0].find("error").get("message") == "errored: deadline <90 s>"  # type: ignore[union-attr]
