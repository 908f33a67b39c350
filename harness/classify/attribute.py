"""Attribution: each difference to the one change of the catalog that explains it, and
the team's acceptances.

Run-wide state lives in ``Ledger``: which changes the comparison reaches (with their
direction), how often each explained something and where, and how often each acceptance
was used. A folded difference whose places different changes explain (two tasks, say) is
split into one part for each. Two changes explaining one place is a catalog defect: the
first in the catalog's order is credited, the others are named on the finding and in a
notice.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.classify.accept import Acceptances
from harness.classify.catalog import BACKWARD, FORWARD, Catalog, Change
from harness.classify.model import AcceptanceStatus, ChangeStatus, Finding
from harness.classify.predicates import Scene
from harness.classify.severity import at_least
from harness.compare import Difference

UNEXPLAINED = "unexplained"  # the part of a split difference that no change explains


@dataclass(slots=True)
class Ledger:
    """What a comparison's attributions add up to."""

    catalog: Catalog
    acceptances: Acceptances | None
    today: datetime.date
    reached: list[tuple[Change, str]]
    varying: list[Change] = field(default_factory=list)
    credited: Counter[str] = field(default_factory=Counter)
    consequences: Counter[str] = field(default_factory=Counter)
    scenarios: dict[str, dict[str, None]] = field(default_factory=lambda: defaultdict(dict))
    fingerprints: dict[str, dict[str, None]] = field(default_factory=lambda: defaultdict(dict))
    used: Counter[str] = field(default_factory=Counter)
    defects: dict[tuple[str, ...], str] = field(default_factory=dict)
    # the last difference explained, in its scene, and the changes that explain it
    _last: tuple[Difference, Scene, list[tuple[Change, str]]] | None = None

    @classmethod
    def of(
        cls,
        catalog: Catalog,
        acceptances: Acceptances | None,
        today: datetime.date,
        baseline: Mapping[str, Any],
        candidate: Mapping[str, Any],
    ) -> Ledger:
        reached = catalog.reached(baseline, candidate)
        return cls(catalog, acceptances, today, reached, catalog.varying(baseline, candidate))

    def varies(self, difference: Difference, scene: Scene) -> Change | None:
        """The intermittent change both targets have that explains ``difference`` either
        way (the versions' own run-to-run variation), if any."""
        for change in self.varying:
            if any(change.explains(difference, d, scene) for d in (FORWARD, BACKWARD)):
                return change
        return None

    def between(self, difference: Difference, scene: Scene) -> tuple[Change, str, bool] | None:
        """A change between the two targets that explains ``difference`` between two runs
        of one of them, with its direction, and whether the scene's first run is the one
        that shows the baseline's side of it (False: its second run does)."""
        for change, direction in self.reached:
            if change.explains(difference, direction, scene):
                return change, direction, True
            if change.explains(difference, BACKWARD if direction == FORWARD else FORWARD, scene):
                return change, direction, False
        return None

    def parts(self, difference: Difference, scene: Scene) -> list[Difference]:
        """``difference`` as folded, or, when different changes explain its places (a
        task of one kind, a task of another) or one change only some of them, one part for
        each change, in the order of their first place, with the places no change explains
        as a part of their own."""
        if len(difference.all_parts) < 2:
            return [difference]
        hits = self._hits(difference, scene)
        if not hits:
            return [difference]
        groups: dict[str, list[Difference]] = {}
        for place in difference.places():
            first = next((c.id for c, d in hits if c.explains(place, d, scene)), UNEXPLAINED)
            groups.setdefault(first, []).append(place)
        if len(groups) < 2:
            return [difference]
        return [difference.only(places, part) for part, places in groups.items()]

    def _hits(self, difference: Difference, scene: Scene) -> list[tuple[Change, str]]:
        last = self._last
        if last is not None and last[0] is difference and last[1] is scene:
            return last[2]
        hits = [(c, d) for c, d in self.reached if c.explains(difference, d, scene)]
        self._last = (difference, scene, hits)
        return hits

    def explain(
        self, difference: Difference, scene: Scene
    ) -> tuple[Change | None, str, tuple[str, ...]]:
        """The change whose cause ``difference`` is (None if none), its direction, and the
        ids of any other change that also explains it."""
        hits = self._hits(difference, scene)
        if not hits:
            return None, "", ()
        others = tuple(c.id for c, _ in hits[1:])
        return hits[0][0], hits[0][1], others

    def effect(self, findings: Sequence[Finding], index: int, scene: Scene) -> int | None:
        """The finding whose change has finding ``index`` as an effect: a cause of that
        change seen at the same step or earlier, in the same workflow when both name one or
        in a sub-workflow of the effect's (a parent waits on its child), a cause whose values
        vary between the candidate's runs (intermittent) included."""
        d = findings[index].difference
        for change, direction in self.reached:
            if not change.explains(d, direction, scene, effects=True):
                continue
            for root, finding in enumerate(findings):
                if (
                    root != index
                    and finding.disposition in ("catalogued", "accepted", "intermittent")
                    and finding.change is not None
                    and finding.change["id"] == change.id
                    and _precedes(finding.difference, d, scene)
                ):
                    return root
        return None

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


def _precedes(cause: Difference, effect: Difference, scene: Scene) -> bool:
    first = [s for s in cause.steps if s is not None]
    then = [s for s in effect.steps if s is not None]
    if first and then and min(first) > min(then):
        return False
    inner, outer = _workflow(cause), _workflow(effect)
    return inner is None or outer is None or scene.within(inner, outer)


def _workflow(d: Difference) -> str | None:
    """The workflow a difference is in; None for an exchange and for the run's outcome."""
    if d.level == "api" or not d.shape_parts or d.shape_parts == _OUTCOME:
        return None
    return str(d.shape_parts[0])


_OUTCOME = ("scenario",)
