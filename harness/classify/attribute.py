"""Attribution: each difference to the one change of the catalog that explains it, the
team's acceptances, and the differences that are consequences of another.

Run-wide state lives in ``Ledger``: which changes the comparison reaches (with their
direction), how often each explained something and where, and how often each acceptance
was used. Two changes explaining one difference is a catalog defect: the first in the
catalog's order is credited, the others are named on the finding and in a notice.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.classify.accept import Acceptances
from harness.classify.catalog import Catalog, Change
from harness.classify.model import AcceptanceStatus, ChangeStatus, Finding
from harness.classify.severity import at_least
from harness.compare import Difference

CONSEQUENCE_KINDS = ("added", "removed")
MADE = [(key,) for key in ("output", "variables", "failedReferenceTaskNames", "failedTaskNames")]


@dataclass(slots=True)
class Ledger:
    """What a comparison's attributions add up to."""

    catalog: Catalog
    acceptances: Acceptances | None
    today: datetime.date
    reached: list[tuple[Change, str]]
    credited: Counter[str] = field(default_factory=Counter)
    consequences: Counter[str] = field(default_factory=Counter)
    scenarios: dict[str, dict[str, None]] = field(default_factory=lambda: defaultdict(dict))
    fingerprints: dict[str, dict[str, None]] = field(default_factory=lambda: defaultdict(dict))
    used: Counter[str] = field(default_factory=Counter)
    defects: dict[tuple[str, ...], str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        catalog: Catalog,
        acceptances: Acceptances | None,
        today: datetime.date,
        baseline: Mapping[str, Any],
        candidate: Mapping[str, Any],
    ) -> Ledger:
        return cls(catalog, acceptances, today, catalog.reached(baseline, candidate))

    def explain(
        self, difference: Difference, definitions: Any
    ) -> tuple[Change | None, str, tuple[str, ...]]:
        """The change that explains ``difference`` (None if none), its direction, and the
        ids of any other change that also does."""
        hits = [(c, d) for c, d in self.reached if c.explains(difference, d, definitions)]
        if not hits:
            return None, "", ()
        others = tuple(c.id for c, _ in hits[1:])
        return hits[0][0], hits[0][1], others

    def accept(self, change: str | None, fingerprint: str) -> dict[str, Any] | None:
        if self.acceptances is None:
            return None
        found = self.acceptances.find(change, fingerprint, self.today)
        if found is None:
            return None
        self.used[found.key] += 1
        return found.describe()

    def count(self, finding: Finding, scenario: str) -> None:
        if finding.change is None:
            return
        change = finding.change["id"]
        if finding.disposition == "consequence":
            self.consequences[change] += 1
        else:
            self.credited[change] += 1
        self.scenarios[change][scenario] = None
        self.fingerprints[change][finding.fingerprint] = None
        if finding.ambiguous:
            ids = (change, *finding.ambiguous)
            self.defects[ids] = (
                f"catalog defect: changes {', '.join(ids)} all explain {finding.difference.level} "
                f"{finding.difference.kind} at {finding.difference.shape} (scenario {scenario}); "
                f"{change} was credited"
            )

    def statuses(self, fail_on: str, fail_on_known: bool) -> list[ChangeStatus]:
        out = []
        for change, direction in self.reached:
            if not (self.credited[change.id] or self.consequences[change.id]):
                continue
            accepted = self.accept_whole(change.id)
            out.append(
                ChangeStatus(
                    change={**change.describe(), "direction": direction},
                    findings=self.credited[change.id],
                    consequences=self.consequences[change.id],
                    scenarios=tuple(self.scenarios[change.id]),
                    fingerprints=tuple(self.fingerprints[change.id]),
                    accepted=accepted,
                    requires_action=accepted is None
                    and fail_on_known
                    and at_least(change.severity, fail_on),
                )
            )
        return out

    def accept_whole(self, change: str) -> dict[str, Any] | None:
        if self.acceptances is None:
            return None
        found = self.acceptances.find(change, "", self.today)
        return found.describe() if found and found.change == change else None

    def acceptance_statuses(self) -> list[AcceptanceStatus]:
        if self.acceptances is None:
            return []
        return [
            AcceptanceStatus(a.describe(), self.used[a.key], a.expired(self.today))
            for a in self.acceptances.entries
        ]

    def notices(self) -> list[str]:
        expired = [
            f"acceptance of {a.key.replace(':', ' ')} ({a.owner}) expired on "
            f"{a.expires.isoformat()}: it accepts nothing until it is renewed"
            for a in (self.acceptances.entries if self.acceptances else ())
            if a.expired(self.today)
        ]
        return [*expired, *self.defects.values()]


def consequences(findings: Sequence[Finding]) -> dict[int, int]:
    """index of a finding -> index of the finding it follows from, at the same steps:

    - API: every other difference of an exchange whose status code changed;
    - a workflow whose status changed: tasks present on one side only;
    - a workflow that ran other tasks (its task set differs): its own data (output,
      failed task names), which those tasks made.
    """
    roots: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        d = finding.difference
        parts = d.shape_parts
        if len(parts) == 2 and d.level == "api" and d.kind == "status_code":
            roots[("api", parts[0])].append(index)
        elif len(parts) == 2 and d.level == "status" and parts[1] == "status":
            roots[("tasks", parts[0])].append(index)
        elif parts and d.level == "tasks":
            roots[("data", parts[0])].append(index)
    out: dict[int, int] = {}
    if not roots:
        return out
    for index, finding in enumerate(findings):
        d = finding.difference
        if not d.shape_parts:
            continue
        if d.level == "api" or (d.level == "data" and d.shape_parts[1:2] in MADE):
            candidates = roots.get((d.level, d.shape_parts[0]), [])
        elif d.level == "tasks" and d.kind in CONSEQUENCE_KINDS:
            candidates = roots.get(("tasks", d.shape_parts[0]), [])
        else:
            continue
        root = _covering(findings, index, candidates)
        if root is not None:
            out[index] = root
    return out


def _covering(findings: Sequence[Finding], index: int, candidates: list[int]) -> int | None:
    """The first root at the same steps as finding ``index`` (or, together with the other
    roots, covering all of its steps)."""
    steps = set(findings[index].difference.steps)
    others = [r for r in candidates if r != index]
    for root in others:
        if steps <= set(findings[root].difference.steps):
            return root
    covered = set().union(*(findings[r].difference.steps for r in others)) if others else set()
    if others and steps <= covered:
        return next(r for r in others if steps & set(findings[r].difference.steps))
    return None
