"""junit.xml: a test case per change reached, and per scenario and level, for CI systems.

Built from report.json alone. A test suite per candidate; in it, first a test case per
catalogued change the candidate reached (classname ``….changes``, named by the change id):

- ``<failure>``: the change asks for action (breaking or behavioral, not accepted);
- ``<skipped>``: accepted (who, until when, why), or additive or cosmetic (nothing to do);
- passed otherwise (below fail-on), with its differences in ``<system-out>``.

Then, for each scenario and each level it compares, a test case whose outcome is:

- ``<failure>``: unexplained differences at that level that gate (the servers disagree);
- ``<error>``: the scenario is inconclusive (it errored, was interrupted, or the
  baseline is not deterministic): no decision could be made;
- ``<skipped>``: the scenario does not apply to a target, with the reason;
- passed otherwise; differences that do not gate (catalogued, accepted, below the
  threshold, intermittent, noise) are listed in the test case's ``<system-out>``, never
  dropped. Consequences are counted with the finding they follow from.

Notices (expired acceptances, catalog defects) are in the suite's ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from typing import Any

from harness.compare import LEVELS
from harness.report.text import (
    ordered_findings,
    rate_text,
    short,
    side,
    step_label,
    target_label,
)

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
        ("fail_on_known", str(comparison["verdict"]["fail_on_known"]).lower()),
        ("complete", str(report["complete"]).lower()),
        ("harness_version", report["harness_version"]),
    ):
        ET.SubElement(properties, "property", name=name, value=clean(value))
    counts: Counter[str] = Counter()
    classname_prefix = "conductor-compat." + re.sub(r"[^A-Za-z0-9_-]+", "_", candidate)
    cases = [_change_case(c, f"{classname_prefix}.changes") for c in comparison["changes"]]
    for scenario in comparison["scenarios"]:
        for level in scenario["levels"] or LEVELS:
            cases.append(_case(scenario, level, f"{classname_prefix}.{scenario['name']}"))
    for case in cases:
        suite.append(case)
        counts["tests"] += 1
        for kind, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            if case.find(kind) is not None:
                counts[key] += 1
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))
    run = report.get("run") or {}
    notes = [f"verdict: {comparison['verdict']['status']}: {comparison['verdict']['reason']}"]
    notes += [f"notice: {n}" for n in comparison["notices"]]
    if not report["complete"]:
        notes.append(f"INCOMPLETE: {len(run.get('pending') or [])} scenario runs did not finish")
    for death in run.get("server_deaths") or []:
        ended = "SERVER STOPPED ANSWERING" if death.get("silent_s") is not None else "SERVER DIED"
        notes += [f"{ended}: {death['summary']}; its log ({death['log']}) ends:"]
        notes += [f"  | {line}" for line in death["log_tail"]]
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
    here = [f for f in scenario["findings"] if f["level"] == level and not f["consequence_of"]]
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
    after = Counter(f["consequence_of"] for f in scenario["findings"] if f["consequence_of"])
    rest = [f for f in here if not f["gates"]]
    rest += [f for f in scenario.get("noise") or [] if f["level"] == level]
    if rest:
        explained: dict[str, list[Mapping[str, Any]]] = {}
        lines = []
        for f in rest:
            if f.get("change"):
                explained.setdefault(f["change"]["id"], []).append(f)
            else:
                lines.append(_line(f, after))
        for change, found in explained.items():  # the change's own test case says the rest
            lines.append(
                f"{found[0]['disposition']} {found[0]['severity']}: change {change}: "
                f"{len(found)} difference{'s' * (len(found) != 1)}, e.g. {_line(found[0], after)}"
            )
        ET.SubElement(case, "system-out").text = clean("\n".join(lines))
    return case


def _line(finding: Mapping[str, Any], after: Mapping[str, int]) -> str:
    change = finding.get("change")
    extra = [f"change {change['id']}"] if change else []
    if rate_text(finding):
        extra.append(rate_text(finding))
    if after.get(finding["fingerprint"]):
        extra.append(f"+{after[finding['fingerprint']]} consequences")
    return (
        f"{finding['disposition']} {finding['severity']} {finding['kind']} {finding['path']}: "
        f"{_value(finding, 'baseline')} -> {_value(finding, 'candidate')}"
        + (f" ({', '.join(extra)})" if extra else "")
    )


def _change_case(change: Mapping[str, Any], classname: str) -> ET.Element:
    case = ET.Element("testcase", classname=clean(classname), name=clean(change["id"]))
    n, k = change["findings"], change["consequences"]
    where = f"{n} difference{'s' * (n != 1)}" + (f" (+{k} consequences)" if k else "")
    where += f" in {len(change['scenarios'])} scenarios"
    detail = (
        f"{change['title']}\n{change['what']}\naction: {change['action']}\n"
        f"link: {change['link']}\nversions: {change['versions']}\n"
        f"scenarios: {', '.join(change['scenarios'])}"
    )
    accepted = change.get("accepted")
    if change["requires_action"]:
        message = f"{change['severity']}: {change['title']}: {where}; {change['action']}"
        failure = ET.SubElement(case, "failure", message=clean(message), type=change["severity"])
        failure.text = clean(detail)
    elif accepted:
        message = (
            f"accepted by {accepted.get('owner')} until {accepted.get('expires')}: "
            f"{accepted.get('reason')} ({where})"
        )
        ET.SubElement(case, "skipped", message=clean(message))
        ET.SubElement(case, "system-out").text = clean(detail)
    elif change["severity"] in ("additive", "cosmetic"):
        message = f"{change['severity']}: no action needed ({where})"
        ET.SubElement(case, "skipped", message=clean(message))
        ET.SubElement(case, "system-out").text = clean(detail)
    else:
        ET.SubElement(case, "system-out").text = clean(f"below fail-on ({where})\n{detail}")
    return case


def _value(finding: Mapping[str, Any], which: str) -> str:
    return "(absent)" if finding["missing"] == which else short(finding[which])


def _detail(finding: Mapping[str, Any]) -> str:
    return (
        f"{finding['severity']} {finding['kind']} {finding['path']} "
        f"[{finding['fingerprint']}, rule {finding['rule']}, {step_label(finding['step'])}"
        + (f", intermittent: {rate_text(finding)}" if rate_text(finding) else "")
        + "]\n"
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
