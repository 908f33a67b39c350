"""report.html's scenarios: the table (filterable, sortable) and each scenario's details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.report.html_parts import (
    APART,
    NOISE_TIP,
    VERDICTS,
    WHY,
    Report,
    badge,
    esc,
    group,
    kv_table,
    or_dash,
    table,
)
from harness.report.text import consequences, one_side, roots

SHORT = 300  # characters of each value of an explained finding; report.json has them whole


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


def _compact(
    title: str,
    findings: Sequence[Mapping[str, Any]],
    after: Mapping[str, Sequence[Mapping[str, Any]]],
    why: str,
    prefix: str,
) -> str:
    """Explained findings as table rows: change, where, both values (shortened)."""
    if not findings:
        return ""
    rows = []
    for f in findings:
        change = (f.get("change") or {}).get("id") or "fingerprint"
        follow = [c.get("fingerprint", "") for c in after.get(f.get("fingerprint", ""), ())]
        where = f"<code>{esc(f.get('path', ''))}</code>"
        if follow:
            where += (
                f' <span class="muted small" title="{esc(" ".join(follow))}">'
                f"(+{len(follow)} consequences: {esc(', '.join(follow))})</span>"
            )
        rows.append(
            [
                f'<a href="#{esc(prefix)}-change-{esc(change)}"><code>{esc(change)}</code></a>',
                f'<span class="sev sev-{esc(f.get("severity"))}">{esc(f.get("severity"))}</span>',
                esc(f.get("kind", "")),
                where,
                f"<code>{esc(one_side(f, 'baseline', limit=SHORT))}</code>",
                f"<code>{esc(one_side(f, 'candidate', limit=SHORT))}</code>",
                f'<code class="small">{esc(f.get("fingerprint", ""))}</code>',
            ]
        )
    body = table(
        ["change", "severity", "kind", "path", "baseline", "candidate", "fingerprint"], rows
    )
    return (
        f'<details class="group apart"><summary>{esc(title)} ({len(findings)})</summary>'
        f'<p class="muted small">{esc(why)}</p>{body}</details>'
    )


def scenario_html(scenario: Mapping[str, Any], anchor: str, labels: tuple[str, str]) -> str:
    """A scenario's details: what it is, its runs, and its findings grouped by disposition."""
    verdict = str(scenario.get("verdict", ""))
    findings = roots(scenario)
    after = consequences(scenario)
    known = {f.get("fingerprint") for f in findings}
    orphans = [f for fp, fs in after.items() if fp not in known for f in fs]
    gating = [f for f in findings if f.get("gates")]
    rest = [f for f in findings if f.get("disposition") == "open" and not f.get("gates")]
    apart = {
        d: [f for f in findings if f.get("disposition") == d and not f.get("gates")] for d in APART
    }
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
        group("Gating", "gating", gating, labels, opened=True, why=WHY["gating"], after=after),
        group("Open, below fail_on", "open", rest, labels, opened=not gating, after=after),
    ]
    titles = {
        "catalogued": "Catalogued",
        "accepted": "Accepted",
        "intermittent": "Intermittent",
        "noise": "Noise",
        "ignored": "Ignored",
    }
    for d in APART:
        if d in ("catalogued", "accepted"):  # the change's section shows them side by side
            groups.append(_compact(titles[d], apart[d], after, WHY[d], anchor.partition("-")[0]))
            continue
        groups.append(group(titles[d], "apart", apart[d], labels, why=WHY[d], after=after))
        if d == "noise":
            groups.append(
                group("Noisy baseline paths", "apart", noisy, base_runs, why=WHY["noisy"])
            )
    groups.append(group("Consequences", "apart", orphans, labels, why=WHY["consequence"]))
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
        noise = 4 + APART.index("noise")  # the name column, the verdict, gating, open, ...
        heads[noise] = heads[noise].replace("<th ", f'<th title="{NOISE_TIP}" ', 1)
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
                numbers[2 + APART.index("noise")] += len(s.get("noise") or [])  # noisy paths too
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
