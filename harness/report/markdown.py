"""report.md: a summary fit for a pull-request comment and a working-group regression report.

Built from report.json alone. Order: verdict, counts by severity and level, the
scenario table (a column per candidate), each incompatible scenario with its gating
differences as diffs, the other open differences, then known, noise and flaky items,
then the environment. GitHub refuses comments over 65,536 characters, so detail past
``BUDGET`` is cut with a pointer to report.html, which has everything.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from harness.compare import LEVELS
from harness.report.text import (
    SEVERITY_ORDER,
    apart,
    open_counts,
    open_findings,
    scenario_names,
    short,
    side,
    step_label,
    target_label,
)

BUDGET = 60_000  # characters of detail; the summary and environment always fit
MARK = {
    "compatible": "✅ compatible",
    "incompatible": "❌ incompatible",
    "inconclusive": "⚠️ inconclusive",
    "not_applicable": "⚪ not applicable",
}


def text(value: Any) -> str:
    """Free text made inert: no HTML, no table breaks, one line."""
    return html.escape(" ".join(str(value).split()), quote=False).replace("|", "\\|")


def code(value: Any) -> str:
    """An inline code span that survives backticks in the value."""
    raw = " ".join(str(value).split())
    if "`" not in raw:
        return f"`{raw}`"
    longest = max(len(run) for run in re.findall(r"`+", raw))
    fence = "`" * (longest + 1)
    return f"{fence} {raw} {fence}"


def render_markdown(report: Mapping[str, Any]) -> str:
    out: list[str] = []
    comparisons = report["comparisons"]
    candidates = ", ".join(target_label(c["candidate"]) for c in comparisons)
    verdict = report["verdict"]
    out.append(f"# conductor-compat: {target_label(report['baseline'])} → {candidates}\n")
    if not report["complete"]:
        pending = len((report.get("run") or {}).get("pending") or [])
        out.append(
            "> **INCOMPLETE**: the run was interrupted"
            + (f"; {pending} scenario runs had not finished" if pending else "")
            + ". This report covers what finished; `conductor-compat compare --resume` "
            "completes it.\n"
        )
    out.append(
        f"**Verdict: {MARK.get(verdict['status'], verdict['status'])}**: {text(verdict['reason'])} "
        f"(fails on `{verdict['fail_on']}` or worse)\n"
    )
    out += _summary(comparisons)
    out += _matrix(report)
    detail: list[str] = []
    for comparison in comparisons:
        detail += _incompatible(report, comparison)
    for comparison in comparisons:
        detail += _rest(report, comparison)
    out += _within_budget(detail)
    out += _environment(report)
    return "\n".join(out).rstrip() + "\n"


def _summary(comparisons: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Summary\n",
        "| candidate | verdict | scenarios | ✅ | ❌ | ⚠️ | ⚪ | "
        + " | ".join(SEVERITY_ORDER)
        + " | known | noise | flaky |",
        "|---|---|---:|---:|---:|---:|---:|" + "---:|" * (len(SEVERITY_ORDER) + 3),
    ]
    for c in comparisons:
        s, by = c["summary"], c["summary"]["by_verdict"]
        severity = open_counts(c, "severity", SEVERITY_ORDER)
        dispositions = s["by_disposition"]
        cells = [
            target_label(c["candidate"]),
            MARK.get(c["verdict"]["status"], c["verdict"]["status"]),
            str(s["scenarios"]),
            *(str(by.get(v, 0)) for v in MARK),
            *(str(severity[sv]) for sv in SEVERITY_ORDER),
            str(dispositions.get("known", 0)),
            str(s["noise"] + dispositions.get("noise", 0)),
            str(dispositions.get("flaky", 0)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("\nOpen differences (severity columns above) by level:\n")
    lines.append("| candidate | " + " | ".join(LEVELS) + " |")
    lines.append("|---|" + "---:|" * len(LEVELS))
    for c in comparisons:
        by_level = open_counts(c, "level", LEVELS)
        lines.append(
            f"| {target_label(c['candidate'])} | "
            + " | ".join(str(by_level[lv]) for lv in LEVELS)
            + " |"
        )
    for c in comparisons:
        for failure in c["policy_failures"]:
            lines.append(f"\n**Policy ({target_label(c['candidate'])})**: {text(failure)}")
    return [*lines, ""]


def _cell(scenario: Mapping[str, Any] | None) -> str:
    if scenario is None:
        return "-"
    gating = scenario["counts"]["gating"]
    opened = scenario["counts"]["by_disposition"].get("open", 0)
    extra = f" ({gating} gating)" if gating else (f" ({opened} open)" if opened else "")
    return str(MARK.get(scenario["verdict"], scenario["verdict"])) + extra


def _matrix(report: Mapping[str, Any]) -> list[str]:
    comparisons = report["comparisons"]
    by = [{s["name"]: s for s in c["scenarios"]} for c in comparisons]
    lines = [
        "## Scenarios\n",
        "| scenario | " + " | ".join(target_label(c["candidate"]) for c in comparisons) + " |",
        "|---|" + "---|" * len(comparisons),
    ]
    for name in scenario_names(report):
        lines.append(f"| {text(name)} | " + " | ".join(_cell(b.get(name)) for b in by) + " |")
    return [*lines, ""]


def _diff_block(finding: Mapping[str, Any]) -> list[str]:
    body = []
    for sign, which in (("-", "baseline"), ("+", "candidate")):
        for line in side(finding, which, limit=1200).splitlines():
            body.append(f"{sign} {line}")
    fence = "````" if any("```" in line for line in body) else "```"
    return [f"{fence}diff", *body, fence]


def _finding_head(finding: Mapping[str, Any]) -> str:
    others = len(finding["paths"]) - 1
    where = code(finding["path"]) + (f" (and {others} more paths)" if others > 0 else "")
    return (
        f"- **{finding['severity']}** · {finding['level']} · {finding['kind']} · {where} · "
        f"{text(step_label(finding['step']))} · rule `{finding['rule']}` · "
        f"`{finding['fingerprint']}`"
    )


def _incompatible(report: Mapping[str, Any], comparison: Mapping[str, Any]) -> list[str]:
    bad = [s for s in comparison["scenarios"] if s["verdict"] in ("incompatible", "inconclusive")]
    if not bad:
        return []
    label = target_label(comparison["candidate"])
    lines = [f"## Incompatible and inconclusive scenarios: {label}\n"]
    for scenario in bad:
        lines.append(f"### {text(scenario['name'])}: {MARK[scenario['verdict']]}\n")
        lines.append(f"`{scenario['file']}`: {text(scenario['reason'])}\n")
        if scenario["description"]:
            lines.append(f"_{text(scenario['description'])}_\n")
        for finding in [f for f in scenario["findings"] if f["gates"]]:
            lines.append(_finding_head(finding))
            lines += ["", *_diff_block(finding), ""]
    return lines


def _one_line(finding: Mapping[str, Any]) -> str:
    baseline = "(absent)" if finding["missing"] == "baseline" else short(finding["baseline"])
    candidate = "(absent)" if finding["missing"] == "candidate" else short(finding["candidate"])
    note = f" ({text(finding['note'])})" if finding.get("note") else ""
    known = finding.get("known")
    why = f" [known: {text(known['id'])}: {text(known['reason'])}]" if known else ""
    return (
        f"- {finding['severity']} · {finding['level']} · {finding['kind']} · "
        f"{code(finding['path'])}: {code(baseline)} → {code(candidate)}{note}{why}"
    )


def _rest(report: Mapping[str, Any], comparison: Mapping[str, Any]) -> list[str]:
    """Open differences that do not gate, then everything set apart, per scenario."""
    label = target_label(comparison["candidate"])
    lines: list[str] = []
    for scenario in comparison["scenarios"]:
        rest = [f for f in open_findings(scenario) if not f["gates"]]
        groups = [("open, below the threshold", rest), *apart(scenario)]
        groups = [(g, fs) for g, fs in groups if fs]
        if not groups:
            continue
        lines.append(
            f"<details><summary>{text(scenario['name'])}: "
            + ", ".join(f"{len(fs)} {g}" for g, fs in groups)
            + "</summary>\n"
        )
        for group, found in groups:
            lines.append(f"**{group}**\n")
            lines += [_one_line(f) for f in found]
            lines.append("")
        lines.append("</details>\n")
    if not lines:
        return []
    return [f"## Other differences: {label}\n", *lines]


def _within_budget(lines: list[str]) -> list[str]:
    kept: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        used += len(line) + 1
        if used > BUDGET:
            rest = len(lines) - i
            kept.append(
                f"\n_… {rest} more lines of differences are in report.html and report.json "
                "(this file stays short enough for a pull-request comment)._\n"
            )
            break
        kept.append(line)
    return kept


def _environment(report: Mapping[str, Any]) -> list[str]:
    fields = ("target", "flavor", "version", "runtime", "profile", "backend", "java")
    lines = [
        "## Environment\n",
        "| role | " + " | ".join(fields) + " | artifact sha256 |",
        "|---|" + "---|" * (len(fields) + 1),
    ]
    roles = [("baseline", report["baseline"])] + [
        ("candidate", c["candidate"]) for c in report["comparisons"]
    ]
    for role, target in roles:
        digest = target.get("artifact_sha256")
        lines.append(
            f"| {role} | "
            + " | ".join(text(target.get(f) or "-") for f in fields)
            + f" | {f'`{digest[:16]}…`' if digest else '-'} |"
        )
    settings = report["settings"]
    spec = settings["scrub_spec"]
    lines += [
        "",
        f"- harness: conductor-compat {report['harness_version']}, report format "
        f"{report['report_format']}, created {report['created_at']}",
        f"- scrub spec: {text(spec['name'])} v{spec['version']} (digest `{spec['digest']}`, "
        f"{len(spec['rules'])} rules); severity rules: "
        f"{len(settings['severity_rules']['rules'])}; re-check of differences: "
        f"{'on' if settings['recheck'] else 'off'}",
    ]
    run = report.get("run")
    if run:
        lines.append(
            f"- run: `{run['kind']}`"
            + (f" in {run['seconds']:.0f} s" if run.get("seconds") is not None else "")
            + "; "
            + ", ".join(
                f"{t['target']} ({t['role']}"
                + (", recorded" if t.get("recorded") else f", {t.get('runs', 0)} runs")
                + ")"
                for t in run["targets"]
            )
        )
        if run["unused_baselines"]:
            lines.append(
                "- recorded baselines no scenario used: "
                + ", ".join(text(n) for n in run["unused_baselines"])
            )
        if run["no_baseline"]:
            lines.append(
                "- scenarios with no recorded baseline (not compared): "
                + ", ".join(text(n) for n in run["no_baseline"])
            )
    if report.get("command"):
        lines.append(f"- command: {code('conductor-compat ' + ' '.join(report['command']))}")
    return lines
