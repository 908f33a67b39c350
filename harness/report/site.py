"""The release matrix: a static site over the published reports.

    index.html    every published report (compare, diff, upgrade, clients), newest first,
                  with its verdict per candidate and links to its files
    matrix.html   for the newest comparison of each version against one baseline:
                  the catalog's changes x versions (where each change showed) and the
                  scenarios x versions (each scenario's verdict), then the trends: every
                  recorded comparison's verdict and counts, by date

Built from each folder's report.json (or report.json.xz) alone; self-contained (inline
CSS, no script, no external resource). Every string from a report goes through ``esc``.
"""

from __future__ import annotations

import json
import lzma
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.report.html_parts import badge, esc

POLICY = "default-src 'none'; style-src 'unsafe-inline'"
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328}
table{border-collapse:collapse;margin:8px 0 24px}
th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.c{text-align:center} .muted{color:#57606a}
.badge{border-radius:4px;padding:0 5px;color:#fff;font-size:12px;white-space:nowrap}
.v-compatible{background:#2da44e}.v-action_required{background:#bc4c00}
.v-incompatible{background:#cf222e}.v-inconclusive{background:#d4a72c}
.v-not_applicable{background:#8c959f}
"""
MARK = {
    "compatible": "✓",
    "action_required": "!",
    "incompatible": "✗",
    "inconclusive": "?",
    "not_applicable": "n/a",
}
REPORT_FILES = ("report.html", "report.md", "clients.md", "junit.xml")


@dataclass(frozen=True, slots=True)
class Published:
    folder: str  # the folder's name under the published directory
    created: str  # the report's created_at
    kind: str  # compare, gate, diff, upgrade, clients
    baseline: str
    comparisons: tuple[Mapping[str, Any], ...]
    files: tuple[str, ...]  # the report files present, to link

    @property
    def date(self) -> str:
        return self.created[:10]


def collect(directory: Path) -> list[Published]:
    """Every report folder directly under ``directory``, newest first."""
    out = []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        report = _load(folder)
        if report is None:
            continue
        run = report.get("run") or {}
        command = report.get("command") or ["compare"]
        out.append(
            Published(
                folder=folder.name,
                created=str(report.get("created_at") or ""),
                kind=str(run.get("kind") or command[0]),  # upgrade and clients: no run
                baseline=str((report.get("baseline") or {}).get("target") or ""),
                comparisons=tuple(report.get("comparisons") or ()),
                files=tuple(f for f in REPORT_FILES if (folder / f).is_file()),
            )
        )
    return sorted(out, key=lambda p: (p.created, p.folder), reverse=True)


def _load(folder: Path) -> dict[str, Any] | None:
    plain, packed = folder / "report.json", folder / "report.json.xz"
    if plain.is_file():
        data: dict[str, Any] = json.loads(plain.read_text(encoding="utf-8"))
        return data
    if packed.is_file():
        with lzma.open(packed, "rt", encoding="utf-8") as stream:
            data = json.load(stream)
        return data
    return None


def target_of(comparison: Mapping[str, Any]) -> str:
    return str((comparison.get("candidate") or {}).get("target") or "")


def column_of(comparison: Mapping[str, Any]) -> str:
    """The candidate's version, and the server settings it ran with when a team gave some
    (``--server-property``): a version run with other settings is another column."""
    label = str((comparison.get("candidate") or {}).get("profile") or "")
    _, plus, settings = label.partition(" + ")
    return f"{target_of(comparison)} + {settings}" if plus else target_of(comparison)


def release_order(column: str) -> tuple[tuple[int, ...], str, str]:
    """Release order across both lines (conductor-oss continues Netflix's numbers); a
    version's column with settings after the one without."""
    target, _, settings = column.partition(" + ")
    flavor, _, version = target.partition(":")
    numbers = tuple(int(p) if p.isdigit() else 0 for p in version.split("."))
    return numbers, flavor, settings


def _head(column: str) -> str:
    target, plus, settings = column.partition(" + ")
    if not plus:
        return f"<th>{esc(target)}</th>"
    return f'<th>{esc(target)}<br><span class="muted">{esc(settings)}</span></th>'


def latest_by_version(
    published: Sequence[Published], baseline: str
) -> dict[str, tuple[Published, Mapping[str, Any]]]:
    """The newest whole-library comparison (compare, gate or diff) of each version (and
    settings: ``column_of``) against ``baseline``, in release order."""
    chosen: dict[str, tuple[Published, Mapping[str, Any]]] = {}
    for entry in published:  # newest first: the first seen wins
        if entry.kind not in ("compare", "gate", "diff") or entry.baseline != baseline:
            continue
        for comparison in entry.comparisons:
            chosen.setdefault(column_of(comparison), (entry, comparison))
    return dict(sorted(chosen.items(), key=lambda kv: release_order(kv[0])))


def render_index(published: Sequence[Published]) -> str:
    rows = []
    for entry in published:
        verdicts = "<br>".join(
            f"{esc(column_of(c))}: {badge(str((c.get('verdict') or {}).get('status')))}"
            for c in entry.comparisons
        )
        links = " · ".join(
            f'<a href="{esc(entry.folder)}/{esc(f)}">{esc(f)}</a>' for f in entry.files
        )
        rows.append(
            f"<tr><td>{esc(entry.date)}</td><td>{esc(entry.kind)}</td>"
            f"<td>{esc(entry.baseline)}</td><td>{verdicts}</td>"
            f"<td>{esc(entry.folder)}<br>{links}</td></tr>"
        )
    body = [
        "<h1>Published compatibility reports</h1>",
        '<p><a href="matrix.html">The release matrix</a>: every version against the '
        "baseline, changes and scenarios by version, and the trends.</p>",
        "<table><tr><th>date</th><th>kind</th><th>baseline</th><th>verdicts</th>"
        "<th>report</th></tr>",
        *rows,
        "</table>",
    ]
    return _page("Published compatibility reports", body)


def render_matrix(published: Sequence[Published], baseline: str) -> str:
    chosen = latest_by_version(published, baseline)
    versions = list(chosen)
    head = "".join(_head(v) for v in versions)
    body = [
        f"<h1>Release matrix against {esc(baseline)}</h1>",
        f'<p class="muted">{len(versions)} columns, each from the newest published '
        "comparison of a version with the baseline (the report it came from is linked in "
        "the first table). A column that names server settings under its version ran "
        "with them, against the baseline's runs with the same settings. "
        '<a href="index.html">Every published report</a>.</p>',
        "<h2>Verdict by version</h2>",
        f"<table><tr><th></th>{head}</tr>",
        "<tr><th>verdict</th>"
        + "".join(
            f'<td class="c">{badge(str((c.get("verdict") or {}).get("status")))}</td>'
            for _, c in chosen.values()
        )
        + "</tr>",
        "<tr><th>report</th>"
        + "".join(
            f'<td class="c"><a href="{esc(e.folder)}/report.html">{esc(e.date)}</a></td>'
            for e, _ in chosen.values()
        )
        + "</tr></table>",
        *_changes_table(chosen),
        *_scenarios_table(chosen),
        *_trends(published, baseline),
    ]
    return _page(f"Release matrix against {baseline}", body)


def _changes_table(chosen: Mapping[str, tuple[Published, Mapping[str, Any]]]) -> list[str]:
    seen: dict[str, dict[str, Any]] = {}
    counts: dict[tuple[str, str], int] = {}
    for version, (_, comparison) in chosen.items():
        for change in comparison.get("changes") or ():
            seen.setdefault(change["id"], change)
            counts[(change["id"], version)] = int(change.get("findings") or 0)
    rows = []
    for cid, change in sorted(seen.items(), key=lambda kv: (_severity(kv[1]), kv[0])):
        cells = "".join(
            f'<td class="c">{counts[(cid, v)] if counts.get((cid, v)) else ""}</td>' for v in chosen
        )
        rows.append(
            f'<tr><th><a href="{esc(change.get("link", ""))}">{esc(cid)}</a> '
            f'<span class="muted">{esc(change.get("severity", ""))}</span></th>{cells}</tr>'
        )
    head = "".join(_head(v) for v in chosen)
    return [
        "<h2>Changes by version</h2>",
        '<p class="muted">How many differences each catalogued change explained in each '
        "version's comparison (blank: it explained none there).</p>",
        f"<table><tr><th>change</th>{head}</tr>",
        *rows,
        "</table>",
    ]


def _severity(change: Mapping[str, Any]) -> int:
    order = ("breaking", "behavioral", "additive", "cosmetic")
    severity = change.get("severity")
    return order.index(severity) if severity in order else len(order)


def _scenarios_table(chosen: Mapping[str, tuple[Published, Mapping[str, Any]]]) -> list[str]:
    verdicts: dict[str, dict[str, str]] = {}
    for version, (_, comparison) in chosen.items():
        for scenario in comparison.get("scenarios") or ():
            verdicts.setdefault(scenario["name"], {})[version] = scenario["verdict"]
    head = "".join(_head(v) for v in chosen)
    rows = []
    for name in sorted(verdicts):
        cells = "".join(_mark(verdicts[name].get(v)) for v in chosen)
        rows.append(f"<tr><th>{esc(name)}</th>{cells}</tr>")
    legend = ", ".join(f"{m} {v.replace('_', ' ')}" for v, m in MARK.items())
    return [
        "<h2>Scenarios by version</h2>",
        f'<p class="muted">{esc(legend)}; blank: not run on that version.</p>',
        f"<table><tr><th>scenario</th>{head}</tr>",
        *rows,
        "</table>",
    ]


def _mark(verdict: str | None) -> str:
    if verdict is None:
        return '<td class="c"></td>'
    return f'<td class="c" title="{esc(verdict)}">{esc(MARK.get(verdict, "?"))}</td>'


def _trends(published: Iterable[Published], baseline: str) -> list[str]:
    rows = []
    for entry in sorted(published, key=lambda p: p.created):
        if entry.kind not in ("compare", "gate", "diff") or entry.baseline != baseline:
            continue
        for comparison in entry.comparisons:
            summary = comparison.get("summary") or {}
            by = summary.get("by_verdict") or {}
            counted = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in sorted(by.items()) if n)
            rows.append(
                f"<tr><td>{esc(entry.date)}</td><td>{esc(column_of(comparison))}</td>"
                f"<td>{badge(str((comparison.get('verdict') or {}).get('status')))}</td>"
                f"<td>{esc(counted)}</td><td>{esc(summary.get('gating', ''))}</td></tr>"
            )
    return [
        "<h2>Trends</h2>",
        '<p class="muted">Every published comparison with the baseline, oldest first.</p>',
        "<table><tr><th>date</th><th>version</th><th>verdict</th><th>scenarios</th>"
        "<th>gating differences</th></tr>",
        *rows,
        "</table>",
    ]


def _page(title: str, body: Sequence[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
            *body,
            "</body></html>",
            "",
        ]
    )


def write_site(directory: Path, baseline: str) -> dict[str, Path]:
    """index.html and matrix.html in ``directory``, from the reports in its folders."""
    published = collect(directory)
    files = {"index.html": directory / "index.html", "matrix.html": directory / "matrix.html"}
    files["index.html"].write_text(render_index(published), encoding="utf-8")
    files["matrix.html"].write_text(render_matrix(published, baseline), encoding="utf-8")
    return files
