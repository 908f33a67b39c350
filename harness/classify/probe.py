"""Whether one difference shows between two recorded targets: a catalogued change (its
causes, whatever versions the catalog gives it) or one difference's fingerprint, looked
for in every scenario both targets ran. ``bisect`` asks this of each version it probes,
against the first version of its range.

Each scenario is scrubbed and diffed as ``compare`` does (its own ``compare`` settings
included), on one run of each side: the first, or the one asked for when a bisect runs
each scenario more than once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.classify.attribute import UNEXPLAINED
from harness.classify.catalog import FORWARD, Catalog, Change
from harness.classify.predicates import Scene, scene_document
from harness.classify.severity import fingerprint
from harness.compare import LEVELS, Difference, build_view, diff_views, standing_in
from harness.errors import BadInputError
from harness.normalize import ScrubSpec, scrub_trace
from harness.normalize.spec import with_sorted_lists
from harness.traces import TraceSet


@dataclass(frozen=True, slots=True)
class Sought:
    """The difference a bisect looks for: a change of the catalog, or a fingerprint."""

    change: Change | None = None
    fingerprint: str | None = None
    # what a split difference's parts are labelled with: the catalog's ids, "unexplained"
    parts: tuple[str, ...] = ()

    @classmethod
    def of(cls, catalog: Catalog, change: str | None, fingerprint: str | None) -> Sought:
        if bool(change) == bool(fingerprint):
            raise BadInputError("name one difference to look for: --change ID or --fingerprint FP")
        changes = catalog.by_id()
        if fingerprint:
            return cls(fingerprint=fingerprint, parts=(*changes, UNEXPLAINED))
        if change not in changes:
            near = [c for c in changes if change and change.split("-")[0] in c][:5]
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise BadInputError(
                f"no change '{change}' in the catalog (`conductor-compat changes` lists them)"
                + hint
            )
        return cls(change=changes[str(change)])

    def describe(self) -> str:
        if self.change is not None:
            return f"change {self.change.id} ({self.change.title})"
        return f"the difference {self.fingerprint}"

    def matches(self, scenario: str, difference: Difference, scene: Scene) -> bool:
        if self.change is not None:
            return self.change.explains(difference, FORWARD, scene)
        if fingerprint(scenario, difference) == self.fingerprint:
            return True
        # a part of a difference the assessment split among the changes explaining it
        return len(difference.all_parts) > 1 and any(
            fingerprint(scenario, replace(difference, part=p)) == self.fingerprint
            for p in self.parts
        )


@dataclass(frozen=True, slots=True)
class Sighting:
    scenario: str
    difference: Difference


def sightings(
    sought: Sought,
    baseline: TraceSet,
    candidate: TraceSet,
    spec: ScrubSpec,
    *,
    runs: tuple[int, int] = (0, 0),
) -> list[Sighting]:
    """Every difference ``sought`` names between one run of each side (``runs``: the
    baseline's and the candidate's, by repeat order; the first of each unless said) of
    the scenarios that both targets ran to an end (an unmet expectation included). A
    scenario with fewer runs on either side than asked is left out."""
    out = []
    for name in sorted(set(baseline.runs) & set(candidate.runs)):
        if len(baseline.runs[name]) <= runs[0] or len(candidate.runs[name]) <= runs[1]:
            continue
        (_, old), (_, new) = baseline.runs[name][runs[0]], candidate.runs[name][runs[1]]
        if {_status(old), _status(new)} & {"not_applicable", "error"}:
            continue
        compare = (old.get("scenario") or {}).get("compare") or {}
        scrub = with_sorted_lists(
            spec,
            "scenario-unordered",
            compare.get("unordered") or [],
            "The scenario's compare.unordered: lists compared as multisets.",
        )
        ordered = bool(compare.get("ordered", True))
        levels = [lv for lv in LEVELS if lv in (compare.get("levels") or LEVELS)]
        a, b = (build_view(scrub_trace(t, scrub).trace, ordered=ordered) for t in (old, new))
        views = [standing_in(a, b), standing_in(b, a)]  # as a comparison sees a stopped run
        scene = Scene(scene_document(old), views[0], views[1])
        out += [
            Sighting(name, d)
            for d in diff_views(views[0], views[1], levels)
            if sought.matches(name, d, scene)
        ]
    return out


def _status(trace: Mapping[str, Any]) -> Any:
    outcome = trace.get("outcome")
    return outcome.get("status") if isinstance(outcome, dict) else None
