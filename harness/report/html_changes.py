"""report.html's change-centric sections: the changes reached (each with its differences
side by side), the distinct unexplained root causes, and the acceptances and notices."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from harness.report.html_parts import Report, badge, esc, finding_html, kv_table, link, or_dash
from harness.report.html_parts import table as plain_table
from harness.report.text import consequences, few, rate_text

EXAMPLES = 10  # differences shown side by side per change; the rest are linked
CAUSE_EXAMPLES = 3  # per gating unexplained cause (one for the others): the page stays small
STATE = {
    "action": '<span class="flag">action required</span>',
    "accepted": '<span class="ok">accepted</span>',
    "none": '<span class="muted">no action needed</span>',
}


def labels(report: Report, comparison: Mapping[str, Any]) -> tuple[str, str]:
    """Column headings of a side-by-side value."""
    return (
        f"baseline · {report['baseline'].get('target', '')}",
        f"candidate · {comparison['candidate'].get('target', '')}",
    )


def _sev(severity: object) -> str:
    return f'<span class="sev sev-{esc(severity)}">{esc(severity)}</span>'


def _scenario_links(ci: int, comparison: Mapping[str, Any], names: Sequence[str]) -> str:
    index = {s.get("name"): i for i, s in enumerate(comparison["scenarios"])}
    return ", ".join(
        f'<a href="#c{ci}-s{index[n]}"><code>{esc(n)}</code></a>'
        if n in index
        else f"<code>{esc(n)}</code>"
        for n in names
    )


def _findings_of(
    comparison: Mapping[str, Any], keep: Any
) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any], Sequence[Mapping[str, Any]]]]:
    """(scenario, root finding, its consequences) for each root finding ``keep`` accepts."""
    for scenario in comparison["scenarios"]:
        after = consequences(scenario)
        for f in scenario["findings"]:
            if not f.get("consequence_of") and keep(f):
                yield scenario, f, after.get(f["fingerprint"], [])


def _examples(
    found: Sequence[tuple[Mapping[str, Any], Mapping[str, Any], Sequence[Mapping[str, Any]]]],
    heads: tuple[str, str],
    limit: int = EXAMPLES,
) -> str:
    shown = "".join(
        finding_html(f, heads, after, where=f"<code>{esc(s.get('name', ''))}</code>")
        for s, f, after in found[:limit]
    )
    if len(found) > limit:
        shown += (
            f'<p class="muted small">{len(found) - limit} more: see each scenario\'s details '
            "below, or report.json.</p>"
        )
    return shown


def _change(report: Report, ci: int, comparison: Mapping[str, Any], c: Mapping[str, Any]) -> str:
    state = "action" if c["requires_action"] else "accepted" if c.get("accepted") else "none"
    accepted = c.get("accepted") or {}
    facts = [
        ("what", esc(c.get("what", ""))),
        ("what to do", esc(c.get("action", ""))),
        ("versions", f"<code>{esc(c.get('versions', ''))}</code>"),
        ("stores", esc(", ".join(c.get("backends") or [])) or "any"),
        ("affects", esc(", ".join(c.get("affects") or []))),
        ("direction", or_dash(c.get("direction"))),
        ("upstream", link(str(c.get("link", "")))),
        ("scenarios", _scenario_links(ci, comparison, c.get("scenarios") or [])),
    ]
    if accepted:
        facts.append(
            (
                "accepted",
                f"by {or_dash(accepted.get('owner'))} until {or_dash(accepted.get('expires'))}: "
                f"{esc(accepted.get('reason', ''))}",
            )
        )
    found = list(_findings_of(comparison, lambda f: (f.get("change") or {}).get("id") == c["id"]))
    n, k = c["findings"], c["consequences"]
    counts = f"{n} difference{'s' * (n != 1)}" + (f" (+{k} consequences)" if k else "")
    counts += f" in {len(c.get('scenarios') or [])} scenarios"
    opened = " open" if c["requires_action"] else ""
    return (
        f'<details class="change" id="c{ci}-change-{esc(c["id"])}"{opened}>'
        f"<summary>{_sev(c['severity'])}<b>{esc(c.get('title', ''))}</b>"
        f"<code>{esc(c['id'])}</code>{STATE[state]}"
        f'<span class="muted small">{esc(counts)}</span></summary>'
        f'<div class="body">{kv_table(facts)}{_examples(found, labels(report, comparison))}'
        "</div></details>"
    )


def changes_section(report: Report) -> str:
    """Per candidate: each change it reached, those asking for action first."""
    parts = ['<section id="changes"><h2>Changes</h2>']
    for ci, comparison in enumerate(report["comparisons"]):
        changes = comparison.get("changes") or []
        act = sum(1 for c in changes if c["requires_action"])
        parts.append(
            f"<h3><code>{esc(comparison['candidate'].get('target', ''))}</code> "
            f"{badge(comparison['verdict']['status'])} {len(changes)} changes reached, "
            f"{act} asking for action</h3>"
        )
        if not changes:
            parts.append('<p class="muted">No change of the catalog explained a difference.</p>')
        ordered = sorted(changes, key=lambda c: not c["requires_action"])
        parts += [_change(report, ci, comparison, c) for c in ordered]
    parts.append("</section>")
    return "".join(parts)


def _cause(report: Report, ci: int, comparison: Mapping[str, Any], u: Mapping[str, Any]) -> str:
    fingerprints = set(u.get("fingerprints") or [])
    found = list(_findings_of(comparison, lambda f: f.get("fingerprint") in fingerprints))
    n, k = u["findings"], u["consequences"]
    what = f"{u['level']} · {u['kind']} · {n} difference{'s' * (n != 1)}"
    what += (f" (+{k} consequences)" if k else "") + f" in {few(u['scenarios'])}"
    rate = rate_text({**u["example"], "disposition": "intermittent"})
    if "intermittent" in u.get("dispositions", []):
        what += f" · intermittent ({rate or 'some runs'})"
    gate = '<span class="gate">gating</span>' if u["gates"] else ""
    return (
        f'<details class="cause"{" open" if u["gates"] else ""}>'
        f'<summary>{_sev(u["severity"])}{gate}<span class="path">{esc(u["shape"])}</span>'
        f'<span class="muted small">{esc(what)}</span></summary><div class="body">'
        f"<p>In {_scenario_links(ci, comparison, u['scenarios'])}</p>"
        f"{_examples(found, labels(report, comparison), CAUSE_EXAMPLES if u['gates'] else 1)}"
        "</div></details>"
    )


def unexplained_section(report: Report) -> str:
    """Per candidate: every distinct unexplained root cause, gating first."""
    parts = [
        '<section id="unexplained"><h2>Unexplained differences</h2>'
        '<p class="muted">No catalogued change explains these: regressions, or changes nobody '
        "has catalogued yet.</p>"
    ]
    for ci, comparison in enumerate(report["comparisons"]):
        causes = comparison.get("unexplained") or []
        gating = sum(1 for u in causes if u["gates"])
        parts.append(
            f"<h3><code>{esc(comparison['candidate'].get('target', ''))}</code> "
            f"{len(causes)} root causes, {gating} gating</h3>"
        )
        if not causes:
            parts.append('<p class="ok">Every difference is explained.</p>')
        parts += [_cause(report, ci, comparison, u) for u in causes]
    parts.append("</section>")
    return "".join(parts)


def acceptances_section(report: Report) -> str:
    """Notices, the catalog files, and the acceptance file's entries (expired ones flagged)."""
    parts = []
    for c in report["comparisons"]:
        target = f"<code>{esc(c['candidate'].get('target', ''))}</code>"
        notices = c.get("notices") or []
        acceptances = c.get("acceptances") or {}
        entries = acceptances.get("entries") or []
        file = acceptances.get("file")
        expired = sum(1 for e in entries if e.get("expired"))
        where = f"acceptances <code>{esc(file)}</code>" if file else "no acceptance file"
        if file or entries:
            where += f" ({len(entries)} entries, {expired} expired)"
        catalogs = ", ".join(
            f"<code>{esc(f)}</code>" for f in c.get("catalog", {}).get("files", [])
        )
        parts.append(f"<p>{target}: {where}; catalog {catalogs or '—'}</p>")
        if notices:
            items = "".join(f"<li>{esc(n)}</li>" for n in notices)
            parts.append(f'<div class="alert"><ul>{items}</ul></div>')
        if entries:
            rows = [
                [
                    f"<code>{esc(e.get('change') or e.get('fingerprint') or '')}</code>",
                    or_dash(e.get("owner")),
                    esc(e.get("reason", "")),
                    or_dash(e.get("expires")),
                    esc(e.get("matched", 0)),
                    '<span class="flag">expired</span>' if e.get("expired") else "valid",
                ]
                for e in entries
            ]
            heads = ["accepts", "owner", "reason", "expires", "matched", "state"]
            parts.append(plain_table(heads, rows))
    return f'<section id="acceptances"><h2>Acceptances and notices</h2>{"".join(parts)}</section>'
