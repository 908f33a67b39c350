"""junit.xml: one test case per scenario and level, for CI systems that read JUnit.

Built from report.json alone. A test suite per candidate; in it, for each scenario and
each level it compares, a test case whose outcome is:

- ``<failure>``: open differences at that level that gate (the servers disagree);
- ``<error>``: the scenario is inconclusive (it errored, was interrupted, or the
  baseline is not deterministic): no decision could be made;
- ``<skipped>``: the scenario does not apply to a target, with the reason;
- passed otherwise; differences that do not gate (below the threshold, known, noise,
  flaky) are listed in the test case's ``<system-out>``, never dropped.

Allowlist policy failures (expired entries) are a failing test case of their own.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from typing import Any

from harness.compare import LEVELS
from harness.report.text import ordered_findings, short, side, step_label, target_label

# Characters XML 1.0 cannot carry at all (even escaped); traces may hold them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value: Any) -> str:
    return _INVALID_XML.sub("\ufffd", str(value))


def render_junit(report: Mapping[str, Any]) -> str:
    root = ET.Element("testsuites", name="conductor-compat")
    totals: Counter[str] = Counter()
    for comparison in report["comparisons"]:
        suite, counts = _suite(report, comparison)
        root.append(suite)
        totals.update(counts)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite(
    report: Mapping[str, Any], comparison: Mapping[str, Any]
) -> tuple[ET.Element, Counter[str]]:
    baseline = target_label(report["baseline"])
    candidate = target_label(comparison["candidate"])
    suite = ET.Element(
        "testsuite", name=clean(f"{baseline} vs {candidate}"), timestamp=report["created_at"]
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("baseline", baseline),
        ("candidate", candidate),
        ("verdict", comparison["verdict"]["status"]),
        ("reason", comparison["verdict"]["reason"]),
        ("fail_on", comparison["verdict"]["fail_on"]),
        ("complete", str(report["complete"]).lower()),
        ("harness_version", report["harness_version"]),
    ):
        ET.SubElement(properties, "property", name=name, value=clean(value))
    counts: Counter[str] = Counter()
    classname_prefix = "conductor-compat." + re.sub(r"[^A-Za-z0-9_-]+", "_", candidate)
    for scenario in comparison["scenarios"]:
        for level in scenario["levels"] or LEVELS:
            case = _case(scenario, level, f"{classname_prefix}.{scenario['name']}")
            suite.append(case)
            counts["tests"] += 1
            for kind, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
                if case.find(kind) is not None:
                    counts[key] += 1
    for failure in comparison["policy_failures"]:
        case = ET.SubElement(
            suite, "testcase", classname=f"{classname_prefix}.allowlist", name="policy"
        )
        ET.SubElement(case, "failure", message=clean(failure), type="policy")
        counts["tests"] += 1
        counts["failures"] += 1
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))
    run = report.get("run") or {}
    notes = [f"verdict: {comparison['verdict']['status']}: {comparison['verdict']['reason']}"]
    if not report["complete"]:
        notes.append(f"INCOMPLETE: {len(run.get('pending') or [])} scenario runs did not finish")
    if run.get("unused_baselines"):
        notes.append("recorded baselines no scenario used: " + ", ".join(run["unused_baselines"]))
    if run.get("no_baseline"):
        notes.append("scenarios with no recorded baseline: " + ", ".join(run["no_baseline"]))
    ET.SubElement(suite, "system-out").text = clean("\n".join(notes))
    return suite, counts


def _case(scenario: Mapping[str, Any], level: str, classname: str) -> ET.Element:
    case = ET.Element("testcase", classname=clean(classname), name=level, file=scenario["file"])
    verdict = scenario["verdict"]
    if verdict == "not_applicable":
        ET.SubElement(case, "skipped", message=clean(scenario["reason"]))
        return case
    if verdict == "inconclusive":
        error = ET.SubElement(case, "error", message=clean(scenario["reason"]), type="inconclusive")
        error.text = clean(_runs(scenario))
        return case
    here = [f for f in scenario["findings"] if f["level"] == level]
    gating = [f for f in here if f["gates"]]
    if gating:
        severities = Counter(f["severity"] for f in gating)
        message = f"{len(gating)} difference{'s' * (len(gating) != 1)} at the {level} level (" + (
            ", ".join(f"{n} {s}" for s, n in severities.most_common()) + ")"
        )
        gating = ordered_findings(gating)
        worst = gating[0]["severity"]
        failure = ET.SubElement(case, "failure", message=message, type=worst)
        failure.text = clean("\n\n".join(_detail(f) for f in gating))
    rest = [f for f in here if not f["gates"]]
    rest += [f for f in scenario.get("noise") or [] if f["level"] == level]
    if rest:
        ET.SubElement(case, "system-out").text = clean(
            "\n".join(
                f"{f['disposition']} {f['severity']} {f['kind']} {f['path']}: "
                f"{_value(f, 'baseline')} -> {_value(f, 'candidate')}"
                for f in rest
            )
        )
    return case


def _value(finding: Mapping[str, Any], which: str) -> str:
    return "(absent)" if finding["missing"] == which else short(finding[which])


def _detail(finding: Mapping[str, Any]) -> str:
    return (
        f"{finding['severity']} {finding['kind']} {finding['path']} "
        f"[{finding['fingerprint']}, rule {finding['rule']}, {step_label(finding['step'])}]\n"
        f"--- baseline\n{side(finding, 'baseline', limit=2000)}\n"
        f"+++ candidate\n{side(finding, 'candidate', limit=2000)}"
    )


def _runs(scenario: Mapping[str, Any]) -> str:
    lines = []
    for role in ("baseline", "candidate"):
        for run in scenario[f"{role}_runs"]:
            lines.append(
                f"{role} run {run['repeat']}: {run['outcome']}"
                + (f": {run['reason']}" if run.get("reason") else "")
            )
    return "\n".join(lines) or "no runs"
