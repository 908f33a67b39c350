"""Severity, fingerprints, noise, intermittent differences and verdicts, on real runs.

fixtures/runs/ holds `run --repeats 2` of the scenario library on netflix:3.15.0 (twice:
-a and -b), oss:3.21.14 and oss:3.32.1.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.classify import RunResult, Settings, assess_run, load_severity_rules
from harness.classify.assess import Context, assess_scenario
from harness.normalize import load_spec
from harness.traces import TraceSet, load_trace_set
from tests.unit.traces import FIXTURES, RUNS

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
    result = assess_run(netflix_a, oss_32, _settings())  # no catalog: all unexplained
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


def test_a_difference_only_some_candidate_runs_show_is_intermittent_with_its_rate(
    netflix_a: TraceSet, oss_32: TraceSet
) -> None:
    name = "inline"
    candidate = [oss_32.runs[name][0], netflix_a.runs[name][1]]  # second run agrees with 3.15
    context = Context(_settings(), netflix_a.target, oss_32.target)
    result = assess_scenario(name, netflix_a.runs[name], candidate, context)
    assert result.findings and {f.disposition for f in result.findings} == {"intermittent"}
    assert {f.rate for f in result.findings} == {(1, 2)}
    assert not any(f.gates for f in result.findings)  # cleared by a run that completed
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


def test_errors_and_not_applicable_outcomes_decide_the_verdict(
    netflix_a: TraceSet, oss_32: TraceSet
) -> None:
    import copy

    name = "inline"
    context = Context(_settings(), netflix_a.target, oss_32.target)
    errored = [(p, copy.deepcopy(t)) for p, t in oss_32.runs[name]]
    errored[0][1]["outcome"] = {"status": "error", "reason": "setup failed: 500", "step": 1}
    result = assess_scenario(name, netflix_a.runs[name], errored, context)
    assert result.verdict == "inconclusive" and "errored on the candidate" in result.reason
    skipped = [(p, copy.deepcopy(t)) for p, t in oss_32.runs[name]]
    for _, t in skipped:
        t["outcome"] = {"status": "not_applicable", "reason": "needs oss >= 9"}
    result = assess_scenario(name, netflix_a.runs[name], skipped, context)
    assert result.verdict == "not_applicable" and "needs oss >= 9" in result.reason
    missing = assess_scenario(name, netflix_a.runs[name], [], context)
    assert missing.verdict == "inconclusive"


def test_views_by_file_are_shared_by_reads_of_one_content_and_made_again_for_another(
    tmp_path: Path,
) -> None:
    """A run's assessments read its traces again each time (the re-checks', the final
    one): with ``by_file`` an unchanged file's view is made once, a rewritten one again;
    by default each trace object has its own (a test may change a trace in memory)."""
    import json
    import os
    import shutil

    from harness.classify.assess import Views
    from harness.classify.model import ScenarioResult

    source = RUNS / "netflix-3.15.0-a"
    name = "inline"
    folder = tmp_path / "traces"
    folder.mkdir()
    for path in source.glob(f"{name}.*trace.json"):
        shutil.copy(path, folder / path.name)
    spec = load_spec()
    result = ScenarioResult(name, "", "", "inconclusive", "")
    views = Views(by_file=True)
    first = load_trace_set(folder).runs[name][0]
    again = load_trace_set(folder).runs[name][0]
    assert first[1] is not again[1]
    made = views.view(first, spec, True, result, "baseline")
    assert views.view(again, spec, True, result, "baseline") is made
    assert len(views.made) == 1
    changed = json.loads(first[0].read_text())
    changed["steps"][-1]["snapshots"][0]["status"] = "FAILED"
    first[0].write_text(json.dumps(changed))
    os.utime(first[0], ns=(1, 1))  # another content, whatever the clock's resolution
    reread = load_trace_set(folder).runs[name][0]
    remade = views.view(reread, spec, True, result, "baseline")
    assert remade is not made and len(views.made) == 2
    assert remade.levels["status"] != made.levels["status"]
    alone = Views()
    assert alone.view(first, spec, True, result, "baseline") is not alone.view(
        again, spec, True, result, "baseline"
    )


READ_TIMEOUTS = FIXTURES / "netflix-line" / "read-timeouts" / "netflix-3.12.0"


def test_a_call_the_server_took_and_never_answered_is_a_hang_that_gates() -> None:
    """netflix 3.12.0 took a call (start a workflow, update a task, decide) and did not
    answer it within the client's 30 s: its LocalOnlyLock was not reentrant (made so by
    Netflix/conductor#3513, first in 3.13.5), so a call that needed the workflow's lock
    twice waited for the lock's lease. That is the candidate hanging, a finding that
    gates; a connection refused or dropped (the server gone) stays an error."""
    import copy

    from harness.classify.scenario_verdict import hung

    baseline = load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0")
    candidate = load_trace_set(READ_TIMEOUTS)
    assert sorted(candidate.runs) == ["dynamic", "human", "workflow-timeout"]
    for name, runs in candidate.runs.items():
        context = Context(_settings(), baseline.target, candidate.target)
        result = assess_scenario(name, baseline.runs[name], runs, context)
        (run,) = result.candidate
        assert hung(run) and "failed: ReadTimeout" in str(run.reason)
        assert result.verdict == "incompatible", result.reason
        (ended,) = [
            f
            for f in result.findings
            if f.difference.shape_parts == ("scenario",) and f.difference.missing == "baseline"
        ]
        assert ended.difference.candidate == {"outcome": "error"}
        assert ended.gates and ended.severity == "breaking"
        gone = [(p, copy.deepcopy(t)) for p, t in runs]
        reason = str(gone[0][1]["outcome"]["reason"]).replace("ReadTimeout", "ConnectError")
        gone[0][1]["outcome"]["reason"] = reason
        result = assess_scenario(name, baseline.runs[name], gone, context)
        assert result.verdict == "inconclusive" and "errored on the candidate" in result.reason
