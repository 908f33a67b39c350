"""report.md: a summary fit for a pull-request comment, organized by root cause.

Built from report.json alone. Order: the verdict; the action list (catalogued changes
that ask for action, breaking first), accepted changes, other catalogued changes on one
line each; every distinct unexplained root cause with both values; notices; then the
scenarios, most severe first, and each one's findings; then the environment.

GitHub refuses comments over 65,536 characters, so the file stays under ``LIMIT``: every
change and every unexplained root cause is always listed (their values shorten when there
are many); only the per-scenario detail is cut, with a count of what was left to
report.html, which has everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.report.client_matrix import matrix_table
from harness.report.markdown_causes import section
from harness.report.markdown_parts import (
    MARK,
    code,
    fenced,
    link,
    mark,
    text,
)
from harness.report.markdown_tail import environment, scenario_blocks
from harness.report.text import few, merged_changes, target_label

LIMIT = 65_000  # characters of the whole file
BUDGET = LIMIT - 1_000  # what the sections may use; the rest is margin for the cut note


def render_markdown(report: Mapping[str, Any]) -> str:
    head = _head(report) + _changes(report, action_limit=400)
    tail = environment(report)
    if _size(head, tail) > BUDGET // 2:  # a catalog too large for the page: shorten actions
        head = _head(report) + _changes(report, action_limit=120)
    room = BUDGET - 2_000 - _size(head, tail)
    unexplained = section(report, room)
    room = BUDGET - _size(head, unexplained, tail)
    detail = _within(scenario_blocks(report), room)
    out = [*head, *unexplained, *detail, *tail]
    return "\n".join(out).rstrip() + "\n"


def _size(*parts: list[str]) -> int:
    return sum(len(line) + 1 for part in parts for line in part)


def _head(report: Mapping[str, Any]) -> list[str]:
    comparisons = report["comparisons"]
    candidates = ", ".join(target_label(c["candidate"]) for c in comparisons)
    verdict = report["verdict"]
    out = [f"# conductor-compat: {text(target_label(report['baseline']))} → {text(candidates)}\n"]
    if not report["complete"]:
        run = report.get("run") or {}
        pending = len(run.get("pending") or [])
        deaths = run.get("server_deaths") or []
        why = "; ".join(text(d["summary"]) for d in deaths) or "the run was interrupted"
        out.append(
            f"> **INCOMPLETE**: {why}"
            + (f"; {pending} scenario runs had not finished" if pending else "")
            + ". This report covers what finished; `conductor-compat compare --resume` "
            "completes it.\n"
        )
        for death in deaths:
            out += _death(death)
    known = "" if verdict.get("fail_on_known", True) else "; catalogued changes do not gate"
    out.append(
        f"**Verdict: {mark(verdict['status'])}**: {text(verdict['reason'])} "
        f"(fails on `{verdict['fail_on']}` or worse{known})\n"
    )
    out += [
        "| candidate | verdict | scenarios | ✅ | 🟠 | ❌ | ⚠️ | ⚪ | changes to act on | "
        "accepted | other changes | unexplained causes | gating | noise |",
        "|---|---|" + "---:|" * 12,
    ]
    for c in comparisons:
        s, by = c["summary"], c["summary"]["by_verdict"]
        changes = c.get("changes") or []
        act = sum(1 for ch in changes if ch["requires_action"])
        accepted = sum(1 for ch in changes if ch["accepted"] and not ch["requires_action"])
        cells = [
            text(target_label(c["candidate"])),
            mark(c["verdict"]["status"]),
            str(s["scenarios"]),
            *(str(by.get(v, 0)) for v in _VERDICT_COLUMNS),
            str(act),
            str(accepted),
            str(len(changes) - act - accepted),
            str(len(c.get("unexplained") or [])),
            str(s["gating"]),
            str(s["noise"] + s["by_disposition"].get("noise", 0)),
        ]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for c in comparisons:
        for notice in c.get("notices") or []:
            out.append(f"> **Notice ({text(target_label(c['candidate']))})**: {text(notice)}\n")
    if report.get("clients"):  # a clients run: every client on every server
        out += [
            "## Client SDKs on each server\n",
            "Each cell: the calls of the client's script the SDK failed on (of all it made), "
            "and for a candidate the comparison with the same client on the baseline; "
            "clients.md names each failed call's exception and the server's answer behind it.\n",
            *matrix_table(report["clients"]),
            "",
        ]
    return out


_VERDICT_COLUMNS = tuple(MARK)  # compatible, action required, incompatible, ...


def _death(death: Mapping[str, Any]) -> list[str]:
    """A server that died (or stopped answering) mid-run: how, and its log's last lines."""
    where = f" ({code(death['log'])})" if death.get("log") else ""
    lines = [line[:300] for line in death.get("log_tail") or []]
    ended = "Server stopped answering" if death.get("silent_s") is not None else "Server died"
    return [
        f"**{ended}**: {code(death['target'])} {text(death['description'])}; "
        f"{death.get('not_run', 0)} scenario runs were not made. The last lines of its "
        f"log{where}:\n",
        *fenced(lines or ["(no log)"], "text"),
        "",
    ]


