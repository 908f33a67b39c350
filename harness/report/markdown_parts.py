"""Pieces of report.md: inert text, code spans, links, diff blocks and finding lines.

Everything that comes from a scenario file or a server goes through ``text`` or ``code``:
no HTML, no table breaks, no Markdown link, image or emphasis syntax.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from harness.report.text import one_side, rate_text, side, step_label

MARK = {
    "compatible": "✅ compatible",
    "action_required": "🟠 action required",
    "incompatible": "❌ incompatible",
    "inconclusive": "⚠️ inconclusive",
    "not_applicable": "⚪ not applicable",
}
# Markdown's own punctuation: a backslash makes each literal ([x](javascript:...) stays text).
_MARKDOWN = re.compile(r"([\\`*_\[\]()!~|])")
_SAFE_URL = re.compile(r"https://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+")
_GITHUB = re.compile(r"https://github\.com/([^/]+/[^/]+)/(?:(?:pull|issues)/(\d+)|commit/(\w{7}))")


def text(value: Any) -> str:
    """Free text made inert: no HTML, no Markdown syntax, no table breaks, one line."""
    flat = html.escape(" ".join(str(value).split()), quote=False)
    return _MARKDOWN.sub(r"\\\1", flat)


def code(value: Any, *, cell: bool = False) -> str:
    """An inline code span that survives backticks in the value (and pipes, in a table)."""
    raw = " ".join(str(value).split())
    if cell:
        raw = raw.replace("|", "\\|")
    if "`" not in raw:
        return f"`{raw}`"
    longest = max(len(run) for run in re.findall(r"`+", raw))
    fence = "`" * (longest + 1)
    return f"{fence} {raw} {fence}"


def link(url: Any) -> str:
    """A Markdown link for a plain https address ('owner/repo#N' for GitHub), else text."""
    address = str(url or "")
    if not _SAFE_URL.fullmatch(address):
        return text(address) if address else "-"
    github = _GITHUB.match(address)
    label = "link"
    if github:
        label = f"{github[1]}#{github[2]}" if github[2] else f"{github[1]}@{github[3]}"
    return f"[{text(label)}]({address})"


def mark(verdict: str) -> str:
    return MARK.get(verdict, text(verdict))


def fenced(lines: Sequence[str], info: str = "") -> list[str]:
    """A fenced code block longer than any run of backticks inside it."""
    runs = [len(r) for line in lines for r in re.findall(r"`+", line)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [f"{fence}{info}", *lines, fence]


def diff_block(finding: Mapping[str, Any], limit: int) -> list[str]:
    """Both values of a finding as a diff: baseline '-', candidate '+'."""
    body = []
    for sign, which in (("-", "baseline"), ("+", "candidate")):
        for line in side(finding, which, limit=limit).splitlines():
            body.append(f"{sign} {line}")
    return fenced(body, "diff")


def values(finding: Mapping[str, Any], limit: int = 80) -> str:
    """'`old` → `new`' on one line."""
    old, new = (
        one_side(finding, "baseline", limit=limit),
        one_side(finding, "candidate", limit=limit),
    )
    return f"{code(old)} → {code(new)}"


def finding_head(finding: Mapping[str, Any]) -> str:
    """The first line of a finding shown in full."""
    others = len(finding["paths"]) - 1
    where = code(finding["path"]) + (f" (and {others} more paths)" if others > 0 else "")
    rate = rate_text(finding)
    return (
        f"- **{finding['severity']}** · {finding['level']} · {finding['kind']} · {where} · "
        f"{text(step_label(finding['step']))}"
        + (f" · intermittent, {rate}" if rate else "")
        + f" · rule {code(finding['rule'])} · `{finding['fingerprint']}`"
    )


def finding_line(finding: Mapping[str, Any], *, indent: str = "", limit: int = 80) -> str:
    """A finding on one line: what, where, both values, and why it is set apart."""
    extra = []
    change = finding.get("change")
    if change:
        extra.append(f"change {code(change['id'])}")
    accepted = finding.get("accepted")
    if accepted:
        extra.append(f"accepted by {text(accepted.get('owner'))}")
    if rate_text(finding):
        extra.append(rate_text(finding))
    if finding.get("ambiguous"):
        extra.append("also matched by " + ", ".join(code(a) for a in finding["ambiguous"]))
    if finding.get("note"):
        extra.append(text(finding["note"]))
    return (
        f"{indent}- {finding['severity']} · {finding['level']} · {finding['kind']} · "
        f"{code(finding['path'])}: {values(finding, limit)}"
        + (f" ({'; '.join(extra)})" if extra else "")
    )


def followers(found: Sequence[Mapping[str, Any]], shown: int = 3) -> list[str]:
    """A root finding's consequences, nested under it: the first few, then how many more."""
    lines = [f"  - ↳ {finding_line(f, limit=40)[2:]}" for f in found[:shown]]
    if len(found) > shown:
        lines.append(f"  - ↳ and {len(found) - shown} more consequences")
    return lines
