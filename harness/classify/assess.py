"""Assess one scenario: its baseline runs against its candidate runs, to a verdict.

    baseline run r vs baseline run k    noise: paths that vary on the baseline itself
    baseline run r vs candidate run i   the differences, each with its rate (k of n runs)

(r: the first run, or one showing the baseline's side of a change, ``reference``.)

A difference every candidate run shows is attributed: to the one catalogued change that
explains it (*catalogued*, or *accepted* by the team), else it is *open*: unexplained. A
difference only some candidate runs show is *intermittent*: a finding about the
candidate. A run that hung or failed its expectation is breaking and gates, unless a
baseline run failed the same way; any other intermittent difference is cleared by a
candidate run that completed without it, and still shows its rate. Open differences at
or above ``fail_on`` make the scenario incompatible; catalogued ones at or above it, not
accepted, ask for action.

A baseline that fails some runs and completes others is compared on the runs that
completed, and the verdict's reason says how often it failed; one that fails every run
leaves the scenario inconclusive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.classify.attribute import Ledger
from harness.classify.consequences import consequences, resolve
from harness.classify.model import Finding, Run, ScenarioResult
from harness.classify.predicates import Scene, scene_document
from harness.classify.reference import reference
from harness.classify.scenario_verdict import (
    FAILED_RUN,
    baseline_failures,
    early_verdict,
    failed,
    hung,
    scenario_verdict,
    usable,
)
from harness.classify.settings import Settings
from harness.classify.severity import at_least, fingerprint, path_matches
from harness.compare import LEVELS, Difference, View, build_view, diff_views, standing_in
from harness.normalize import Pattern, ScrubSpec, scrub_trace
from harness.normalize.spec import with_sorted_lists
from harness.traces import file_identity

Recorded = tuple[Path, Mapping[str, Any]]


@dataclass(slots=True)
class Views:
    """Scrubbed views of traces, made once: a baseline compared with several candidates
    (or a rollback with the same traces) is not scrubbed again. Keyed by the trace
    object, which the cache keeps alive, so an id is never reused while it is here; or,
    with ``by_file``, for traces just as they were read, by the file and its content's
    identity (``file_identity``), so the assessments of one run (the re-checks', the
    final one) share what did not change, whichever time the file was read."""

    by_file: bool = False
    made: dict[tuple[Any, ...], tuple[Mapping[str, Any] | None, View, dict[str, Any]]] = field(
        default_factory=dict
    )

    def view(
        self,
        recorded: Recorded,
        spec: ScrubSpec,
        ordered: bool,
        result: ScenarioResult,
        side: str,
    ) -> View:
        path, trace = recorded
        on_disk = file_identity(path) if self.by_file else None
        keep = None if on_disk else trace
        key: tuple[Any, ...] = (str(path), on_disk) if on_disk else (id(trace),)
        key += (spec.digest, ordered)
        if key not in self.made:
            scrubbed = scrub_trace(trace, spec)
            view = build_view(scrubbed.trace, ordered=ordered)
            self.made[key] = (keep, view, scrubbed.summary())
        _, view, summary = self.made[key]
        for rule, counted in summary.items():
            entry = result.scrub.setdefault(rule, {"baseline": 0, "candidate": 0, "paths": []})
            entry[side] += counted["count"]
            entry["paths"] = list(dict.fromkeys([*entry["paths"], *counted["paths"]]))[:12]
        return view


@dataclass(slots=True)
class Context:
    """Run-wide state: the targets, and the ledger of attributions."""

    settings: Settings
    baseline_target: Mapping[str, Any]
    candidate_target: Mapping[str, Any]
    views: Views = field(default_factory=Views)
    ledger: Ledger = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.ledger = Ledger.of(
            s.catalog, s.acceptances, s.today, self.baseline_target, self.candidate_target
        )


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
    early = early_verdict(result)
    if early:
        result.verdict, result.reason = early
        return result
    failing = [r for r in result.baseline if failed(r)]
    baseline = [
        (p, t) for (p, t), r in zip(baseline, result.baseline, strict=True) if not failed(r)
    ]
    spec = with_sorted_lists(
        context.settings.spec,
        "scenario-unordered",
        compare.get("unordered") or [],
        "The scenario's compare.unordered: lists compared as multisets.",
    )
    ordered = bool(compare.get("ordered", True))
    compared = [(p, t) for (p, t), r in zip(candidate, result.candidate, strict=True) if usable(r)]
    if not context.settings.recheck:
        compared = compared[:1]
    views = context.views
    base_views = [views.view(r, spec, ordered, result, "baseline") for r in baseline]
    definitions = scene_document(baseline[0][1])
    raw = [views.view(r, spec, ordered, result, "candidate") for r in compared]
    chosen = reference(base_views, result.levels, definitions, context.ledger, raw[:1])
    first = base_views[chosen.index]
    cand_views = [standing_in(v, first) for v in raw]
    per_run = [diff_views(first, v, result.levels) for v in cand_views]
    result.noise_checked = len(base_views) > 1
    result.rechecked = len(cand_views) > 1
    result.omitted = dict(first.omitted)
    runs = [r for r in result.candidate if usable(r)][: len(cand_views)]
    scenes = tuple(Scene(definitions, first, v) for v in cand_views) or (
        Scene(definitions, first, None),
    )
    judge = _Judge(name, context, scenes, runs, failing)
    result.noise = [chosen.finding(judge.plain(d, "noise", None, _BASE)) for d in chosen.noise]
    result.findings = judge.findings(per_run, chosen.unexplained(), compare)
    for finding in result.findings:
        context.ledger.count(finding, name)
    result.verdict, result.reason = scenario_verdict(result)
    if chosen.known:
        result.reason += "; " + chosen.said([r for r in result.baseline if not failed(r)])
    if failing:
        result.reason += "; " + baseline_failures(failing, len(result.baseline))
    return result


@dataclass(frozen=True, slots=True)
class _Judge:
    """What judging one scenario's differences needs."""

    name: str
    context: Context
    # the scenario's definitions and views, for the changes' tests: the baseline's first
    # run with each candidate run compared (a difference is tested in the first that shows it)
    scenes: tuple[Scene, ...]
    runs: list[Run]  # the candidate runs compared, in order
    baseline_failed: list[Run]  # baseline runs that failed while others completed

    def findings(
        self, per_run: list[list[Difference]], noise: list[Difference], compare: Mapping[str, Any]
    ) -> list[Finding]:
        seen: dict[tuple[str, str, str, str], tuple[Difference, set[int]]] = {}
        for index, differences in enumerate(per_run):
            for d in differences:
                key = _key(d)
                kept, showing = seen.setdefault(key, (d, set()))
                showing.add(index)
                if kept is not d and d.all_parts != kept.all_parts:  # all its places
                    seen[key] = (_placed(kept, d), showing)
        ignore = [Pattern.parse(p) for p in compare.get("ignore") or []]
        n = len(per_run)
        out: list[Finding] = []
        for difference, showing in seen.values():
            rate = (len(showing), n)
            scene = self.scenes[min(showing)]
            if any(path_matches(p, difference) for p in ignore):
                found = [self.plain(difference, "ignored", rate, _IGNORED)]
            elif any(_near(difference, x) for x in noise):
                found = [self.plain(difference, "noise", rate, _NOISY)]
            elif varies := self.context.ledger.varies(difference, scene):
                note = f"varies between runs of both versions: {varies.id} ({varies.title})"
                found = [self.plain(difference, "noise", rate, note)]
            else:  # a part for each change that explains some of its places
                split = self.context.ledger.parts(difference, scene)
                if len(showing) < n and self.cleared(showing):
                    found = [self.intermittent(d, rate, showing, scene) for d in split]
                else:
                    found = [self.attributed(d, rate, scene) for d in split]
            shown_by = tuple(self.runs[i].repeat for i in sorted(showing))
            out.extend(replace(finding, shown_by=shown_by) for finding in found)
        return self.with_consequences(out)

    def cleared(self, showing: set[int]) -> bool:
        """Some candidate run that completed does not show it."""
        return any(r.outcome == "completed" for i, r in enumerate(self.runs) if i not in showing)

    def plain(
        self, difference: Difference, disposition: str, rate: tuple[int, int] | None, note: str
    ) -> Finding:
        rule = self.context.settings.severity.classify(self.name, difference)
        mark = fingerprint(self.name, difference)
        return Finding(
            difference, mark, rule.severity, rule.name, disposition, False, rate=rate, note=note
        )

    def intermittent(
        self, difference: Difference, rate: tuple[int, int], showing: set[int], scene: Scene
    ) -> Finding:
        failing = [self.runs[i] for i in sorted(showing) if self.runs[i].outcome in FAILED_RUN]
        rule = self.context.settings.severity.classify(self.name, difference)
        severity, rule_name = rule.severity, rule.name
        note = f"shown by {rate[0]} of {rate[1]} candidate runs, by no baseline run"
        outcome = difference.level == "status" and difference.shape_parts[:1] == ("scenario",)
        gates = bool(failing) and outcome
        if gates:
            what = "hung" if any(hung(r) for r in failing) else "failed its expectation"
            severity, rule_name = "breaking", "intermittent-failure"
            note += f"; the candidate {what} in run {', '.join(str(r.repeat) for r in failing)}"
            shared = [b for b in self.baseline_failed if any(b.reason == r.reason for r in failing)]
            if shared and all(any(b.reason == r.reason for b in shared) for r in failing):
                gates = False  # both versions fail this way now and then: not a regression
                note += (
                    f", as the baseline did in run {', '.join(str(b.repeat) for b in shared)}: "
                    "a failure both versions show now and then"
                )
        settings, ledger = self.context.settings, self.context.ledger
        change, direction, others = ledger.explain(difference, scene)
        mark = fingerprint(self.name, difference)
        accepted = ledger.accept(change.id, mark) if change else None
        return Finding(
            difference,
            mark,
            severity,
            rule_name,
            "intermittent",
            gates,
            change={**change.describe(), "direction": direction} if change else None,
            accepted=accepted,
            # a catalogued change the candidate shows in some runs is still reached
            requires_action=change is not None
            and accepted is None
            and settings.fail_on_known
            and at_least(change.severity, settings.fail_on),
            rate=rate,
            ambiguous=others,
            note=note,
        )

    def attributed(self, difference: Difference, rate: tuple[int, int], scene: Scene) -> Finding:
        settings, ledger = self.context.settings, self.context.ledger
        mark = fingerprint(self.name, difference)
        change, direction, others = ledger.explain(difference, scene)
        if change is None:
            rule = settings.severity.classify(self.name, difference)
            accepted = ledger.accept(None, mark)
            return Finding(
                difference,
                mark,
                rule.severity,
                rule.name,
                "accepted" if accepted else "open",
                accepted is None and at_least(rule.severity, settings.fail_on),
                accepted=accepted,
                rate=rate,
            )
        accepted = ledger.accept(change.id, mark)
        return Finding(
            difference,
            mark,
            change.severity,
            f"change:{change.id}",
            "accepted" if accepted else "catalogued",
            False,
            change={**change.describe(), "direction": direction},
            accepted=accepted,
            requires_action=accepted is None
            and settings.fail_on_known
            and at_least(change.severity, settings.fail_on),
            rate=rate,
            ambiguous=others,
        )

    def scene_of(self, finding: Finding) -> Scene:
        """The scene of the first candidate run that shows ``finding``."""
        numbers = [r.repeat for r in self.runs]
        shown = [numbers.index(n) for n in finding.shown_by if n in numbers]
        return self.scenes[min(shown)] if shown else self.scenes[0]

    def with_consequences(self, findings: list[Finding]) -> list[Finding]:
        """Differences that follow from another take its change and are counted once: the
        effects a change's catalogue entry names, then the structural consequences."""
        out = list(findings)
        follows: dict[int, int] = {}
        for index, finding in enumerate(findings):
            if finding.disposition in ("open", "intermittent"):
                root = self.context.ledger.effect(findings, index, self.scene_of(finding))
                if root is not None and (
                    finding.disposition == "open" or findings[root].shown_by == finding.shown_by
                ):
                    follows[index] = root
                    out[index] = _as_consequence(finding, findings[root])
        structural = consequences(out)
        follows.update({i: r for i, r in structural.items() if i not in follows})
        final = list(out)
        for index, root in resolve(follows).items():
            final[index] = _as_consequence(out[index], out[root])
        return final


