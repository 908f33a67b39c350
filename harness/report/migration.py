"""MIGRATION.md: the catalog of changes as a migrating team reads it.

Generated from the catalog alone (``conductor-compat changes --markdown``), so it cannot
drift from what the verdicts use: what to do first (breaking, then behavioral changes,
each with its action and upstream link), then the additive and cosmetic ones a line each,
then upgrading in place (the changes tied to a store), then, from a published client
matrix (``--clients``), the client SDKs (``migration_clients``), then which change each
known version has.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from harness.classify import Catalog, Change
from harness.classify.catalog import ROLLBACK
from harness.classify.severity import SEVERITIES
from harness.report.markdown import code
from harness.report.migration_clients import render_clients

HEADER = """\
# Migrating from Netflix Conductor 3.15.0 to conductor-oss

Generated from conductor-compat's catalog of changes (`harness/classify/changes.yaml`) by
`conductor-compat changes --markdown`; edit the catalog, not this file. Every change here
was seen on real servers: the scenario library run on each version, compared with
Netflix 3.15.0 (published reports: `reports/published/`). A comparison that reaches a
breaking or behavioral change answers **action required** (exit 9) until your team
accepts it in its own acceptance file (`--accept`); a difference no change explains
answers **incompatible** (exit 1). See docs/verdicts.md.
"""


def text(value: str) -> str:
    """The catalog's own prose: one line, no HTML."""
    return html.escape(" ".join(value.split()), quote=False)


WHO = {
    "rest-clients": "REST clients",
    "workflow-authors": "workflow authors",
    "workers": "workers",
    "operators": "operators",
}


def render_migration(
    catalog: Catalog,
    versions: Sequence[Mapping[str, Any]],
    clients: Mapping[str, Any] | None = None,
) -> str:
    """``versions``: the targets to tabulate, each {target, version, backend};
    ``clients``: a clients.json (the published matrix), for the client SDKs' section."""
    changes = sorted(catalog.changes, key=lambda c: (SEVERITIES.index(c.severity), c.id))
    out = [HEADER]
    counts = {s: sum(1 for c in changes if c.severity == s) for s in SEVERITIES}
    out.append(
        f"{len(changes)} changes: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".\n"
    )
    out.append("## What to do\n")
    for change in changes:
        if change.severity in ("breaking", "behavioral"):
            out.append(_section(change))
    out.append("## Additive and cosmetic changes\n")
    out.append(
        "Clients that ignore unknown fields and do not compare texts are unaffected; "
        "strict deserializers and snapshot tests are.\n"
    )
    for change in changes:
        if change.severity in ("additive", "cosmetic"):
            out.append(
                f"- **{text(change.title)}** ({change.severity}, {_where(change)}; "
                f"`{change.id}`): {text(change.action)} [upstream]({change.link})"
            )
    out.append("")
    out.append(_in_place(changes))
    if clients is not None:
        out.append(render_clients(clients))
    out.append(_versions(changes, versions))
    return "\n".join(out).rstrip() + "\n"


IN_PLACE = """\
## Upgrading in place

Switching the server over the store that holds your running workflows is played by
`conductor-compat upgrade --from netflix:3.15.0 --to oss:3.32.1` (PostgreSQL; `--profile
redis` for Redis; a `--to` older than `--from` is a rollback): the shipped in-flight
library runs on the old server up to a switch point, the old server stops (or is killed,
with `--kill`), the new one starts on the same store and the executions go on. Its report
compares them with the old version played wholly; see docs/upgrade.md. The changes below
hold on the store named, for executions and data the old server wrote too.
"""


def _in_place(changes: Sequence[Change]) -> str:
    """The upgrade section: how to check an upgrade, and the changes tied to a store."""
    stored = [c for c in changes if c.backends]
    lines = [IN_PLACE]
    lines += [
        f"- **{text(c.title)}** ({c.severity}, {_where(c)}; `{c.id}`): {text(c.action)}"
        for c in stored
    ]
    return "\n".join(lines) + "\n"


def _where(change: Change) -> str:
    where = f"versions {change.versions}"
    if change.backends:
        where += f" on {', '.join(change.backends)}"
    if change.settings:
        where += " with " + ", ".join(f"`{k}={v}`" for k, v in change.settings)
    if change.across == ROLLBACK:
        where += ", rolled back to a version without it"
    if change.introduced:
        by = str(change.introduced.get("by") or "")
        how = "with `bisect`" if by.startswith("conductor-compat bisect") else "on real servers"
        where += (
            f", first in {change.introduced['first']} (not in {change.introduced['after']}; "
            f"measured {how})"
        )
    return where


def _section(change: Change) -> str:
    affects = ", ".join(WHO.get(a, a) for a in change.affects)
    return "\n".join(
        [
            f"### {text(change.title)}",
            "",
            f"`{change.id}`: **{change.severity}**, {_where(change)}; affects {affects}.",
            "",
            f"- What changed: {text(change.what)}",
            f"- What to do: {text(change.action)}",
            f"- Upstream: {change.link}",
            "",
        ]
    )


def _versions(changes: Sequence[Change], versions: Sequence[Mapping[str, Any]]) -> str:
    if not versions:
        return ""
    labels = [f"{v['target']} ({v['backend']})" for v in versions]
    rows = [
        "## Which versions have each change",
        "",
        "Against Netflix 3.15.0, on each version's embedded store (the default profile), as "
        "the catalog's version ranges give it: the library was recorded on oss:3.21.14 and "
        "oss:3.32.1; a range's bounds come from the upstream change that made it.",
        "",
        "| change | severity | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for change in changes:
        marks = []
        for target in versions:
            reach = change.reach({"version": "3.15.0", "backend": "memory"}, target)
            marks.append("✔" if reach else "")
        rows.append(f"| {code(change.id)} | {change.severity} | " + " | ".join(marks) + " |")
    return "\n".join(rows) + "\n"
