"""Who plays which role in a run, and the assessments made from its trace folders.

Pure functions of the plan and the files on disk (no server): which scenarios run on
which target, which candidate scenarios need a fresh re-check run, and the final
``RunResult`` per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.classify import RunResult, Settings, assess_run, load_settings
from harness.classify.assess import Views
from harness.classify.scenario_verdict import server_failed
from harness.pipeline.plan import Plan, RunFolder
from harness.scenarios import Scenario
from harness.targets.spec import parse_target
from harness.traces import TraceSet, finished_runs, load_trace_set


def settings_for(plan: Plan) -> Settings:
    return load_settings(
        scrub=[Path(p) for p in plan.scrub],
        severity=[Path(p) for p in plan.severity],
        catalogs=[Path(p) for p in plan.catalogs],
        shipped_catalog=plan.shipped_catalog,
        accept=Path(plan.accept) if plan.accept else None,
        fail_on=plan.fail_on,
        fail_on_known=plan.fail_on_known,
        recheck=plan.recheck,
    )


def identity(target: str) -> dict[str, Any]:
    """What is known of a target before any trace of it exists."""
    spec = parse_target(target)
    return {"target": str(spec), "flavor": spec.flavor.value, "version": spec.version}


@dataclass(slots=True)
class Roles:
    plan: Plan
    folder: RunFolder
    selected: list[Scenario]
    baseline_dir: Path
    recorded: TraceSet | None = None  # gate: the baselines recorded earlier
    unused_baselines: list[str] = field(default_factory=list)
    no_baseline: list[str] = field(default_factory=list)
    # scrubbed views shared by the run's assessments (the re-checks', the final one)
    views: Views = field(default_factory=lambda: Views(by_file=True))

    @classmethod
    def of(
        cls,
        plan: Plan,
        scenarios: list[Scenario],
        folder: RunFolder,
        every: list[Scenario] | None = None,
    ) -> Roles:
        """``scenarios``: those this run plays; ``every``: all the paths selected, when
        that is more (a shard's): a baseline is unused only when no scenario uses it."""
        if plan.kind == "compare":
            return cls(plan, folder, scenarios, folder.traces(plan.baseline))
        recorded = load_trace_set(Path(plan.baseline))
        selected, missing = [], []
        for scenario in scenarios:
            runs = recorded.runs.get(scenario.name)
            if not runs:
                missing.append(scenario.name)
            elif any(t["scenario"].get("digest") != scenario.digest for _, t in runs):
                missing.append(
                    f"{scenario.name} (its file changed since the baseline was recorded)"
                )
            else:
                selected.append(scenario)
        names = {s.name for s in (scenarios if every is None else every)}
        unused = sorted(n for n in recorded.runs if n not in names)
        missing.sort()  # by name, as a merge of shards finds them
        return cls(plan, folder, selected, Path(plan.baseline), recorded, unused, missing)

    @property
    def live(self) -> list[str]:
        """Targets this run starts (or reaches), baseline first."""
        first = [self.plan.baseline] if self.plan.kind == "compare" else []
        return first + list(self.plan.candidates)

    @property
    def all_targets(self) -> list[str]:
        return [self.plan.baseline, *self.plan.candidates]

    @property
    def repeats(self) -> dict[str, int]:
        counts = {c: self.plan.candidate_repeats for c in self.plan.candidates}
        if self.plan.kind == "compare":
            counts[self.plan.baseline] = self.plan.baseline_repeats
        return counts

    def role(self, target: str) -> str:
        return "baseline" if target == self.plan.baseline else "candidate"

    def traces(self, target: str) -> Path:
        return self.baseline_dir if target == self.plan.baseline else self.folder.traces(target)

    def done_count(self, target: str, digests: dict[str, str]) -> int:
        if self.recorded is not None and target == self.plan.baseline:
            return sum(len(self.recorded.runs[s.name]) for s in self.selected)
        return len(finished_runs(self.traces(target), digests))

    def trace_set(self, target: str) -> TraceSet:
        names = {s.name for s in self.selected}
        if self.recorded is not None and target == self.plan.baseline:
            return self.recorded.restrict(names)
        return load_trace_set(self.traces(target), expected=identity(target)).restrict(names)


def assess_all(plan: Plan, roles: Roles, settings: Settings) -> list[RunResult]:
    """One result per candidate, over every selected scenario (run or not)."""
    names = [s.name for s in roles.selected]
    baseline = roles.trace_set(plan.baseline)
    return [
        assess_run(baseline, roles.trace_set(c), settings, names=names, views=roles.views)
        for c in plan.candidates
    ]


RECHECK_RUNS = 3  # a scenario that gates, or fails on the baseline, runs this many times


def recheck_candidates(
    plan: Plan, roles: Roles, settings: Settings, target: str
) -> list[tuple[Scenario, int]]:
    """The further runs of every scenario that gates on ``target``: up to ``RECHECK_RUNS``
    candidate runs (or ``--candidate-repeats``, if more), so that an intermittent
    difference shows its rate and a hang is told from a one-off."""
    names = [s.name for s in roles.selected]
    candidate = roles.trace_set(target)
    baseline = roles.trace_set(plan.baseline)
    result = assess_run(baseline, candidate, settings, names=names, views=roles.views)
    by_name = {s.name: s for s in roles.selected}
    wanted = max(RECHECK_RUNS, plan.candidate_repeats)
    again = []
    for name in gating(result):
        runs = candidate.runs.get(name, [])
        have = {int(t.get("repeat", 1)) for _, t in runs}
        again += [(by_name[name], r) for r in range(1, wanted + 1) if r not in have]
    return again


def gating(result: RunResult) -> list[str]:
    """The scenarios of ``result`` with a finding that gates: those a re-check plays again."""
    return [s.name for s in result.scenarios if any(f.gates for f in s.findings)]


def recheck_baseline(plan: Plan, roles: Roles) -> list[tuple[Scenario, int]]:
    """The further baseline runs of every scenario that failed its own expectations (or
    hung) on the baseline: up to ``RECHECK_RUNS`` runs, so that a baseline that fails only
    sometimes is told from one that always fails, and compared on the runs that completed."""
    wanted = max(RECHECK_RUNS, plan.baseline_repeats)
    return failing_again(roles.trace_set(plan.baseline), roles.selected, wanted)


def failing_again(
    recorded: TraceSet, scenarios: list[Scenario], wanted: int
) -> list[tuple[Scenario, int]]:
    """The runs, up to ``wanted`` each, still to make of every scenario with a run in
    ``recorded`` that failed its expectation or hung."""
    again = []
    for scenario in scenarios:
        runs = recorded.runs.get(scenario.name, [])
        if not any(server_failed(t.get("outcome") or {}) for _, t in runs):
            continue
        have = {int(t.get("repeat", 1)) for _, t in runs}
        again += [(scenario, r) for r in range(1, wanted + 1) if r not in have]
    return again