def _changes(report: Mapping[str, Any], *, action_limit: int) -> list[str]:
    """The action list, the accepted changes, then the others on one line each."""
    changes = merged_changes(report)
    act = [c for c in changes if c["requires_action"]]
    accepted = [c for c in changes if not c["requires_action"] and c.get("accepted")]
    other = [c for c in changes if not c["requires_action"] and not c.get("accepted")]
    out: list[str] = []
    if act:
        out += [
            f"## Action required: {len(act)} change{'s' * (len(act) != 1)}\n",
            "| change | severity | what to do | link | differences | scenarios | candidates |",
            "|---|---|---|---|---:|---|---|",
        ]
        for c in act:
            action = str(c["action"])
            if len(action) > action_limit:
                action = action[: action_limit - 1] + "…"
            who = [label for label, one in c["per"].items() if one["requires_action"]]
            out.append(
                f"| **{text(c['title'])}** ({code(c['id'], cell=True)}) | {text(c['severity'])} "
                f"| {text(action)} | {link(c['link'])} | {_count(c, unit=False)} "
                f"| {text(few(c['scenarios']))} | {text(', '.join(who))} |"
            )
        out.append("")
    if accepted:
        out.append("### Accepted changes\n")
        for c in accepted:
            a = next(one["accepted"] for one in c["per"].values() if one.get("accepted"))
            out.append(
                f"- **{text(c['title'])}** ({code(c['id'])}, {text(c['severity'])}): "
                f"{_count(c)}; accepted by {text(a.get('owner'))} until "
                f"{text(a.get('expires'))}: {text(a.get('reason'))}"
            )
        out.append("")
    if other:
        out.append("### Other catalogued changes (no action needed)\n")
        for c in other:
            out.append(
                f"- {text(c['severity'])} · **{text(c['title'])}** ({code(c['id'])}): "
                f"{_count(c)} in {len(c['scenarios'])} scenario{'s' * (len(c['scenarios']) != 1)}"
                f" · {link(c['link'])}"
            )
        out.append("")
    return out


def _count(change: Mapping[str, Any], unit: bool = True) -> str:
    """'3 differences (+2 consequences)'; without ``unit``, '3 (+2 consequences)'."""
    n, k = change["findings"], change["consequences"]
    noun = f" difference{'s' * (n != 1)}" if unit else ""
    return f"{n}{noun}" + (f" (+{k} consequences)" if k else "")


def _within(blocks: list[tuple[str, list[str]]], room: int) -> list[str]:
    """Whole blocks while they fit in ``room`` characters, then how much was left out."""
    kept: list[str] = []
    used = 0
    for i, (_, lines) in enumerate(blocks):
        size = sum(len(line) + 1 for line in lines)
        if used + size > room:
            left = [kind for kind, _ in blocks[i:] if kind]
            counts = {kind: left.count(kind) for kind in dict.fromkeys(left)}
            what = ", ".join(f"{n} {kind}" for kind, n in counts.items())
            kept.append(
                f"\n_… {what} left out here to keep this file under {LIMIT:,} characters: "
                "report.html and report.json have everything._\n"
            )
            break
        kept += lines
        used += size
    return kept


# code and text are re-exported: the other Markdown writers (migration.py) escape alike.
__all__ = ["BUDGET", "LIMIT", "code", "render_markdown", "text"]
