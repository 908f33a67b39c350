"""What classification produces: findings, scenario results, the run's result.

Each is a plain value; the report layer turns them into report.json and nothing else.

Dispositions of a finding:

    open          unexplained: no catalogued change explains it (a regression, or a change
                  nobody has catalogued); gates at or above ``fail_on``
    catalogued    explained by exactly one change of the catalog; asks for action when the
                  change is breaking or behavioral (at or above ``fail_on``)
    accepted      catalogued (or fingerprinted) and accepted by the team's acceptance file
    intermittent  the candidate shows it in some of its runs, the baseline in none (k of n)
    noise         the baseline's own runs differ there
    ignored       the scenario's ``compare.ignore``
    consequence   follows from another finding of the same step (``consequence_of``): the
                  fields of a body whose status code changed, the tasks that never ran
                  because the workflow ended otherwise; shown under it, counted once (an
                  intermittent one only from a catalogued cause the same runs show)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.compare import Difference

VERDICTS = ("compatible", "action_required", "incompatible", "inconclusive", "not_applicable")
DISPOSITIONS = (
    "open",
    "catalogued",
    "accepted",
    "intermittent",
    "noise",
    "ignored",
    "consequence",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A classified difference."""

    difference: Difference
    fingerprint: str
    severity: str  # the change's own severity when catalogued, else the severity rules'
    rule: str  # the severity rule that decided, or "change:<id>"
    disposition: str  # one of DISPOSITIONS
    gates: bool  # makes the scenario incompatible
    change: dict[str, Any] | None = None  # the change that explains it (+ "direction")
    accepted: dict[str, Any] | None = None  # the acceptance that covers it
    requires_action: bool = False  # catalogued, not accepted, at or above fail_on
    consequence_of: str | None = None  # the fingerprint of the finding it follows from
    rate: tuple[int, int] | None = None  # (k, n): candidate runs showing it, runs compared
    ambiguous: tuple[str, ...] = ()  # other changes that also match: a catalog defect
    note: str = ""  # why it is noise, intermittent, ignored or a consequence
    shown_by: tuple[int, ...] = ()  # the candidate runs (their numbers) that show it


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
class ChangeStatus:
    """A change of the catalog as this comparison met it."""

    change: dict[str, Any]  # Change.describe() plus "direction"
    findings: int  # root findings it explains (consequences not counted)
    consequences: int
    scenarios: tuple[str, ...]
    fingerprints: tuple[str, ...]
    accepted: dict[str, Any] | None
    requires_action: bool


@dataclass(frozen=True, slots=True)
class AcceptanceStatus:
    entry: dict[str, Any]
    matched: int
    expired: bool


@dataclass(slots=True)
class RunResult:
    verdict: str
    reason: str
    fail_on: str
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    scenarios: list[ScenarioResult]
    fail_on_known: bool = True
    changes: list[ChangeStatus] = field(default_factory=list)  # reached and explaining
    catalog_files: list[str] = field(default_factory=list)
    acceptance_file: str | None = None
    acceptances: list[AcceptanceStatus] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # expired acceptances, catalog defects
    settings: dict[str, Any] = field(default_factory=dict)
