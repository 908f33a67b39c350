"""Severity, fingerprints, noise, flaky, known differences and verdicts, on real runs.

fixtures/runs/ holds `run --repeats 2` of the scenario library on netflix:3.15.0 (twice:
-a and -b), oss:3.21.14 and oss:3.32.1.
"""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from harness.classify import RunResult, Settings, assess_run, load_allowlist, load_severity_rules
from harness.classify.assess import Context, assess_scenario
from harness.compare.traces import TraceSet, load_trace_set
from harness.documents import DocumentError
from harness.normalize import load_spec
from tests.unit.traces import RUNS

SPEC = load_spec()
RULES = load_severity_rules()


def _settings(**kw: object) -> Settings:
    return Settings(SPEC, kw.pop("severity", RULES), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def netflix_a() -> TraceSet:
    return load_trace_set(RUNS / "netflix-3.15.0-a")


@pytest.fixture(scope="module")
def netflix_b() -> TraceSet:
    return load_trace_set(RUNS / "netflix-3.15.0-b")


@pytest.fixture(scope="module")
def oss_32() -> TraceSet:
    return load_trace_set(RUNS / "oss-3.32.1")


def test_the_same_version_twice_is_compatible_with_no_open_difference(
    netflix_a: TraceSet, netflix_b: TraceSet
) -> None:
    result = assess_run(netflix_a, netflix_b, _settings())
    assert result.verdict == "compatible"
    assert all(s.noise_checked and s.rechecked for s in result.scenarios)
    assert [f for s in result.scenarios for f in s.findings if f.disposition == "open"] == []


def test_netflix_against_oss_gives_classified_differences(
    netflix_a: TraceSet, oss_32: TraceSet
) -> None:
    result = assess_run(netflix_a, oss_32, _settings())
    assert result.verdict == "incompatible"
    findings = {(s.name, f.difference.path): f for s in result.scenarios for f in s.findings}
    status = findings[
        ("worker-in-progress-callback-logs", '["capture GET /api/tasks/{taskId}/log #1"].status')
    ]
    assert (status.severity, status.rule, status.difference.kind) == (
        "breaking",
        "http-status",
        "status_code",
    )
    assert (status.difference.baseline, status.difference.candidate) == (200, 204)
    added = findings[("simple-sequential", "wf1.rateLimited")]
    assert (added.severity, added.difference.kind, added.gates) == ("additive", "added", False)
    severities = {f.severity for f in findings.values()}
    assert {"breaking", "behavioral", "additive"} <= severities
    for finding in findings.values():
        assert len(finding.fingerprint) == 16


def test_fingerprints_are_stable_across_machines_runs_and_versions(
    netflix_a: TraceSet, netflix_b: TraceSet, oss_32: TraceSet
) -> None:
    oss_21 = load_trace_set(RUNS / "oss-3.21.14")
    one = assess_run(netflix_a, oss_32, _settings())
    two = assess_run(netflix_b, oss_21, _settings())
    marks = {(s.name, f.difference.path): f.fingerprint for s in one.scenarios for f in s.findings}
    other = {(s.name, f.difference.path): f.fingerprint for s in two.scenarios for f in s.findings}
    shared = set(marks) & set(other)
    assert shared
    assert all(marks[k] == other[k] for k in shared)


def test_a_difference_not_reproduced_by_the_candidate_rerun_is_flaky(
    netflix_a: TraceSet, oss_32: TraceSet
) -> None:
    name = "inline"
    candidate = [oss_32.runs[name][0], netflix_a.runs[name][1]]  # second "re-run" disagrees
    context = Context(_settings(), netflix_a.target, oss_32.target)
    result = assess_scenario(name, netflix_a.runs[name], candidate, context)
    assert result.findings and {f.disposition for f in result.findings} == {"flaky"}
    assert result.verdict == "compatible"
    context = Context(_settings(recheck=False), netflix_a.target, oss_32.target)
    unchecked = assess_scenario(name, netflix_a.runs[name], candidate, context)
    assert "open" in {f.disposition for f in unchecked.findings}


def test_paths_that_differ_between_baseline_runs_are_noise(
    netflix_a: TraceSet, oss_32: TraceSet
) -> None:
    name = "fork-join"
    baseline = [netflix_a.runs[name][0], oss_32.runs[name][0]]  # a baseline that varies
    context = Context(_settings(), netflix_a.target, oss_32.target)
    result = assess_scenario(name, baseline, oss_32.runs[name], context)
    assert result.noise and all(n.disposition == "noise" for n in result.noise)
    assert result.findings and {f.disposition for f in result.findings} == {"noise"}
    assert not any(f.gates for f in result.findings)


def test_fail_on_threshold_and_user_severity_rules(
    netflix_a: TraceSet, oss_32: TraceSet, tmp_path: Path
) -> None:
    breaking_only = assess_run(netflix_a, oss_32, _settings(fail_on="breaking"))
    any_ = assess_run(netflix_a, oss_32, _settings(fail_on="any"))

    def gating(result: RunResult) -> int:
        return sum(f.gates for s in result.scenarios for f in s.findings)

    assert 0 < gating(breaking_only) < gating(any_)
    mine = tmp_path / "severity.yaml"
    mine.write_text(
        textwrap.dedent("""\
        severity_format: 1
        rules:
          - name: logs-endpoint
            path: '["capture GET /api/tasks/{taskId}/log #1"].**'
            severity: cosmetic
            why: we never read task logs back
        """)
    )
    result = assess_run(netflix_a, oss_32, _settings(severity=load_severity_rules([mine])))
    logs = [f for s in result.scenarios for f in s.findings if "/log" in f.difference.path]
    assert logs and {(f.severity, f.rule) for f in logs} == {("cosmetic", "logs-endpoint")}


def _allowlist(tmp_path: Path, expires: str, scope: str = "") -> Path:
    path = tmp_path / "known.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        allowlist_format: 1
        entries:
          - id: task-log-204
            path: '["capture GET /api/tasks/{{taskId}}/log #1"].status'
            scenarios: [worker-in-progress-*]
            {scope}
            reason: oss answers 204 when no log is indexed
            link: https://github.com/conductor-oss/conductor/pulls
            owner: compat-wg
            expires: "{expires}"
          - id: never-matches
            fingerprint: "0000000000000000"
            reason: kept to show staleness
            link: https://example.org/x
            owner: compat-wg
            expires: "2999-01-01"
        """)
    )
    return path


def test_an_allowlist_entry_turns_a_difference_into_a_known_one(
    netflix_a: TraceSet, oss_32: TraceSet, tmp_path: Path
) -> None:
    allowlist = load_allowlist(_allowlist(tmp_path, "2999-12-31", "candidate: {oss: '>=3.30'}"))
    result = assess_run(netflix_a, oss_32, _settings(allowlist=allowlist))
    known = [f for s in result.scenarios for f in s.findings if f.disposition == "known"]
    assert len(known) == 1 and known[0].known is not None
    assert known[0].known["id"] == "task-log-204" and not known[0].gates
    statuses = {s.entry["id"]: s for s in result.allowlist}
    assert statuses["task-log-204"].matched == 1
    assert statuses["never-matches"].stale and not result.policy_failures


def test_version_scope_keeps_an_entry_off_other_candidates(
    netflix_a: TraceSet, tmp_path: Path
) -> None:
    oss_21 = load_trace_set(RUNS / "oss-3.21.14")
    allowlist = load_allowlist(_allowlist(tmp_path, "2999-12-31", "candidate: {oss: '>=3.30'}"))
    result = assess_run(netflix_a, oss_21, _settings(allowlist=allowlist))
    statuses = {s.entry["id"]: s for s in result.allowlist}
    assert not statuses["task-log-204"].in_scope and not statuses["task-log-204"].stale


def test_an_expired_entry_fails_the_run(
    netflix_a: TraceSet, oss_32: TraceSet, tmp_path: Path
) -> None:
    allowlist = load_allowlist(_allowlist(tmp_path, "2020-01-01"))
    result = assess_run(
        netflix_a,
        oss_32,
        _settings(allowlist=allowlist, fail_on="breaking", today=datetime.date(2026, 11, 25)),
    )
    assert result.verdict == "incompatible"
    assert result.policy_failures and "task-log-204" in result.policy_failures[0]
    assert not [f for s in result.scenarios for f in s.findings if f.disposition == "known"]


def test_an_invalid_allowlist_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(
        "allowlist_format: 1\nentries:\n  - id: x\n    path: a\n    reason: r\n"
        "    link: nope\n    owner: o\n    expires: '2027-01-01'\n    scenario: [a]\n"
    )
    with pytest.raises(DocumentError) as caught:
        load_allowlist(path)
    text = "\n".join(caught.value.details)
    assert f"{path}:6:11:" in text and "link" in text
    assert "did you mean 'scenarios'" in text


def test_errors_and_not_applicable_outcomes_decide_the_verdict(
    netflix_a: TraceSet, oss_32: TraceSet
) -> None:
    import copy

    name = "inline"
    context = Context(_settings(), netflix_a.target, oss_32.target)
    errored = [(p, copy.deepcopy(t)) for p, t in oss_32.runs[name]]
    errored[0][1]["outcome"] = {"status": "error", "reason": "scenario deadline", "step": 1}
    result = assess_scenario(name, netflix_a.runs[name], errored, context)
    assert result.verdict == "inconclusive" and "errored on the candidate" in result.reason
    skipped = [(p, copy.deepcopy(t)) for p, t in oss_32.runs[name]]
    for _, t in skipped:
        t["outcome"] = {"status": "not_applicable", "reason": "needs oss >= 9"}
    result = assess_scenario(name, netflix_a.runs[name], skipped, context)
    assert result.verdict == "not_applicable" and "needs oss >= 9" in result.reason
    missing = assess_scenario(name, netflix_a.runs[name], [], context)
    assert missing.verdict == "inconclusive"
