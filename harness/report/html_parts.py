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

from harness.report.text import (
    SET_APART,
    SEVERITY_ORDER,
    rate_text,
    step_label,
)

VALUE_LIMIT = 4000  # characters of one pretty-printed value; report.json keeps the rest
VERDICTS = ("incompatible", "action_required", "inconclusive", "not_applicable", "compatible")
SEVERITIES = SEVERITY_ORDER
APART = SET_APART
WHY = {
    "gating": "Unexplained and at or above fail_on: makes the scenario incompatible.",
    "catalogued": "Explained by a change of the catalog (see Changes).",
    "accepted": "Explained by a change (or fingerprint) that the team's acceptance file accepts.",
    "intermittent": "The candidate showed it in some of its runs, the baseline in none.",
    "noise": "The same path differs between two runs of the baseline itself.",
    "noisy": "Differences between two runs of the baseline: what the comparison discounts.",
    "ignored": "Excluded by the scenario's compare.ignore.",
    "consequence": "Follows from another finding of the same step, shown under it.",
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


def explained(finding: Mapping[str, Any]) -> str:
    """The change that explains a finding, and the acceptance that covers it."""
    parts = []
    change = finding.get("change")
    if change:
        name = f"<code>{esc(change.get('id', ''))}</code>"
        parts.append(f"<b>change</b> {name}: {esc(change.get('title', ''))}")
        if change.get("link"):
            parts.append(link(str(change["link"])))
        if finding.get("requires_action"):
            parts.append('<span class="flag">action required</span>')
    accepted = finding.get("accepted")
    if accepted:
        parts.append(
            f"<b>accepted</b> by {or_dash(accepted.get('owner'))} until "
            f"{or_dash(accepted.get('expires'))}: {esc(accepted.get('reason', ''))}"
        )
    if finding.get("ambiguous"):
        also = ", ".join(f"<code>{esc(a)}</code>" for a in finding["ambiguous"])
        parts.append(f'<span class="flag">also matched by {also} (a catalog defect)</span>')
    return f'<div class="known">{" · ".join(parts)}</div>' if parts else ""


def finding_html(
    finding: Mapping[str, Any],
    labels: tuple[str, str],
    after: Sequence[Mapping[str, Any]] = (),
    where: str = "",
) -> str:
    """One difference: what, where, which rule and step, then baseline | candidate, then
    the findings that follow from it (``after``). ``where`` is HTML put first (a scenario)."""
    severity = str(finding.get("severity", ""))
    gates = bool(finding.get("gates"))
    path = str(finding.get("path", ""))
    head = [where] if where else []
    head.append(f'<span class="sev sev-{esc(severity)}">{esc(severity)}</span>')
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
    if rate_text(finding):
        meta.append(("seen in", esc(rate_text(finding))))
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
    parts.append(explained(finding))
    missing = finding.get("missing")
    base = value_html(finding.get("baseline"), missing == "baseline")
    cand = value_html(finding.get("candidate"), missing == "candidate")
    parts.append(
        '<div class="diff">'
        f'<div class="side base"><div class="head">{esc(labels[0])}</div><pre>{base}</pre></div>'
        f'<div class="side cand"><div class="head">{esc(labels[1])}</div><pre>{cand}</pre></div>'
        "</div>"
    )
    if after:
        items = "".join(finding_html(f, labels) for f in after)
        parts.append(
            f'<details class="group apart follow"><summary>Consequences ({len(after)})</summary>'
            f'<p class="muted small">{esc(WHY["consequence"])}</p>{items}</details>'
        )
    parts.append("</div>")
    return "".join(parts)


def group(
    title: str,
    css: str,
    findings: Sequence[Mapping[str, Any]],
    labels: tuple[str, str],
    *,
    opened: bool = False,
    why: str = "",
    after: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> str:
    """A titled, counted sub-section of findings, each with its consequences."""
    if not findings:
        return ""
    after = after or {}
    items = "".join(
        finding_html(f, labels, after.get(f.get("fingerprint", ""), ()))
        for f in _by_severity(findings)
    )
    note = f'<p class="muted small">{esc(why)}</p>' if why else ""
    return (
        f'<details class="group {css}"{" open" if opened else ""}>'
        f"<summary>{esc(title)} ({len(findings)})</summary>{note}{items}</details>"
    )
