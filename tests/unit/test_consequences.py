"""Consequences, ``where`` clauses and effects, on the library recorded on real servers
(netflix:3.15.0 against oss:3.21.14 and oss:3.32.1)."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from harness.classify import load_catalog
from harness.classify.attribute import Ledger
from harness.classify.model import Finding
from harness.classify.predicates import Scene
from harness.documents import DocumentError
from tests.unit import library


def _scenario(candidate: str, name: str) -> list[Finding]:
    found = [s for s in library.upgrade(candidate).scenarios if s.name == name]
    assert found, name
    return found[0].findings


def _by_fingerprint(findings: list[Finding]) -> dict[str, Finding]:
    return {f.fingerprint: f for f in findings}


def test_where_tells_apart_two_causes_of_one_status_code() -> None:
    """POST /api/metadata/workflow answers 200 where 3.15.0 answered 400, for two reasons
    that only 3.15.0's error body names: a ':' in the name, a key with spaces."""
    causes = {}
    for name in ("api-metadata-workflow-validation", "expression-validation"):
        codes = [
            f
            for f in _scenario("oss-3.32.1", name)
            if f.difference.kind == "status_code" and f.difference.baseline == 400
        ]
        assert len(codes) == 1 and codes[0].change is not None, name
        causes[name] = codes[0].change["id"]
    assert causes == {
        "api-metadata-workflow-validation": "workflow-name-colon-accepted",
        "expression-validation": "expression-keys-with-spaces",
    }
    # 3.21.14 predates the second change: that registration is refused on both sides
    assert not [
        f
        for f in _scenario("oss-3.21.14", "expression-validation")
        if f.difference.level == "api" and f.difference.kind == "status_code"
    ]


def test_an_effect_is_explained_only_after_its_cause() -> None:
    """oss:3.32.1 accepts a task update with status CANCELED: the task ends CANCELED.
    That task status is the change's effect while the accepted update is in the scenario,
    and unexplained without it."""
    findings = _scenario("oss-3.32.1", "task-update-statuses")
    cause = next(
        i
        for i, f in enumerate(findings)
        if f.difference.kind == "status_code" and f.disposition == "catalogued"
    )
    effect = next(
        i
        for i, f in enumerate(findings)
        if f.difference.level == "tasks" and f.difference.candidate == "CANCELED"
    )
    assert findings[effect].consequence_of == findings[cause].fingerprint
    trace = library.traces("oss-3.32.1")
    ledger = Ledger.of(
        load_catalog(),
        None,
        datetime.date.today(),
        library.traces("netflix-3.15.0").target,
        trace.target,
    )
    scene = Scene(trace.runs["task-update-statuses"][0][1].get("definitions"))
    assert ledger.effect(findings, effect, scene) == cause
    without = [f for i, f in enumerate(findings) if i != cause]
    assert ledger.effect(without, effect - (effect > cause), scene) is None


def test_a_catalog_of_effects_alone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "catalog_format: 1\nchanges:\n"
        + textwrap.indent(
            textwrap.dedent("""\
                - id: mine
                  title: t
                  what: w
                  versions: '>=3.16'
                  severity: behavioral
                  affects: [workers]
                  action: a
                  link: https://github.com/conductor-oss/conductor/pull/1
                  match:
                  - {level: tasks, kind: changed, path: wf*.*.status, after: true}
                """),
            "  ",
        )
    )
    with pytest.raises(DocumentError) as error:
        load_catalog([path], shipped=False)
    text = "\n".join(error.value.details)
    assert f"{path}:12:" in text and "effect" in text


def test_a_failure_workflow_input_follows_the_workflow_that_failed() -> None:
    findings = _scenario("oss-3.32.1", "failure-workflow-terminated-timed-out")
    roots = _by_fingerprint(findings)
    copied = [f for f in findings if f.difference.path.startswith("wf3.input.failedWorkflow.out")]
    assert copied
    for finding in copied:
        assert finding.disposition == "consequence"
        root = roots[str(finding.consequence_of)]
        assert root.difference.path == "wf2.slow#0.status"
        assert finding.change and finding.change["id"] == "workflow-timeout-decided-sooner"


def test_tasks_of_another_switch_case_follow_the_case_chosen() -> None:
    """GraalJS gives 2 where Nashorn gave 2.0: the SWITCH picks another case, whose tasks
    and their worker calls are shown under that choice."""
    findings = _scenario("oss-3.32.1", "switch-nested-javascript")
    roots = _by_fingerprint(findings)
    other = [
        f
        for f in findings
        if (f.difference.level == "tasks" and f.difference.kind in ("added", "removed"))
        or (f.difference.path.startswith('["worker') and len(f.difference.shape_parts) == 1)
    ]
    assert len(other) == 6
    for finding in other:
        root = roots[str(finding.consequence_of)]
        assert root.difference.path.endswith("outputData.selectedCase")
        assert finding.change and finding.change["id"] == "graaljs-replaces-nashorn"


def test_a_workflow_outcome_follows_the_task_its_reason_names() -> None:
    findings = _scenario("oss-3.32.1", "inline-script-engines")
    roots = _by_fingerprint(findings)
    outcome = [f for f in findings if f.difference.path in ("wf2.status", "wf3.status")]
    assert len(outcome) == 2
    for finding in outcome:
        root = roots[str(finding.consequence_of)]
        assert root.difference.level == "tasks" and root.difference.path.endswith("#0.status")
