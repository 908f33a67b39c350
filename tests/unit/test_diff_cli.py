"""`conductor-compat diff` end to end on recorded runs: exit codes, report.json, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.report import report_errors
from tests.unit.traces import RUNS

A, B, OSS = RUNS / "netflix-3.15.0-a", RUNS / "netflix-3.15.0-b", RUNS / "oss-3.32.1"


def test_same_version_exits_0_and_writes_a_valid_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["diff", str(A), str(B), "--out", str(tmp_path)])
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report_errors(report) == []
    assert report["verdict"]["status"] == "compatible"
    assert report["comparisons"][0]["summary"]["by_disposition"].get("open", 0) == 0
    assert "compatible: 17 scenarios compatible" in capsys.readouterr().out


def test_netflix_against_oss_exits_1_with_every_difference_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every difference unexplained: the shipped catalog of changes left out
    argv = ["diff", str(A), str(OSS), "--out", str(tmp_path), "--no-shipped-catalog"]
    assert main(argv) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report_errors(report) == []
    findings = [f for s in report["comparisons"][0]["scenarios"] for f in s["findings"]]
    assert findings
    for f in findings:
        assert {
            "path",
            "level",
            "kind",
            "severity",
            "fingerprint",
            "baseline",
            "candidate",
            "step",
            "rule",
        } <= set(f)
    gating = [f for f in findings if f["gates"]]
    assert gating and all(f["step"] for f in gating)
    out = capsys.readouterr().out
    assert "incompatible:" in out and gating[0]["fingerprint"] in out
    by_name = {s["name"]: s for s in report["comparisons"][0]["scenarios"]}
    scrubbed = by_name["retry-restart-rerun"]["scrubbed"]
    assert scrubbed["ids"]["baseline"] > 0  # what the scrub equated is shown


def _report(folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((folder / "report.json").read_text())
    assert report_errors(report) == []
    return report


def _accept(tmp_path: Path, changes: list[str], expires: str) -> Path:
    path = tmp_path / f"accept-{expires}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "accept_format": 1,
                "accepted": [
                    {"change": c, "owner": "platform team", "reason": "handled", "expires": expires}
                    for c in changes
                ],
            }
        )
    )
    return path


def test_accepted_changes_ask_for_no_action_until_their_acceptance_expires(
    tmp_path: Path,
) -> None:
    args = ["diff", str(A), str(OSS), "--quiet"]
    first = main([*args, "--out", str(tmp_path / "first")])
    report = _report(tmp_path / "first")
    comparison = report["comparisons"][0]
    todo = [c["id"] for c in comparison["changes"] if c["requires_action"]]
    assert todo, "the recorded 3.32.1 runs reach catalogued breaking or behavioral changes"
    assert first == (1 if comparison["unexplained"] else 9)
    live = _accept(tmp_path, todo, "2999-01-01")
    second = main([*args, "--out", str(tmp_path / "live"), "--accept", str(live)])
    accepted = _report(tmp_path / "live")["comparisons"][0]
    assert not [c for c in accepted["changes"] if c["requires_action"]]
    assert {c["id"] for c in accepted["changes"] if c["accepted"]} == set(todo)
    assert second == (1 if accepted["unexplained"] else 0)
    expired = _accept(tmp_path, todo, "2001-01-01")
    main([*args, "--out", str(tmp_path / "expired"), "--accept", str(expired)])
    again = _report(tmp_path / "expired")["comparisons"][0]
    assert {c["id"] for c in again["changes"] if c["requires_action"]} == set(todo)
    assert any("expired" in n for n in again["notices"])


def test_a_release_gate_fails_only_on_unexplained_differences(tmp_path: Path) -> None:
    args = ["diff", str(A), str(OSS), "--quiet", "--fail-on-known", "no"]
    code = main([*args, "--out", str(tmp_path)])
    comparison = _report(tmp_path)["comparisons"][0]
    assert not [c for c in comparison["changes"] if c["requires_action"]]
    assert code == (1 if comparison["unexplained"] else 0)


def test_an_unknown_change_in_an_acceptance_file_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _accept(tmp_path, ["no-such-change"], "2999-01-01")
    code = main(["diff", str(A), str(OSS), "--out", str(tmp_path / "r"), "--accept", str(path)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and "no change 'no-such-change'" in err


def test_an_errored_candidate_is_inconclusive(tmp_path: Path) -> None:
    candidate = tmp_path / "candidate"
    shutil.copytree(B, candidate)
    path = candidate / "inline.trace.json"
    trace = json.loads(path.read_text())
    trace["outcome"] = {"status": "error", "reason": "scenario deadline of 90 s", "step": 0}
    path.write_text(json.dumps(trace))
    assert main(["diff", str(A), str(candidate), "--out", str(tmp_path / "r"), "--quiet"]) == 3


@pytest.mark.parametrize("problem", ["missing", "empty", "not-json", "not-a-trace"])
def test_bad_input_exits_2_and_says_where(
    tmp_path: Path, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    candidate = tmp_path / "c"
    if problem != "missing":
        candidate.mkdir()
    if problem == "not-json":
        (candidate / "x.trace.json").write_text("{ nope")
    if problem == "not-a-trace":
        (candidate / "x.trace.json").write_text('{"trace_format": 1}')
    assert main(["diff", str(A), str(candidate), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and str(candidate) in err.replace("\n", "")
    assert not (tmp_path / "r" / "report.json").exists()


def test_the_shipped_catalog_explains_what_oss_changed(tmp_path: Path) -> None:
    """By default the shipped catalog applies: each catalogued difference carries its
    change (severity, action, upstream link), and none of them gates as unexplained."""
    code = main(["diff", str(A), str(OSS), "--out", str(tmp_path), "--quiet"])
    comparison = _report(tmp_path)["comparisons"][0]
    assert comparison["catalog"]["files"][0].endswith("changes.yaml")
    catalogued = [
        f
        for s in comparison["scenarios"]
        for f in s["findings"]
        if f["disposition"] == "catalogued"
    ]
    assert catalogued and not [f for f in catalogued if f["gates"]]
    assert all(f["change"]["link"].startswith("https://github.com/") for f in catalogued)
    assert all(f["severity"] == f["change"]["severity"] for f in catalogued)
    assert code in (1, 9)


SELF = RUNS / "oss-3.32.1-self"  # oss:3.32.1 twice (baseline), then a third run


def test_a_catalogued_intermittent_behaviour_of_both_versions_is_noise(tmp_path: Path) -> None:
    """oss:3.32.1 against itself: its SQLite DAO stamps scheduledTime at insert, so a system
    task's startTime is before its scheduledTime in some runs and not in others (here,
    both runs of the baseline agree and the third disagrees, in noop one way, in inline the
    other). The catalog says the change is intermittent and both sides have it: what it
    explains is the version's own variation, noise, not a regression."""
    argv = ["diff", str(SELF / "baseline"), str(SELF / "candidate"), "--out", str(tmp_path)]
    assert main(argv) == 0
    report: dict[str, Any] = json.loads((tmp_path / "report.json").read_text())
    (comparison,) = report["comparisons"]
    findings = {s["name"]: s["findings"] for s in comparison["scenarios"]}
    assert set(findings) == {"noop", "inline"}
    ways = set()
    for found in findings.values():
        (finding,) = found
        assert finding["path"].endswith(".startTime")
        assert finding["disposition"] == "noise" and not finding["gates"]
        assert "sqlite-overwrites-scheduled-time" in finding["note"]
        ways.add((finding["baseline"], finding["candidate"]))
    assert ways == {
        ("<time>", "<time:before scheduledTime>"),
        ("<time:before scheduledTime>", "<time>"),
    }

    # Without the catalog nothing says so: the same differences are open, and gate.
    bare = tmp_path / "bare"
    assert main([*argv[:-1], str(bare), "--no-shipped-catalog"]) == 1
    report = json.loads((bare / "report.json").read_text())
    dispositions = [
        f["disposition"] for s in report["comparisons"][0]["scenarios"] for f in s["findings"]
    ]
    assert dispositions == ["open", "open"]
