"""Pieces of report.html: escaping, findings side by side, a scenario's details.

Everything here turns report.json data into HTML text. Every string from the report
(which comes from servers and scenario files) goes through ``esc``; only http(s) links
become hrefs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from harness.report.text import SET_APART, SEVERITY_ORDER, step_label

VALUE_LIMIT = 4000  # characters of one pretty-printed value; report.json keeps the rest
VERDICTS = ("incompatible", "inconclusive", "not_applicable", "compatible")  # worst first
SEVERITIES = SEVERITY_ORDER
APART = SET_APART
WHY = {
    "gating": "Open and at or above fail_on.",
    "known": "Accepted by an allowlist entry: not gating while the entry is valid.",
    "noise": "The same path differs between two runs of the baseline itself.",
    "noisy": "Differences between two runs of the baseline: what the comparison discounts.",
    "flaky": "Not seen again when the candidate ran a second time.",
    "ignored": "Excluded by the scenario's compare.ignore.",
}
NOISE_TIP = "differences discounted as noise, plus paths that differ between two baseline runs"

Report = Mapping[str, Any]


def esc(value: object) -> str:
    """Report text made inert, safe in element content and quoted attributes alike."""
    return escape(str(value), quote=True)


def badge(verdict: str, *, big: bool = False) -> str:
    """A coloured verdict label."""
    size = " big" if big else ""
    return f'<span class="badge{size} v-{esc(verdict)}">{esc(verdict.replace("_", " "))}</span>'


def link(url: str, text: str | None = None) -> str:
    """An <a> for http(s) addresses only: a javascript: or data: link stays text."""
    label = esc(url if text is None else text)
    if url.lower().startswith(("https://", "http://")):
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{label}</a>'
    return label


def or_dash(value: object) -> str:
    """Escaped text, or a dash for a missing value."""
    return "—" if value is None or value == "" else esc(value)


def kv_table(rows: Iterable[tuple[str, str]]) -> str:
    """Label/value rows; values are HTML already."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain table; headings are ours, cells are HTML already."""
    heads = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(f"<tr>{''.join(f'<td>{c}</td>' for c in row)}</tr>" for row in rows)
    return f"<table><tr>{heads}</tr>{body}</table>"


