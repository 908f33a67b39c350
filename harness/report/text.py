"""Small text helpers shared by the report writers: values, steps, counts, labels."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

SEVERITY_ORDER = ("breaking", "behavioral", "additive", "cosmetic")
SET_APART = ("known", "noise", "flaky", "ignored")  # dispositions shown apart from open ones


def pretty(value: Any, *, limit: int = 4000) -> str:
    """A value as indented JSON, cut at ``limit`` characters with a note."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) > limit:
        return text[:limit] + f"\n... (truncated at {limit} of {len(text)} characters)"
    return text


def short(value: Any, *, limit: int = 80) -> str:
    """A value on one line, cut at ``limit`` characters."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def side(finding: Mapping[str, Any], which: str, *, limit: int = 4000) -> str:
    """The baseline's or candidate's value of a finding; '(absent)' when it has none."""
    if finding.get("missing") == which:
        return "(absent)"
    return pretty(finding.get(which), limit=limit)


def step_label(step: Mapping[str, Any] | None) -> str:
    """Which step of the scenario produced a finding: 'step 3: retry (line 42)', 'setup'."""
    if step is None:
        return "-"
    index = step.get("index")
    if index is None:
        return "workers (not tied to a step)"
    if index == -1:
        return "setup"
    text = f"step {index}: {step.get('action')}"
    if step.get("name"):
        text += f" “{step['name']}”"
    if step.get("line") is not None:
        text += f" (line {step['line']})"
    return text


def ordered_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gating first, then by severity, level and path."""
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted(
        findings,
        key=lambda f: (not f["gates"], rank.get(f["severity"], 9), f["level"], f["path"]),
    )


def open_findings(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    return ordered_findings([f for f in scenario["findings"] if f["disposition"] == "open"])


def apart(scenario: Mapping[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Known, noise (the scenario's own and differences it explained), flaky, ignored."""
    for disposition in SET_APART:
        found = [f for f in scenario["findings"] if f["disposition"] == disposition]
        if disposition == "noise":
            found = found + list(scenario.get("noise") or [])
        if found:
            yield disposition, ordered_findings(found)


def open_counts(comparison: Mapping[str, Any], key: str, keys: Sequence[str]) -> dict[str, int]:
    """Open differences of a comparison counted by ``key`` (severity or level)."""
    counts = dict.fromkeys(keys, 0)
    for scenario in comparison["scenarios"]:
        for f in scenario["findings"]:
            if f["disposition"] == "open":
                counts[f[key]] = counts.get(f[key], 0) + 1
    return counts


def target_label(target: Mapping[str, Any]) -> str:
    return str(target.get("target") or "?")


def scenario_names(report: Mapping[str, Any]) -> list[str]:
    """Every scenario of every comparison, in first-seen order."""
    names: dict[str, None] = {}
    for comparison in report["comparisons"]:
        for scenario in comparison["scenarios"]:
            names.setdefault(scenario["name"], None)
    return list(names)
