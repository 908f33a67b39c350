"""The baseline run a scenario's candidate runs are compared with, and the differences
between baseline runs that a catalogued change explains.

Two baseline runs that differ at the status or task level leave a scenario inconclusive
(``scenario_verdict``) and set the candidate's differences at those paths aside as noise,
unless a change between the two targets explains the difference: the baseline then shows
the behaviour on its side of that change in some of its runs only (netflix 3.15.0's JOIN
completing early when it is evaluated in a narrow window, which conductor-oss removed,
say). That is knowledge about the baseline, not noise. The candidate is compared with a
baseline run that shows the baseline's side, so the change is reached whichever run
showed it, and the candidate's differences at those paths are attributed to it. Finer
differences (a task's fields, its output) between runs of one version are left as noise:
there the changes' matchers, written for two versions, also fit what only timing made
differ (whether a JOIN had been evaluated yet when the snapshot was taken).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.classify.attribute import Ledger
from harness.classify.catalog import BACKWARD, FORWARD, Change
from harness.classify.model import Finding, Run
from harness.classify.predicates import Scene
from harness.classify.scenario_verdict import UNSTABLE_LEVELS
from harness.compare import Difference, View, diff_views


@dataclass(frozen=True, slots=True)
class Known:
    """A difference between two baseline runs that a change between the targets explains."""

    change: Change
    direction: str  # the change's, from the baseline to the candidate


@dataclass(slots=True)
class Reference:
    """The baseline run compared with (its index among the runs given) and the differences
    between it and the others: the noise, and which of it a change explains."""

    index: int
    noise: list[Difference]
    known: dict[int, Known] = field(default_factory=dict)  # id(difference) -> its change
    # for each other run: of each difference a change explains, whether the chosen run is
    # the one showing the baseline's side of it
    sides: dict[int, list[bool]] = field(default_factory=dict)

    def unexplained(self) -> list[Difference]:
        return [d for d in self.noise if id(d) not in self.known]

    def finding(self, noise: Finding) -> Finding:
        """``noise``, a difference between two baseline runs, with the change that explains
        it, if one does."""
        known = self.known.get(id(noise.difference))
        if known is None:
            return noise
        change = known.change
        return replace(
            noise,
            change={**change.describe(), "direction": known.direction},
            note=f"{noise.note}, as {change.id} explains ({change.title})",
        )

    def said(self, runs: Sequence[Run]) -> str:
        """What a scenario's reason adds: the changes that explain how its baseline runs
        differ, and the run (of ``runs``, those compared) the candidate was compared with."""
        ids = sorted({k.change.id for k in self.known.values()})
        turns = {k.direction for k in self.known.values()}
        side = {frozenset({FORWARD}): "before", frozenset({BACKWARD}): "with"}.get(
            frozenset(turns), "on the baseline's side of"
        )
        return (
            f"the baseline's runs differ as catalogued {', '.join(ids)} explain"
            f"{'s' * (len(ids) == 1)}: its run {runs[self.index].repeat} shows the behaviour "
            f"{side} {'it' if len(ids) == 1 else 'them'}, and the candidate is compared with "
            "that run"
        )


def reference(
    views: Sequence[View],
    levels: Sequence[str],
    definitions: Mapping[str, Any],
    ledger: Ledger,
    candidate: Sequence[View],
) -> Reference:
    """The first baseline run unless another shows the baseline's side of a change that
    the first does not; with the differences between the chosen run and the others. A
    change explains a difference between two baseline runs only where the run on the
    candidate's side of it shows what the candidate (its first run, if any) shows there:
    runs that differ for another reason stay noise, however a change's matchers read the
    values."""
    agrees = _Agrees(candidate[0] if candidate else None, levels)
    found = _against(0, views, definitions, ledger, agrees)
    for k in range(1, len(views)):
        if any(not first for first in found.sides.get(k, ())):
            return _against(k, views, definitions, ledger, agrees)
    return found


def _against(
    chosen: int,
    views: Sequence[View],
    definitions: Mapping[str, Any],
    ledger: Ledger,
    agrees: _Agrees,
) -> Reference:
    """The differences between run ``chosen`` and each other, and which a change explains."""
    found = Reference(chosen, [])
    for k, other in enumerate(views):
        if k == chosen:
            continue
        scene = Scene(definitions, views[chosen], other)
        for d in diff_views(views[chosen], other, agrees.levels):
            found.noise.append(d)
            hit = ledger.between(d, scene) if d.level in UNSTABLE_LEVELS else None
            if hit is not None and agrees(other if hit[2] else views[chosen], d):
                found.known[id(d)] = Known(hit[0], hit[1])
                found.sides.setdefault(k, []).append(hit[2])
    return found


@dataclass(slots=True)
class _Agrees:
    """Whether a baseline run shows what the candidate shows where a difference is."""

    candidate: View | None
    levels: Sequence[str]
    differing: dict[int, set[tuple[str, str]]] = field(default_factory=dict)

    def __call__(self, run: View, difference: Difference) -> bool:
        if self.candidate is None:
            return False
        if id(run) not in self.differing:
            found = diff_views(run, self.candidate, self.levels)
            self.differing[id(run)] = {(d.level, d.shape) for d in found}
        return (difference.level, difference.shape) not in self.differing[id(run)]