def pretty(value: Any) -> str:
    """A value as the JSON it was, indented."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def value_html(value: Any, absent: bool) -> str:
    """One side of a finding: the JSON value, '(absent)', or its first VALUE_LIMIT characters."""
    if absent:
        return '<span class="absent">(absent)</span>'
    text = pretty(value)
    if len(text) <= VALUE_LIMIT:
        return esc(text)
    note = f"… truncated; full value in report.json ({len(text):,} characters)"
    return f'{esc(text[:VALUE_LIMIT])}\n<span class="trunc">{note}</span>'


def _by_severity(findings: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Most severe first, report order otherwise."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: rank.get(f.get("severity", ""), len(rank)))


def _known(known: Mapping[str, Any]) -> str:
    """The allowlist entry that accepted a finding."""
    parts = [
        f"<b>known</b> as <code>{esc(known.get('id', ''))}</code>",
        esc(known.get("reason", "")),
    ]
    if known.get("link"):
        parts.append(link(str(known["link"])))
    parts.append(f"owner {or_dash(known.get('owner'))}, expires {or_dash(known.get('expires'))}")
    return f'<div class="known">{" · ".join(parts)}</div>'


def finding_html(finding: Mapping[str, Any], labels: tuple[str, str]) -> str:
    """One difference: what, where, which rule and step, then baseline | candidate."""
    severity = str(finding.get("severity", ""))
    gates = bool(finding.get("gates"))
    path = str(finding.get("path", ""))
    head = [f'<span class="sev sev-{esc(severity)}">{esc(severity)}</span>']
    if gates:
        head.append('<span class="gate">gating</span>')
    head.append(f'<span class="path">{esc(path)}</span>')
    head.append(
        f'<span class="muted">{esc(finding.get("kind"))} · {esc(finding.get("level"))}</span>'
    )
    meta = [
        ("level", esc(finding.get("level"))),
        ("kind", esc(finding.get("kind"))),
        ("severity", esc(severity)),
        ("rule", esc(finding.get("rule"))),
        ("disposition", esc(finding.get("disposition"))),
        ("fingerprint", f"<code>{esc(finding.get('fingerprint'))}</code>"),
        ("step", esc(step_label(finding.get("step")))),
    ]
    steps = finding.get("steps") or []
    if len(steps) > 1:
        meta.append(("seen at steps", esc(", ".join(str(s) for s in steps))))
    if finding.get("note"):
        meta.append(("note", esc(finding["note"])))
    meta_html = "".join(f"<span>{k} <b>{v}</b></span>" for k, v in meta)
    parts = [
        f'<div class="finding{" gating" if gates else ""}">',
        f'<div class="fhead">{"".join(head)}</div>',
        f'<div class="fmeta">{meta_html}</div>',
    ]
    others = [p for p in finding.get("paths") or [] if p != path]
    if others:
        codes = "".join(f"<code>{esc(p)}</code>" for p in others)
        parts.append(f'<div class="paths"><span class="muted">also at:</span>{codes}</div>')
    if finding.get("known"):
        parts.append(_known(finding["known"]))
    missing = finding.get("missing")
    base = value_html(finding.get("baseline"), missing == "baseline")
    cand = value_html(finding.get("candidate"), missing == "candidate")
    parts.append(
        '<div class="diff">'
        f'<div class="side base"><div class="head">{esc(labels[0])}</div><pre>{base}</pre></div>'
        f'<div class="side cand"><div class="head">{esc(labels[1])}</div><pre>{cand}</pre></div>'
        "</div></div>"
    )
    return "".join(parts)


def _group(
    title: str,
    css: str,
    findings: Sequence[Mapping[str, Any]],
    labels: tuple[str, str],
    *,
    opened: bool = False,
    why: str = "",
) -> str:
    """A titled, counted sub-section of findings."""
    if not findings:
        return ""
    items = "".join(finding_html(f, labels) for f in _by_severity(findings))
    note = f'<p class="muted small">{esc(why)}</p>' if why else ""
    return (
        f'<details class="group {css}"{" open" if opened else ""}>'
        f"<summary>{esc(title)} ({len(findings)})</summary>{note}{items}</details>"
    )


def _runs(scenario: Mapping[str, Any], labels: tuple[str, str]) -> str:
    """The baseline's and candidate's runs of a scenario, with outcomes."""
    rows = []
    for role, key in ((labels[0], "baseline_runs"), (labels[1], "candidate_runs")):
        for run in scenario.get(key) or []:
            outcome = str(run.get("outcome", ""))
            flag = "" if outcome == "completed" else ' class="flag"'
            rows.append(
                f"<tr><td>{esc(role)}</td><td class='num'>{esc(run.get('repeat'))}</td>"
                f"<td{flag}>{esc(outcome)}</td><td>{or_dash(run.get('reason'))}</td>"
                f"<td><code>{esc(run.get('file', ''))}</code></td></tr>"
            )
    if not rows:
        return '<p class="muted">No runs recorded.</p>'
    head = "<tr><th>run of</th><th>repeat</th><th>outcome</th><th>reason</th><th>trace</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _scrubbed(scenario: Mapping[str, Any]) -> str:
    """How many values each scrub rule changed, and where (collapsed: it is long)."""
    scrubbed = scenario.get("scrubbed") or {}
    if not scrubbed:
        return ""
    rows = "".join(
        f"<tr><td>{esc(rule)}</td><td class='num'>{esc(n.get('baseline'))}</td>"
        f"<td class='num'>{esc(n.get('candidate'))}</td>"
        f"<td class='small mono'>{'<br>'.join(esc(p) for p in n.get('paths') or [])}</td></tr>"
        for rule, n in scrubbed.items()
    )
    head = "<tr><th>scrub rule</th><th>baseline</th><th>candidate</th><th>where</th></tr>"
    return (
        f'<details class="group"><summary>Scrubbed values ({len(scrubbed)} rules)</summary>'
        f"<table>{head}{rows}</table></details>"
    )


def counts_text(scenario: Mapping[str, Any]) -> str:
    """'2 gating · 20 open · 3 flaky' for a scenario (plain text)."""
    counts = scenario.get("counts") or {}
    by = counts.get("by_disposition") or {}
    parts = [f"{counts.get('gating', 0)} gating", f"{by.get('open', 0)} open"]
    parts += [f"{by[d]} {d}" for d in APART if by.get(d)]
    if scenario.get("noise"):
        parts.append(f"{len(scenario['noise'])} noisy baseline paths")
    return " · ".join(parts)


def scenario_html(scenario: Mapping[str, Any], anchor: str, labels: tuple[str, str]) -> str:
    """A scenario's details: what it is, its runs, and its findings grouped by disposition."""
    verdict = str(scenario.get("verdict", ""))
    findings = list(scenario.get("findings") or [])
    gating = [f for f in findings if f.get("gates")]
    rest = [f for f in findings if f.get("disposition") == "open" and not f.get("gates")]
    apart = {d: [f for f in findings if f.get("disposition") == d] for d in APART}
    omitted = scenario.get("omitted") or {}
    facts = kv_table(
        [
            ("file", f"<code>{esc(scenario.get('file', ''))}</code>"),
            ("verdict", f"{badge(verdict)} {esc(scenario.get('reason', ''))}"),
            ("levels compared", esc(", ".join(scenario.get("levels") or [])) or "—"),
            ("noise measured", "yes" if scenario.get("noise_checked") else "no (one baseline run)"),
            ("re-checked", "yes" if scenario.get("rechecked") else "no (one candidate run)"),
            ("not compared", esc("; ".join(f"{k}: {v}" for k, v in omitted.items())) or "—"),
        ]
    )
    base_runs = ("baseline run 1", "baseline run k")
    noisy = scenario.get("noise") or []
    groups = [
        _group("Gating", "gating", gating, labels, opened=True, why=WHY["gating"]),
        _group("Open, below fail_on", "open", rest, labels, opened=not gating),
        _group("Known (allowlist)", "apart", apart["known"], labels, why=WHY["known"]),
        _group("Noise", "apart", apart["noise"], labels, why=WHY["noise"]),
        _group("Noisy baseline paths", "apart", noisy, base_runs, why=WHY["noisy"]),
        _group("Flaky", "apart", apart["flaky"], labels, why=WHY["flaky"]),
        _group("Ignored", "apart", apart["ignored"], labels, why=WHY["ignored"]),
    ]
    findings_html = "".join(groups) or '<p class="ok">No differences.</p>'
    opened = " open" if verdict in ("incompatible", "inconclusive") else ""
    return (
        f'<details class="scenario" id="{esc(anchor)}" data-verdict="{esc(verdict)}"{opened}>'
        f'<summary>{badge(verdict)}<span class="name">{esc(scenario.get("name", ""))}</span>'
        f'<span class="muted small">{esc(counts_text(scenario))}</span></summary>'
        f'<div class="body"><p>{esc(scenario.get("description", ""))}</p>{facts}'
        f"<h4>Findings</h4>{findings_html}"
        f"<h4>Runs</h4>{_runs(scenario, labels)}{_scrubbed(scenario)}</div></details>"
    )


