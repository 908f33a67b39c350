"""report.html: one self-contained page built from report.json alone.

>>> Path("report.html").write_text(render_html(report), encoding="utf-8")

The page fetches nothing (its CSS and JS are package assets inlined here, charts are
inline SVG) and holds no report data in a script: everything is HTML rendered here, with
every report string escaped; the script only filters, sorts and opens what is there.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import shlex
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from harness.report.html_changes import (
    acceptances_section,
    changes_section,
    labels,
    unexplained_section,
)
from harness.report.html_parts import (
    APART,
    SEVERITIES,
    VERDICTS,
    Report,
    badge,
    esc,
    kv_table,
    or_dash,
    table,
)
from harness.report.html_scenarios import scenario_html, scenario_table
from harness.report.text import open_counts


def content_policy() -> str:
    """No fetch of any kind; the one script runs because its hash is listed (a script
    that an escaping bug let into the page would not)."""
    digest = hashlib.sha256(_asset("report.js").encode("utf-8")).digest()
    script = f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src {script}; img-src data:"


COLOURS = {
    "incompatible": "#cf222e",
    "action_required": "#bc4c00",
    "inconclusive": "#d4a72c",
    "not_applicable": "#8c959f",
    "compatible": "#2da44e",
    "breaking": "#cf222e",
    "behavioral": "#bc4c00",
    "additive": "#218bff",
    "cosmetic": "#8c959f",
    "catalogued": "#0969da",
    "accepted": "#2da44e",
    "intermittent": "#8250df",
    "noise": "#8c959f",
    "ignored": "#57606a",
}
NO_RUN = '<p class="muted">Traces read from recorded directories (no run).</p>'
TARGET_KEYS = ("target", "flavor", "version", "runtime", "profile", "backend", "java", "isolation")


@functools.cache
def _asset(name: str) -> str:
    """A CSS or JS file shipped in harness/report/assets, to inline."""
    text = resources.files("harness.report").joinpath("assets", name).read_text(encoding="utf-8")
    # Ours, not the report's: still, a closing tag inside would end the element early.
    assert "</style" not in text and "</script" not in text, name
    return text


def _header(report: Report) -> str:
    """Overall verdict, who was compared, and whether the run finished."""
    verdict = report["verdict"]
    banner = ""
    if not report.get("complete", True):
        run = report.get("run") or {}
        detail = ""
        if report.get("run") is not None:
            pending = len(run.get("pending") or [])
            detail = f" — {pending} scenario run{'s' if pending != 1 else ''} pending"
            if run.get("interrupted"):
                detail += f" ({esc(run['interrupted'])})"
        deaths = "".join(
            f"<p>{esc(d['summary'])}; the last lines of its log "
            f"(<code>{esc(d.get('log') or '')}</code>):</p>"
            f"<pre>{esc(chr(10).join(d.get('log_tail') or []))}</pre>"
            for d in run.get("server_deaths") or []
        )
        banner = (
            f'<div class="banner" role="alert"><div class="inner">INCOMPLETE: interrupted run'
            f"{detail}. The report covers only what finished.{deaths}</div></div>"
        )
    candidates = " ".join(
        f"<code>{esc(c['candidate'].get('target', ''))}</code> {badge(c['verdict']['status'])}"
        for c in report["comparisons"]
    )
    complete = "yes" if report.get("complete", True) else '<span class="flag">no</span>'
    meta = [
        ("Baseline", f"<code>{esc(report['baseline'].get('target', ''))}</code>"),
        ("Candidates", candidates),
        ("Complete", complete),
        ("Fails on", esc(verdict.get("fail_on", ""))),
        ("Created", esc(report.get("created_at", ""))),
        ("Harness", f"conductor-compat {esc(report.get('harness_version', ''))}"),
    ]
    meta_html = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
    sections = (
        "summary",
        "changes",
        "unexplained",
        "acceptances",
        "scenarios",
        "details",
        "environment",
    )
    nav = "".join(f'<a href="#{s}">{s.capitalize()}</a>' for s in sections)
    return (
        f'<header>{banner}<div class="inner"><h1>Compatibility report</h1>'
        f'<div class="verdict">{badge(verdict["status"], big=True)}'
        f"<span>{esc(verdict.get('reason', ''))}</span></div>"
        f'<dl class="meta">{meta_html}</dl><nav>{nav}</nav></div></header>'
    )


def _bars(x: int, y: int, title: str, counts: Mapping[str, int], top: int) -> list[str]:
    """A labelled horizontal bar per count, scaled to top."""
    out = [f'<text class="title" x="{x}" y="{y}">{esc(title)}</text>']
    for i, (name, n) in enumerate(counts.items()):
        row = y + 10 + i * 22
        width = 0 if n == 0 else max(2, round(150 * n / max(top, 1)))
        out.append(f'<text class="label" x="{x}" y="{row + 13}">{esc(name)}</text>')
        out.append(
            f'<rect x="{x + 80}" y="{row}" width="{width}" height="16" rx="2" '
            f'fill="{COLOURS.get(name, "#8c959f")}"><title>{n} {esc(name)}</title></rect>'
        )
        out.append(f'<text x="{x + 86 + width}" y="{row + 13}">{n}</text>')
    return out


def _chart(comparison: Mapping[str, Any], top: tuple[int, int]) -> str:
    """Verdicts as one stacked bar; open differences by severity; the rest by disposition."""
    summary = comparison["summary"]
    by_verdict = summary.get("by_verdict") or {}
    total = sum(by_verdict.get(v, 0) for v in VERDICTS)
    out = ['<text class="title" x="0" y="14">Scenarios by verdict</text>']
    x = 0.0
    for v in VERDICTS:
        n = int(by_verdict.get(v, 0))
        if not n:
            continue
        width = 520 * n / total
        out.append(
            f'<rect x="{x:.1f}" y="22" width="{width:.1f}" height="22" '
            f'fill="{COLOURS[v]}"><title>{n} {v.replace("_", " ")}</title></rect>'
        )
        if width > 24:
            out.append(f'<text x="{x + 6:.1f}" y="38" style="fill:#fff;font-weight:700">{n}</text>')
        x += width
    legend = " · ".join(f"{by_verdict.get(v, 0)} {v.replace('_', ' ')}" for v in VERDICTS)
    out.append(f'<text class="label" x="0" y="62">{esc(legend)}</text>')
    severity = open_counts(comparison, "severity", SEVERITIES)
    by_disposition = summary.get("by_disposition") or {}
    apart = {d: int(by_disposition.get(d, 0)) for d in APART}
    out += _bars(0, 92, "Open differences by severity", severity, top[0])
    out += _bars(280, 92, "Set apart, by disposition", apart, top[1])
    noisy = f"{summary.get('noise', 0)} noisy baseline paths · {summary.get('gating', 0)} gating"
    out.append(f'<text class="label" x="0" y="224">{esc(noisy)}</text>')
    return (
        '<svg class="chart" width="560" height="234" viewBox="0 0 560 234" role="img" '
        f'aria-label="summary chart">{"".join(out)}</svg>'
    )


def _summary(report: Report) -> str:
    """A card per candidate: verdict, reason and the chart, on one scale for all cards."""
    comparisons = report["comparisons"]
    top_severity = max(max(open_counts(c, "severity", SEVERITIES).values()) for c in comparisons)
    top_apart = max(
        max(int((c["summary"].get("by_disposition") or {}).get(d, 0)) for d in APART)
        for c in comparisons
    )
    cards = "".join(
        f'<div class="card"><h3><code>{esc(c["candidate"].get("target", ""))}</code>'
        f"{badge(c['verdict']['status'])}</h3>"
        f'<p class="muted">{esc(c["verdict"].get("reason", ""))}</p>'
        f"{_chart(c, (top_severity, top_apart))}</div>"
        for c in comparisons
    )
    return f'<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div></section>'


def _details(report: Report) -> str:
    """Per candidate, per scenario: everything found."""
    parts = [
        '<section id="details"><h2>Details</h2><div class="controls js-only" hidden>'
        '<button type="button" data-expand="1">Expand all</button>'
        '<button type="button" data-expand="0">Collapse all</button></div>'
    ]
    for ci, c in enumerate(report["comparisons"]):
        heads = labels(report, c)
        parts.append(
            f"<h3>{esc(report['baseline'].get('target', ''))} → "
            f"{esc(c['candidate'].get('target', ''))} {badge(c['verdict']['status'])}</h3>"
        )
        parts += [scenario_html(s, f"c{ci}-s{si}", heads) for si, s in enumerate(c["scenarios"])]
    parts.append("</section>")
    return "".join(parts)


def _targets(report: Report) -> str:
    """Baseline and candidates: what exactly ran."""
    targets = [("baseline", report["baseline"])]
    targets += [("candidate", c["candidate"]) for c in report["comparisons"]]
    head = "".join(f"<th>{k}</th>" for k in ("role", *TARGET_KEYS, "artifact sha256", "directory"))
    rows = "".join(
        f"<tr><td>{role}</td>{''.join(f'<td>{or_dash(t.get(k))}</td>' for k in TARGET_KEYS)}"
        f"<td class='mono small'>{or_dash(t.get('artifact_sha256'))}</td>"
        f"<td class='mono small'>{or_dash(t.get('directory'))}</td></tr>"
        for role, t in targets
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _rules(title: str, rules: Sequence[Mapping[str, Any]]) -> str:
    """Scrub or severity rules with why each exists (collapsed)."""
    rows = [
        (
            f"<code>{esc(r.get('name', ''))}</code>",
            or_dash(r.get("severity") or r.get("kind")),
            esc(r.get("why", "")),
        )
        for r in rules
    ]
    return (
        f'<details class="group"><summary>{esc(title)} ({len(rules)})</summary>'
        f"{table(['rule', 'decides', 'why'], rows)}</details>"
    )


def _run(run: Mapping[str, Any]) -> str:
    """How the traces were made (compare and gate runs)."""
    rows = [
        ("kind", esc(run.get("kind", ""))),
        ("directory", f"<code>{esc(run.get('directory', ''))}</code>"),
        ("seconds", or_dash(run.get("seconds"))),
        ("interrupted", or_dash(run.get("interrupted"))),
        ("pending", esc(len(run.get("pending") or []))),
        ("unused baselines", esc(", ".join(run.get("unused_baselines") or [])) or "—"),
        ("no baseline", esc(", ".join(run.get("no_baseline") or [])) or "—"),
    ]
    if run.get("shard"):
        rows.append(("shard", f"{esc(run['shard'])} (this part of the scenarios only)"))
    if run.get("shards"):
        parts = [f"{esc(s['shard'])}: <code>{esc(s['directory'])}</code>" for s in run["shards"]]
        rows.append(("merged from", "<br>".join(parts)))
    keys = ["target", "role", "start_seconds", "runs", "repeats", "rechecks", "restarts"]
    keys += ["recorded", "isolation", "blocked"]
    targets = [
        [or_dash(len(t[k]) if k == "restarts" and k in t else t.get(k)) for k in keys]
        for t in run.get("targets") or []
    ]
    out = f"<h3>Run</h3>{kv_table(rows)}{table(keys, targets)}"
    pending = [
        [esc(p.get("target", "")), esc(p.get("scenario", "")), esc(p.get("repeat", ""))]
        for p in run.get("pending") or []
    ]
    if pending:
        out += f"<h4>Pending</h4>{table(['target', 'scenario', 'repeat'], pending)}"
    return out


def _environment(report: Report) -> str:
    """Targets, settings, harness and command: enough to reproduce the run."""
    settings = report.get("settings") or {}
    scrub = settings.get("scrub_spec") or {}
    severity = settings.get("severity_rules") or {}
    command = report.get("command")
    rows = [
        ("fail on", esc(settings.get("fail_on", ""))),
        ("re-check", "yes" if settings.get("recheck") else "no"),
        ("today", esc(settings.get("today", ""))),
        (
            "scrub spec",
            f"{esc(scrub.get('name', ''))} version {esc(scrub.get('version', ''))}, "
            f"digest <code>{esc(scrub.get('digest', ''))}</code>",
        ),
        ("scrub files", "<br>".join(f"<code>{esc(f)}</code>" for f in scrub.get("files") or [])),
        (
            "severity rules",
            "<br>".join(f"<code>{esc(f)}</code>" for f in severity.get("files") or []),
        ),
        ("harness", f"conductor-compat {esc(report.get('harness_version', ''))}"),
        ("command", f"<code>{esc(shlex.join(command))}</code>" if command else "—"),
    ]
    run = report.get("run")
    return (
        f'<section id="environment"><h2>Environment</h2><h3>Targets</h3>{_targets(report)}'
        f"<h3>Settings</h3>{kv_table(rows)}"
        f"{_rules('Scrub rules', scrub.get('rules') or [])}"
        f"{_rules('Severity rules', severity.get('rules') or [])}"
        f"{_run(run) if run else NO_RUN}"
        "</section>"
    )


def render_html(report: Mapping[str, Any]) -> str:
    """The whole page for a report.json document (format 3)."""
    verdict = report["verdict"]["status"]
    candidates = ", ".join(str(c["candidate"].get("target", "")) for c in report["comparisons"])
    title = f"{verdict} · {report['baseline'].get('target', '')} vs {candidates} · conductor-compat"
    body = (
        _header(report)
        + "<main>"
        + _summary(report)
        + changes_section(report)
        + unexplained_section(report)
        + acceptances_section(report)
        + scenario_table(report)
        + _details(report)
        + _environment(report)
        + "</main>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{content_policy()}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_asset('report.css')}</style></head>"
        f'<body class="v-page-{esc(verdict)}">{body}'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )
