"""A scenario's verdict from its runs and findings: the runs that leave it inconclusive
before any comparison, a baseline that failed some of its runs, and the verdict with its
reason once the findings are in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.classify.model import Run, ScenarioResult

UNSTABLE_LEVELS = ("status", "tasks")  # noise here means the scenario itself is not deterministic
# How a run's error says it hung: the scenario's deadline passed, or the server took a call
# and did not answer it within the client's read timeout. A refused or dropped connection
# is not a hang: the server is gone, which says nothing of how it behaves.
HANGS = ("did not finish within its deadline", "failed: ReadTimeout")
FAILED_RUN = ("failed_expectation", "error")


def _hang(status: object, reason: object) -> bool:
    return status == "error" and any(h in str(reason or "") for h in HANGS)


def hung(run: Run) -> bool:
    return _hang(run.outcome, run.reason)


def server_failed(outcome: Mapping[str, Any]) -> bool:
    """A trace's outcome that says the server failed the scenario: an unmet expectation or
    a hang (other errors are the harness's or the machine's)."""
    status = outcome.get("status")
    return status == "failed_expectation" or _hang(status, outcome.get("reason"))


def failed(run: Run) -> bool:
    return run.outcome == "failed_expectation" or hung(run)


def baseline_failures(runs: list[Run], n: int) -> str:
    """What the report says of baseline runs that failed while others completed."""
    first = runs[0]
    return (
        f"the baseline itself failed in {len(runs)} of {n} runs (run {first.repeat}: "
        f"{first.reason}), so it was compared on the runs that completed"
    )


def usable(run: Run) -> bool:
    """A candidate run that can be compared: it ran to its end, or failed a finding's way
    (an unmet expectation, a hang); other errors say nothing about the server."""
    return run.outcome in ("completed", "failed_expectation") or hung(run)


def early_verdict(result: ScenarioResult) -> tuple[str, str] | None:
    if not result.baseline:
        return "inconclusive", "no baseline trace of this scenario"
    if not result.candidate:
        return "inconclusive", "no candidate trace of this scenario (not run, or interrupted)"
    for side, runs in (("baseline", result.baseline), ("candidate", result.candidate)):
        if all(r.outcome == "not_applicable" for r in runs):
            return "not_applicable", f"not applicable to the {side}: {runs[0].reason}"
    for run in result.baseline:
        if run.outcome == "error" and not hung(run):
            return "inconclusive", f"errored on the baseline (run {run.repeat}): {run.reason}"
    if all(failed(r) for r in result.baseline):
        run = result.baseline[0]
        what = "hangs" if hung(run) else "the scenario's own expectations fail"
        return "inconclusive", f"{what} on the baseline (run {run.repeat}): {run.reason}"
    for run in result.candidate:
        if not usable(run):
            return "inconclusive", f"errored on the candidate (run {run.repeat}): {run.reason}"
    return None


def scenario_verdict(result: ScenarioResult) -> tuple[str, str]:
    # what a change between the targets explains is the baseline's side of it, not noise
    unexplained = {n.difference.level for n in result.noise if n.change is None}
    unstable = sorted(unexplained & set(UNSTABLE_LEVELS))
    if unstable:
        return "inconclusive", (
            f"the baseline itself is not deterministic: its runs differ at the "
            f"{' and '.join(unstable)} level ({len(result.noise)} noisy paths)"
        )
    gating = [f for f in result.findings if f.gates]
    if gating:
        listed = _listed(f.severity for f in gating)
        kind = "unexplained " if any(f.disposition == "open" for f in gating) else ""
        return "incompatible", f"{len(gating)} {kind}difference{_s(len(gating))} ({listed})"
    action = {f.change["id"] for f in result.findings if f.requires_action and f.change}
    if action:
        return "action_required", (
            f"{len(action)} catalogued change{_s(len(action))} to handle: "
            + ", ".join(sorted(action))
        )
    if not result.findings:
        return "compatible", "no differences"
    return "compatible", f"nothing to act on ({_listed(f.disposition for f in result.findings)})"


def _listed(values: Any) -> str:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda x: -x[1]))


def _s(n: int) -> str:
    return "s" * (n != 1)
