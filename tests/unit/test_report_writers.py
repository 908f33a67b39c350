"""report.md and junit.xml, built from report.json documents of recorded real runs.

Snapshot tests: the expected files are in tests/unit/snapshots/. After a deliberate
change to a writer (or to the catalog of changes), regenerate them with
``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_report_writers.py`` and review the diff like code.
"""

from __future__ import annotations

import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.classify import RunResult, Settings, assess_run, load_settings
from harness.report import build_report, render_junit, render_markdown, write_reports
from harness.report.markdown import LIMIT
from harness.report.markdown_parts import text as text_of
from harness.traces import load_trace_set
from tests.unit import library
from tests.unit.traces import RUNS

SNAPSHOTS = Path(__file__).parent / "snapshots"
FIXED_TIME = "2026-11-25T00:00:00+00:00"
HOSTILE = "[x](javascript:alert(1)) ![i](https://example.com/i.png) <b>*bold*</b> | `"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def results(settings: Settings) -> dict[str, RunResult]:
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


class _Elements(HTMLParser):
    """The HTML elements of a Markdown file, outside code (where '<' is literal)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def _outside_code(markdown: str) -> str:
    """The Markdown without fenced blocks and code spans."""
    out, fence = [], None
    for line in markdown.splitlines():
        opener = re.match(r"(`{3,})", line)
        if fence is None and opener:
            fence = opener[1]
            continue
        if fence is not None:
            if line.startswith(fence) and not line[len(fence) :].strip():
                fence = None
            continue
        out.append(re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", line))
    assert fence is None, "a fenced block is never closed"
    return "\n".join(out)


def check_markdown(markdown: str) -> set[str]:
    """Within GitHub's comment limit, every opened element closed; the elements used."""
    assert len(markdown) < LIMIT
    parser = _Elements()
    parser.feed(_outside_code(markdown))
    parser.close()
    assert not parser.problems and not parser.stack, (parser.problems, parser.stack)
    return parser.seen


def test_markdown_of_a_version_matrix(results: dict[str, RunResult]) -> None:
    report = _report([results["oss-3.21.14"], results["oss-3.32.1"]])
    text = render_markdown(report)
    _matches("matrix.report.md", text)
    assert "| scenario | oss:3.21.14 | oss:3.32.1 |" in text
    assert check_markdown(text) <= {"details", "summary"}
    for comparison in report["comparisons"]:
        for change in comparison["changes"]:
            assert f"`{change['id']}`" in text
        for cause in comparison["unexplained"]:
            assert f"`{cause['shape']}`" in text or cause["shape"].rpartition(".")[2] in text


def test_markdown_puts_changes_and_unexplained_causes_first(
    results: dict[str, RunResult],
) -> None:
    report = _report([results["oss-3.32.1"]])
    text = render_markdown(report)
    _matches("oss-3.32.1.report.md", text)
    check_markdown(text)
    comparison = report["comparisons"][0]
    assert comparison["changes"] and comparison["unexplained"]
    unexplained = text.index("## Unexplained differences")
    assert unexplained < text.index("## Scenarios") < text.index("## Environment")
    for change in comparison["changes"]:  # the action list, or one line each
        assert f"`{change['id']}`" in text[:unexplained]
    acting = [c for c in comparison["changes"] if c["requires_action"]]
    if acting:
        assert text.index("## Action required") < text.index("### Other catalogued changes")
    causes = comparison["unexplained"]
    gating = [c for c in causes if c["gates"]]
    assert gating and f"{len(causes)} root causes, {len(gating)} gating" in text
    for cause in gating:  # every gating cause with both of its values
        line = next(ln for ln in text.splitlines() if f"`{cause['shape']}`" in ln)
        assert f"{cause['findings']} difference" in line
    intermittent = [c for c in causes if "intermittent" in c["dispositions"]]
    assert intermittent and "intermittent (1 of 2 runs)" in text
    followed = [c for c in [*causes, *comparison["changes"]] if c["consequences"]]
    assert followed  # counted with their root, never as lines of their own
    for root in followed:
        assert f"(+{root['consequences']} consequences)" in text


