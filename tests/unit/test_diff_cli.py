"""`conductor-compat diff` end to end on recorded runs: exit codes, report.json, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

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
    # every difference open: the shipped known differences turned off
    assert main(["diff", str(A), str(OSS), "--out", str(tmp_path), "--allowlist", "none"]) == 1
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


def test_an_expired_allowlist_entry_fails_and_a_live_one_makes_known(tmp_path: Path) -> None:
    def allowlist(expires: str) -> Path:
        path = tmp_path / f"known-{expires}.yaml"
        path.write_text(
            "allowlist_format: 1\nentries:\n  - id: log-204\n"
            "    path: '**.status'\n    level: api\n    kind: status_code\n"
            "    reason: oss answers 204 without logs\n    link: https://github.com/conductor-oss/conductor\n"
            f"    owner: wg\n    expires: '{expires}'\n"
        )
        return path

    args = ["diff", str(A), str(OSS), "--fail-on", "breaking", "--quiet"]
    live = tmp_path / "live"
    code = main([*args, "--out", str(live), "--allowlist", str(allowlist("2999-01-01"))])
    report = json.loads((live / "report.json").read_text())
    known = [
        f
        for s in report["comparisons"][0]["scenarios"]
        for f in s["findings"]
        if f["disposition"] == "known"
    ]
    assert known and known[0]["known"]["id"] == "log-204"
    expired = tmp_path / "expired"
    assert main([*args, "--out", str(expired), "--allowlist", str(allowlist("2001-01-01"))]) == 1
    report = json.loads((expired / "report.json").read_text())
    assert (
        report["comparisons"][0]["policy_failures"]
        and report["verdict"]["status"] == "incompatible"
    )
    assert code in (0, 1)


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


def test_the_shipped_known_differences_explain_what_oss_changed(tmp_path: Path) -> None:
    """By default the shipped allowlist applies: each known difference keeps its reason and
    link, and the recorded 3.32.1 traces no longer gate."""
    assert main(["diff", str(A), str(OSS), "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    comparison = report["comparisons"][0]
    assert comparison["allowlist"]["file"].endswith("known-differences.yaml")
    known = [
        f for s in comparison["scenarios"] for f in s["findings"] if f["disposition"] == "known"
    ]
    assert known and not [f for f in known if f["gates"]]
    assert all(f["known"]["link"].startswith("https://github.com/conductor-oss/") for f in known)
