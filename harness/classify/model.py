"""What classification produces: findings, scenario results, the run's result.

Each is a plain value; the report layer turns them into report.json and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.compare import Difference

VERDICTS = ("compatible", "incompatible", "inconclusive", "not_applicable")
# open: counts against the verdict when its severity reaches the threshold.
DISPOSITIONS = ("open", "known", "noise", "flaky", "ignored")


@dataclass(frozen=True, slots=True)
class Finding:
    """A classified difference."""

    difference: Difference
    fingerprint: str
    severity: str
    rule: str  # the severity rule that decided
    disposition: str  # one of DISPOSITIONS
    gates: bool
    known: dict[str, Any] | None = None  # the allowlist entry that matched
    note: str = ""  # why it is noise, flaky or ignored


@dataclass(frozen=True, slots=True)
class Run:
    """One trace used in the comparison."""

    file: str
    repeat: int
    outcome: str
    reason: str | None
    target: dict[str, Any]


@dataclass(slots=True)
class ScenarioResult:
    name: str
    file: str
    description: str
    verdict: str
    reason: str
    baseline: list[Run] = field(default_factory=list)
    candidate: list[Run] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    noise: list[Finding] = field(default_factory=list)  # baseline run vs baseline run
    noise_checked: bool = False
    rechecked: bool = False
    scrub: dict[str, dict[str, Any]] = field(default_factory=dict)
    omitted: dict[str, int] = field(default_factory=dict)
    levels: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)  # index, action, name, line


@dataclass(frozen=True, slots=True)
class EntryStatus:
    entry: dict[str, Any]
    matched: int
    in_scope: bool
    expired: bool

    @property
    def stale(self) -> bool:
        return self.in_scope and not self.expired and self.matched == 0


@dataclass(slots=True)
class RunResult:
    verdict: str
    reason: str
    fail_on: str
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    scenarios: list[ScenarioResult]
    allowlist_file: str | None = None
    allowlist: list[EntryStatus] = field(default_factory=list)
    policy_failures: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