def test_markdown_action_list_and_accepted_changes(
    results: dict[str, RunResult], tmp_path: Path
) -> None:
    """fail_on any: every catalogued change asks for action, but the one accepted."""
    changes = _report([results["oss-3.32.1"]])["comparisons"][0]["changes"]
    accepted = changes[-1]["id"]
    accept = tmp_path / "accept.yaml"
    accept.write_text(
        "accept_format: 1\naccepted:\n"
        f"  - change: {accepted}\n    owner: platform-team\n"
        "    reason: our clients ignore it\n    expires: '2099-01-01'\n",
        encoding="utf-8",
    )
    strict = load_settings(accept=accept, fail_on="any")
    baseline = load_trace_set(RUNS / "netflix-3.15.0-a")
    result = assess_run(baseline, load_trace_set(RUNS / "oss-3.32.1"), strict)
    report = _report([result])
    text = render_markdown(report)
    check_markdown(text)
    reached = report["comparisons"][0]["changes"]
    act = [c for c in reached if c["requires_action"]]
    assert [c["id"] for c in reached if not c["requires_action"]] == [accepted]
    assert f"## Action required: {len(act)} changes" in text
    table = text[text.index("## Action required") : text.index("### Accepted changes")]
    for change in act:
        assert change["id"] in table and text_of(change["title"]) in table
    assert re.search(rf"`{accepted}`.*accepted by platform-team until 2099-01-01", text)
    assert report["comparisons"][0]["summary"]["requires_action"] > 0
    root = ET.fromstring(render_junit(report).split("\n", 1)[1])
    cases = {c.get("name"): c for c in root.iter("testcase") if "changes" in c.get("classname", "")}
    assert cases[accepted].find("skipped") is not None
    assert all(cases[c["id"]].find("failure") is not None for c in act)


def test_markdown_makes_scenario_text_inert(results: dict[str, RunResult]) -> None:
    report = copy.deepcopy(_report([results["oss-3.32.1"]]))
    comparison = report["comparisons"][0]
    for scenario in comparison["scenarios"]:
        scenario["description"] = HOSTILE
        scenario["reason"] = HOSTILE
        for finding in scenario["findings"]:
            finding["note"] = HOSTILE
    comparison["changes"][0]["title"] = HOSTILE
    comparison["notices"] = [HOSTILE]
    text = render_markdown(report)
    check_markdown(text)
    outside = _outside_code(text)
    assert "](javascript:" not in outside and "![i](" not in outside and "<b>" not in outside
    assert r"\[x\]\(javascript:alert\(1\)\) \!\[i\]" in outside
    assert "&lt;b&gt;\\*bold\\*&lt;/b&gt; \\| \\`" in outside


def test_markdown_of_the_same_version_twice(results: dict[str, RunResult]) -> None:
    text = render_markdown(_report([results["netflix-3.15.0-b"]]))
    _matches("same-version.report.md", text)
    assert "✅ compatible" in text and "Unexplained" not in text
    check_markdown(text)


@pytest.mark.parametrize("candidate", library.CANDIDATES)
def test_markdown_of_the_whole_library_lists_every_change_and_cause(candidate: str) -> None:
    """143 scenarios of real traces: still under GitHub's limit, nothing of substance cut.
    (The comparison is the one the catalog's tests make, made once per session.)"""
    report = _report([library.upgrade(candidate)])
    comparison = report["comparisons"][0]
    assert comparison["summary"]["scenarios"] >= 140
    text = render_markdown(report)
    check_markdown(text)
    head = text[: text.index("## Scenarios")]
    for change in comparison["changes"]:
        assert f"`{change['id']}`" in head
    for cause in comparison["unexplained"]:
        parent, dot, leaf = cause["shape"].rpartition(".")
        assert f"`{cause['shape']}`" in head or (
            f"`{parent}{dot}…`" in head and f"`{leaf}`" in head
        ), cause["shape"]
    assert "items left to report.html" not in head


def test_an_incomplete_run_is_marked_in_every_report(
    results: dict[str, RunResult], settings: Settings, tmp_path: Path
) -> None:
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
    document = json.loads(written["report.json"].read_text())
    assert document["complete"] is False and document["report_format"] == 3
    not_run = [s for s in report["comparisons"][0]["scenarios"] if "candidate trace" in s["reason"]]
    assert len(not_run) == len(names) - len(names) // 2


def test_junit_has_a_case_per_change_and_per_scenario_and_level(
    results: dict[str, RunResult],
) -> None:
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
        changes = [c for c in cases if c.get("classname", "").endswith(".changes")]
        assert [c.get("name") for c in changes] == [c["id"] for c in comparison["changes"]]
        expected = sum(len(s["levels"]) for s in comparison["scenarios"]) + len(changes)
        assert len(cases) == expected == int(suite.get("tests", "0"))
        for case, change in zip(changes, comparison["changes"], strict=True):
            skipped = change["severity"] in ("additive", "cosmetic") or change["accepted"]
            assert (case.find("failure") is not None) == change["requires_action"]
            assert (case.find("skipped") is not None) == bool(skipped)
        failures = [c for c in cases if c.find("failure") is not None]
        gating_levels = {
            (s["name"], f["level"])
            for s in comparison["scenarios"]
            for f in s["findings"]
            if f["gates"] and not f["consequence_of"]
        }
        acting = sum(1 for c in comparison["changes"] if c["requires_action"])
        assert len(failures) == len(gating_levels) + acting == int(suite.get("failures", "0"))


def test_junit_errors_for_inconclusive_and_skips_for_not_applicable(
    results: dict[str, RunResult],
) -> None:
    report = _report([results["oss-3.32.1"]])
    scenarios = report["comparisons"][0]["scenarios"]
    report["comparisons"][0]["changes"] = []
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