def scenario_table(report: Report) -> str:
    """Scenarios by candidates: filterable and sortable by the script, plain table without it."""
    comparisons = report["comparisons"]
    matrix = len(comparisons) > 1
    index = [{s.get("name"): i for i, s in enumerate(c["scenarios"])} for c in comparisons]
    names = list(dict.fromkeys(n for c in index for n in c))
    rank = {v: i for i, v in enumerate(VERDICTS)}
    heads = ['<th data-sort="text">Scenario</th>']
    heads += [
        f'<th data-sort="num">{esc(c["candidate"].get("target", "")) if matrix else "Verdict"}</th>'
        for c in comparisons
    ]
    if not matrix:
        heads += [f'<th data-sort="num" class="num">{h}</th>' for h in ("gating", "open", *APART)]
        heads[5] = heads[5].replace("<th ", f'<th title="{NOISE_TIP}" ', 1)
        heads.append('<th data-sort="text">Reason</th>')
    rows = []
    for name in names:
        verdicts, search, cells = [], [str(name)], []
        for ci, c in enumerate(comparisons):
            si = index[ci].get(name)
            if si is None:
                cells.append(f'<td data-key="{len(rank)}000000" class="muted">not run</td>')
                continue
            s = c["scenarios"][si]
            verdict = str(s.get("verdict", ""))
            verdicts.append(verdict)
            search += [verdict, str(s.get("reason", ""))]
            counts = s.get("counts") or {}
            by = counts.get("by_disposition") or {}
            key = rank.get(verdict, len(rank)) * 1_000_000 - int(counts.get("gating", 0)) * 1000
            key -= min(int(by.get("open", 0)), 999)
            detail = f'<span class="cell-counts">{esc(counts_text(s))}</span>' if matrix else ""
            cells.append(
                f'<td data-key="{key}"><a href="#c{ci}-s{si}">{badge(verdict)}</a>{detail}</td>'
            )
            if not matrix:
                numbers = [int(counts.get("gating", 0)), int(by.get("open", 0))]
                numbers += [int(by.get(d, 0)) for d in APART]
                numbers[3] += len(s.get("noise") or [])  # noisy baseline paths count as noise
                cells += [
                    f'<td class="num{" zero" * (n == 0)}" data-key="{n}">{n}</td>' for n in numbers
                ]
                cells.append(f'<td class="small">{esc(s.get("reason", ""))}</td>')
        name_html = f"<code>{esc(name)}</code>"
        if not matrix and index[0].get(name) is not None:
            name_html = f'<a href="#c0-s{index[0][name]}">{name_html}</a>'
        rows.append(
            f'<tr data-verdicts="{esc(" ".join(verdicts))}" '
            f'data-search="{esc(" ".join(search).lower())}">'
            f'<td data-key="{esc(name)}">{name_html}</td>{"".join(cells)}</tr>'
        )
    boxes = "".join(
        f'<label><input type="checkbox" name="verdict" value="{v}" checked> {badge(v)}</label>'
        for v in VERDICTS
    )
    # Hidden until the script runs (JS_ONLY): without it the controls would do nothing.
    controls = (
        '<div class="controls js-only" id="controls" hidden>'
        '<input type="search" id="q" placeholder="Filter by name, verdict or reason" '
        f'aria-label="filter scenarios">{boxes}<span id="shown" class="muted"></span></div>'
    )
    caption = (
        "Verdict per candidate (a version matrix); click a verdict for its details."
        if matrix
        else ""
    )
    return (
        f'<section id="scenarios"><h2>Scenarios</h2><p class="muted">{caption}</p>{controls}'
        f'<table class="scenarios" id="scenario-table"><thead><tr>{"".join(heads)}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )
