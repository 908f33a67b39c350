"""report.md's unexplained differences: every distinct root cause, with both values.

A run against a thin catalog can have thousands of causes, and report.md must stay small,
so causes are shown at the most detailed ``TIERS`` level that fits: gating causes as diffs,
then on one line, then without values; causes that do not gate on one line each, then
grouped by the object they sit in (``tasks.*: loopOver, metadata, permissive``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.report.markdown_parts import code, diff_block, text, values
from harness.report.text import SEVERITY_ORDER, few, rate_text, step_label, target_label


@dataclass(frozen=True, slots=True)
class Tier:
    diff: int  # characters of each value of a gating cause's diff; 0: one line instead
    line: int  # characters of each value on one line; 0: no values
    grouped: bool  # causes that do not gate: grouped by parent object, no values


TIERS = (
    Tier(1200, 120, False),
    Tier(400, 60, False),
    Tier(1200, 0, True),
    Tier(400, 0, True),
    Tier(0, 80, True),
    Tier(0, 24, True),
    Tier(0, 0, True),
)


def causes(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every candidate's causes merged by (level, kind, shape), with the candidates showing
    each (``candidates``); gating and most severe first."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for comparison in report["comparisons"]:
        label = target_label(comparison["candidate"])
        for cause in comparison.get("unexplained") or []:
            key = (cause["level"], cause["kind"], cause["shape"])
            entry = merged.setdefault(key, {**cause, "candidates": [], "findings": 0})
            entry["candidates"].append(label)
            entry["findings"] += cause["findings"]
            entry["gates"] = entry["gates"] or cause["gates"]
            entry["scenarios"] = list(dict.fromkeys([*entry["scenarios"], *cause["scenarios"]]))
            if (
                "intermittent" in cause["dispositions"]
                and "intermittent" not in entry["dispositions"]
            ):
                entry["dispositions"] = [*entry["dispositions"], "intermittent"]
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted(
        merged.values(),
        key=lambda c: (not c["gates"], rank.get(c["severity"], 9), -len(c["scenarios"])),
    )


def section(report: Mapping[str, Any], room: int) -> list[str]:
    """The unexplained section at the most detailed tier that fits in ``room`` characters;
    at the last tier, what does not fit is counted, not shown."""
    found = causes(report)
    if not found:
        return []
    for tier in TIERS:
        lines, whole = _section(report, found, tier, room)
        if whole:
            break
    return lines


def _section(
    report: Mapping[str, Any], found: Sequence[Mapping[str, Any]], tier: Tier, room: int
) -> tuple[list[str], bool]:
    matrix = len(report["comparisons"]) > 1
    gating = sum(1 for c in found if c["gates"])
    out = [
        f"## Unexplained differences: {len(found)} root cause{'s' * (len(found) != 1)}, "
        f"{gating} gating\n",
        "No catalogued change explains these: regressions, or changes nobody has catalogued.\n",
    ]
    if tier.diff == 0:
        out.append("_Values shortened to keep this file small; report.html has them whole._\n")
    used = sum(len(line) + 1 for line in out)
    for i, lines in enumerate(_items(found, tier, matrix)):
        size = sum(len(line) + 1 for line in lines)
        if used + size > room:
            left = len(found) - i
            out.append(f"- _… and more: {left} items left to report.html (this file's limit)_")
            return [*out, ""], False
        out += lines
        used += size
    return [*out, ""], True


def _items(found: Sequence[Mapping[str, Any]], tier: Tier, matrix: bool) -> Iterator[list[str]]:
    rest: dict[tuple[str, str, str, str], list[Mapping[str, Any]]] = {}
    for cause in found:
        if cause["gates"] or not tier.grouped:
            yield _cause(cause, tier, matrix)
            continue
        parent, dot, _ = cause["shape"].rpartition(".")
        key = (cause["severity"], cause["level"], cause["kind"], parent + dot)
        rest.setdefault(key, []).append(cause)
    for (severity, level, kind, parent), group in rest.items():
        leaves = [c["shape"][len(parent) :] for c in group]
        scenarios = list(dict.fromkeys(s for c in group for s in c["scenarios"]))
        yield [
            f"- {severity} · {level} · {kind} · {code(parent + '…') if parent else 'at the top'}"
            f" ({len(group)}): {', '.join(code(leaf) for leaf in leaves)} · in "
            f"{text(few(scenarios, 2))}"
        ]


def _cause(cause: Mapping[str, Any], tier: Tier, matrix: bool) -> list[str]:
    example = {**cause["example"], "paths": [cause["example"]["path"]]}
    n, k = cause["findings"], cause["consequences"]
    head = (
        f"- **{cause['severity']}**{' · **gating**' if cause['gates'] else ''} · "
        f"{cause['level']} · {cause['kind']} · {code(cause['shape'])} · "
        f"{n} difference{'s' * (n != 1)}{f' (+{k} consequences)' if k else ''} in "
        f"{text(few(cause['scenarios']))}"
    )
    if matrix:
        head += f" · on {text(', '.join(cause['candidates']))}"
    if "intermittent" in cause["dispositions"]:
        head += f" · intermittent ({rate_text(example) or 'some runs'})"
    if cause["gates"]:  # what an acceptance or a search names it by
        head += " · " + ", ".join(f"`{p}`" for p in cause.get("fingerprints") or [])
    if tier.diff and cause["gates"]:
        where = f"  e.g. {code(example['scenario'])} at {code(example['path'])}, "
        where += text(step_label(example["step"]))
        return [head, where, "", *diff_block(example, tier.diff), ""]
    if tier.line:
        return [f"{head}: {values(example, tier.line)}"]
    return [head]