def _placed(kept: Difference, other: Difference) -> Difference:
    """``kept`` with the places of ``other`` (the same difference in another run) it lacks."""
    known = set(kept.all_parts)
    new = [(p, t) for p, t in zip(other.all_parts, other.paths, strict=False) if p not in known]
    if not new:
        return kept
    return replace(
        kept,
        all_parts=kept.all_parts + tuple(p for p, _ in new),
        paths=kept.paths + tuple(t for _, t in new),
    )


def _key(d: Difference) -> tuple[str, str, str, str]:
    """One difference across runs: where, what kind, and the two values."""
    return (d.level, d.shape, d.kind, repr((d.missing, d.baseline, d.candidate)))


_IGNORED = "the scenario's compare.ignore"
_NOISY = "the same path differs between two baseline runs"
_BASE = "differs between two baseline runs"


def _as_consequence(this: Finding, root: Finding) -> Finding:
    return Finding(
        this.difference,
        this.fingerprint,
        this.severity,
        this.rule,
        "consequence",
        False,
        change=root.change,
        accepted=root.accepted,
        consequence_of=root.fingerprint,
        rate=this.rate,
        note=f"follows from {root.difference.level} {root.difference.path}",
        shown_by=this.shown_by,
    )


def _near(a: Difference, b: Difference) -> bool:
    """Same level and one path inside the other (or equal)."""
    if a.level != b.level:
        return False
    x, y = a.shape_parts, b.shape_parts
    n = min(len(x), len(y))
    return x[:n] == y[:n]
