"""Small text helpers shared by the report writers: values, steps, counts, labels, changes."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

SEVERITY_ORDER = ("breaking", "behavioral", "additive", "cosmetic")
# Dispositions of root findings shown apart from the open (unexplained) ones.
SET_APART = ("catalogued", "accepted", "intermittent", "noise", "ignored")
# Scenarios, most in need of attention first.
VERDICT_ORDER = ("incompatible", "action_required", "inconclusive", "compatible", "not_applicable")


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


def one_side(finding: Mapping[str, Any], which: str, *, limit: int = 80) -> str:
    """One side of a finding on one line; '(absent)' when it has none."""
    return "(absent)" if finding.get("missing") == which else short(finding.get(which), limit=limit)


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


def rate_text(finding: Mapping[str, Any]) -> str:
    """'2 of 3 runs' for an intermittent finding, '' otherwise."""
    rate = finding.get("rate")
    if not rate or finding.get("disposition", "intermittent") != "intermittent":
        return ""
    return f"{rate['k']} of {rate['n']} runs"


def few(names: Sequence[str], shown: int = 3) -> str:
    """'a, b, c +4': the first names and how many more."""
    head = ", ".join(names[:shown])
    return head + (f" +{len(names) - shown}" if len(names) > shown else "")


def ordered_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gating first, then by severity, level and path."""
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted(
        findings,
        key=lambda f: (not f["gates"], rank.get(f["severity"], 9), f["level"], f["path"]),
    )


def roots(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A scenario's findings that follow from no other (consequences are shown under these)."""
    return [f for f in scenario["findings"] if not f.get("consequence_of")]


def consequences(scenario: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A scenario's consequences, by the fingerprint of the finding each follows from."""
    out: dict[str, list[dict[str, Any]]] = {}
    for f in scenario["findings"]:
        if f.get("consequence_of"):
            out.setdefault(f["consequence_of"], []).append(f)
    return out


def open_findings(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    return ordered_findings([f for f in roots(scenario) if f["disposition"] == "open"])


def apart(scenario: Mapping[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Catalogued, accepted, intermittent, noise (the scenario's own and differences it
    explained), ignored: root findings only."""
    for disposition in SET_APART:
        found = [f for f in roots(scenario) if f["disposition"] == disposition]
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


def merged_changes(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every change reached by any candidate, once, with the candidates that reached it
    (``per``: candidate -> that comparison's entry), in report order (worst first)."""
    merged: dict[str, dict[str, Any]] = {}
    for comparison in report["comparisons"]:
        label = target_label(comparison["candidate"])
        for change in comparison.get("changes") or []:
            entry = merged.setdefault(
                change["id"], {**change, "findings": 0, "consequences": 0, "per": {}}
            )
            entry["per"][label] = change
            entry["findings"] += change["findings"]
            entry["consequences"] += change["consequences"]
            entry["scenarios"] = list(dict.fromkeys([*entry["scenarios"], *change["scenarios"]]))
            entry["requires_action"] = any(c["requires_action"] for c in entry["per"].values())
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted(merged.values(), key=lambda c: (rank.get(c["severity"], 9), -c["findings"]))
