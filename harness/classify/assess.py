"""Assess one scenario: its baseline runs against its candidate runs, to a verdict.

    baseline run 1 vs candidate run 1   the differences
    baseline run 1 vs baseline run k    noise: paths that vary on the baseline itself
    baseline run 1 vs candidate run k   re-check: a difference missing here is flaky

Each difference gets a severity (rules), a fingerprint and a disposition: open, known
(allowlist), noise, flaky or ignored (the scenario's ``compare.ignore``). Only open
differences at or above the ``fail_on`` threshold make a scenario incompatible.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.classify.allowlist import Allowlist
from harness.classify.model import Finding, Run, ScenarioResult
from harness.classify.severity import SeverityRules, at_least, fingerprint, path_matches
from harness.compare import LEVELS, Difference, View, build_view, diff_views
from harness.normalize import Pattern, ScrubSpec, scrub_trace
from harness.normalize.spec import with_sorted_lists

UNSTABLE_LEVELS = ("status", "tasks")  # noise here means the scenario itself is not deterministic

Recorded = tuple[Path, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Settings:
    spec: ScrubSpec
    severity: SeverityRules
    allowlist: Allowlist | None = None
    fail_on: str = "behavioral"
    recheck: bool = True
    today: datetime.date = field(default_factory=datetime.date.today)


@dataclass(slots=True)
class Context:
    """Run-wide state: which allowlist entries apply and how often each matched."""

    settings: Settings
    baseline_target: Mapping[str, Any]
    candidate_target: Mapping[str, Any]
    matched: Counter[str] = field(default_factory=Counter)

    def entries(self) -> list[Any]:
        allowlist = self.settings.allowlist
        if allowlist is None:
            return []
        return [
            e
            for e in allowlist.entries
            if not e.expired(self.settings.today)
            and e.in_scope(self.baseline_target, self.candidate_target)
        ]


def _run(path: Path, trace: Mapping[str, Any]) -> Run:
    outcome = trace.get("outcome") or {}
    return Run(
        str(path),
        int(trace.get("repeat", 1)),
        str(outcome.get("status")),
        outcome.get("reason"),
        dict(trace.get("target") or {}),
    )


def assess_scenario(
    name: str, baseline: Sequence[Recorded], candidate: Sequence[Recorded], context: Context
) -> ScenarioResult:
    if not baseline and not candidate:
        return ScenarioResult(
            name, "", "", "inconclusive", "not run on either target (the run was interrupted)"
        )
    some = (baseline or candidate)[0][1]
    meta = some.get("scenario") or {}
    compare = meta.get("compare") or {}
    result = ScenarioResult(
        name=name,
        file=str(meta.get("file", "")),
        description=" ".join(str(meta.get("description") or "").split()),
        verdict="inconclusive",
        reason="",
        baseline=[_run(p, t) for p, t in baseline],
        candidate=[_run(p, t) for p, t in candidate],
        levels=[lv for lv in LEVELS if lv in (compare.get("levels") or LEVELS)],
        steps=[
            {k: s.get(k) for k in ("index", "action", "name", "line")}
            for s in some.get("steps") or []
        ],
    )
    early = _early_verdict(result)
    if early:
        result.verdict, result.reason = early
        return result
    spec = with_sorted_lists(
        context.settings.spec,
        "scenario-unordered",
        compare.get("unordered") or [],
        "The scenario's compare.unordered: lists compared as multisets.",
    )
    ordered = bool(compare.get("ordered", True))
    views = [
        _view(t, spec, ordered, result, side)
        for side, runs in (("baseline", baseline), ("candidate", candidate))
        for _, t in runs
    ]
    base_views, cand_views = views[: len(baseline)], views[len(baseline) :]
    primary = diff_views(base_views[0], cand_views[0], result.levels)
    noise = [d for v in base_views[1:] for d in diff_views(base_views[0], v, result.levels)]
    rechecks = [
        {(d.level, d.shape, d.kind) for d in diff_views(base_views[0], v, result.levels)}
        for v in (cand_views[1:] if context.settings.recheck else [])
    ]
    result.noise_checked = len(base_views) > 1
    result.rechecked = bool(rechecks)
    result.omitted = dict(base_views[0].omitted)
    ignore = [Pattern.parse(p) for p in compare.get("ignore") or []]
    result.noise = [
        _classify(name, d, context, disposition="noise", note="differs between two baseline runs")
        for d in noise
    ]
    for difference in primary:
        result.findings.append(
            _finding(name, difference, context, noise=noise, rechecks=rechecks, ignore=ignore)
        )
    result.verdict, result.reason = _verdict(result, context.settings.fail_on)
    return result


def _view(
    trace: Mapping[str, Any], spec: ScrubSpec, ordered: bool, result: ScenarioResult, side: str
) -> View:
    scrubbed = scrub_trace(trace, spec)
    for rule, counted in scrubbed.summary().items():
        entry = result.scrub.setdefault(rule, {"baseline": 0, "candidate": 0, "paths": []})
        entry[side] += counted["count"]
        entry["paths"] = list(dict.fromkeys([*entry["paths"], *counted["paths"]]))[:12]
    return build_view(scrubbed.trace, ordered=ordered)


def _early_verdict(result: ScenarioResult) -> tuple[str, str] | None:
    if not result.baseline:
        return "inconclusive", "no baseline trace of this scenario"
    if not result.candidate:
        return "inconclusive", "no candidate trace of this scenario (not run, or interrupted)"
    for side, runs in (("baseline", result.baseline), ("candidate", result.candidate)):
        if all(r.outcome == "not_applicable" for r in runs):
            return "not_applicable", f"not applicable to the {side}: {runs[0].reason}"
    for side, runs in (("baseline", result.baseline), ("candidate", result.candidate)):
        for run in runs:
            if run.outcome == "error":
                return "inconclusive", f"errored on the {side} (run {run.repeat}): {run.reason}"
    for run in result.baseline:
        if run.outcome == "failed_expectation":
            return "inconclusive", (
                f"the scenario's own expectations fail on the baseline (run {run.repeat}): "
                f"{run.reason}"
            )
    return None


def _near(a: Difference, b: Difference) -> bool:
    """Same level and one path inside the other (or equal)."""
    if a.level != b.level:
        return False
    x, y = a.shape_parts, b.shape_parts
    n = min(len(x), len(y))
    return x[:n] == y[:n]


def _finding(
    name: str,
    difference: Difference,
    context: Context,
    *,
    noise: list[Difference],
    rechecks: list[set[tuple[str, str, str]]],
    ignore: list[Pattern],
) -> Finding:
    if any(path_matches(p, difference) for p in ignore):
        return _classify(name, difference, context, "ignored", "the scenario's compare.ignore")
    if any(_near(difference, n) for n in noise):
        return _classify(
            name, difference, context, "noise", "the same path differs between two baseline runs"
        )
    key = (difference.level, difference.shape, difference.kind)
    missing = sum(1 for r in rechecks if key not in r)
    if missing:
        return _classify(
            name,
            difference,
            context,
            "flaky",
            f"not reproduced in {missing} of {len(rechecks)} candidate re-runs",
        )
    return _classify(name, difference, context, "open", "")


def _classify(
    name: str, difference: Difference, context: Context, disposition: str, note: str
) -> Finding:
    rule = context.settings.severity.classify(name, difference)
    mark = fingerprint(name, difference)
    known = None
    if disposition == "open":
        for entry in context.entries():
            if entry.matches(name, mark, difference):
                context.matched[entry.id] += 1
                known = entry.describe()
                disposition = "known"
                break
    gates = disposition == "open" and at_least(rule.severity, context.settings.fail_on)
    return Finding(difference, mark, rule.severity, rule.name, disposition, gates, known, note)


def _verdict(result: ScenarioResult, fail_on: str) -> tuple[str, str]:
    unstable = sorted({n.difference.level for n in result.noise} & set(UNSTABLE_LEVELS))
    if unstable:
        return "inconclusive", (
            f"the baseline itself is not deterministic: its runs differ at the "
            f"{' and '.join(unstable)} level ({len(result.noise)} noisy paths)"
        )
    gating = [f for f in result.findings if f.gates]
    if gating:
        counts = Counter(f.severity for f in gating)
        listed = ", ".join(f"{n} {s}" for s, n in counts.most_common())
        return "incompatible", f"{len(gating)} difference{'s' * (len(gating) != 1)} ({listed})"
    if not result.findings:
        return "compatible", "no differences"
    counts = Counter(f.disposition for f in result.findings)
    listed = ", ".join(f"{n} {d}" for d, n in counts.most_common())
    return "compatible", f"no difference at or above '{fail_on}' ({listed})"
