"""The ``upgrade`` job: scenarios played across an in-place upgrade (or a rollback), and
compared with the same scenarios played wholly on the old server and wholly on the new.

    validate scenarios and settings (bad input fails here, before anything starts)
    in two lanes, each of the following starting when a lane is free:
    across, once per new version: one store (postgres or redis) and one network
        namespace; the old server on it plays every scenario to its switch point; the old
        server stops (gracefully, or killed with --kill); the new server starts on the
        same store; every run goes on
        then, with --switch-points all, one round per later switch point, one after
        another, each on a store of its own: every scenario with a k-th point plays to it,
        one switch, the rest (a column of its own: 'OLD→NEW (switch point k)')
    then each on servers of its own:
        the old version, wholly: every scenario ``baseline_repeats`` times (the baseline,
            played once however many new versions there are)
        each new version, wholly: every scenario once
    re-check: every scenario whose run across a switch gates against the version it left
        (played wholly) is played across again, each time on a store and servers of its
        own, until it has RECHECK_RUNS runs (not with --no-recheck): a difference the
        switch always makes is told from one that comes and goes
    stop every server and store (whatever happens)
    assess each against the baseline: "new" is what a fresh install of the new version
        changes, "across" what the upgrade itself does to executions in flight
    write the four reports
    with --rollback-from NEW: also the switch from NEW back to the old version, on a store
        of its own, NEW played wholly ``baseline_repeats`` times, and a report of its own
        (baseline NEW: the old version wholly, and the rollback) under rollback-from-NEW/;
        the exit code is the worst report's

A new server that refuses the old one's store (a schema it cannot read, a migration that
does not run backwards) is the upgrade's finding: every run that waited at the switch ends
with it, and the comparison shows it.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.classify import RunResult, assess_run
from harness.classify.assess import Views
from harness.classify.verdict import combine
from harness.errors import BadInputError
from harness.pipeline import events as ev
from harness.pipeline import live
from harness.pipeline.assemble import (
    RECHECK_RUNS,
    failing_again,
    gating,
    identity,
    settings_for,
)
from harness.pipeline.outcome import VERDICT_EXIT, Outcome
from harness.pipeline.plan import Plan, RunFolder, slug
from harness.pipeline.rounds import Stage, across_label
from harness.report import build_report, write_reports
from harness.runner.across import later_rounds
from harness.runner.session import ScenarioFinished, ScenarioStarted
from harness.scenarios import Scenario, require_valid
from harness.targets import get_profile
from harness.traces import load_trace_set, read_trace

LANES = 2  # servers playing at once


def point_label(across: str, point: int) -> str:
    """The name of the round at switch point ``point`` (1 for the first) of an upgrade:
    the first round keeps the upgrade's name, a later one names its point:
    'netflix:3.15.0→oss:3.32.1 (switch point 2)'."""
    return across if point == 1 else f"{across} (switch point {point})"


async def upgrade(plan: Plan, folder: RunFolder, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    scenarios = require_valid(
        [Path(p) for p in plan.paths], allow_outbound=plan.allow_outbound, limits=plan.limits()
    )
    job = _Upgrade.of(plan, folder, scenarios, emit)
    folder.save(plan)
    n = len(scenarios)
    compared = job.compared
    emit(
        ev.RunPlanned(
            folder.root,
            n,
            (
                ev.TargetPlanned(job.old, "baseline", n * plan.baseline_repeats, 0),
                *(
                    ev.TargetPlanned(name, "candidate", n * job.repeats(name), 0)
                    for name in compared
                ),
            ),
            False,
            plan,
        )
    )
    emit(ev.TargetsStarting((job.old, *compared)))
    # Two lanes: each switch, then each version wholly, the next starting when a lane is
    # free. On 2 cores three servers at once starve each other (answers past the 30 s
    # client timeout were seen); two do not.
    lanes = asyncio.Semaphore(LANES)

    async def lane(name: str, stack: AsyncExitStack) -> None:
        async with lanes, AsyncExitStack() as own:  # its servers stop when it ends
            await job.drive(name, own)

    switches = [across_label(frm, to) for frm, to in job.switches]
    await live.each_target([*switches, job.old, *job.news], lane)
    if plan.recheck:  # the baselines first: the others are judged against them
        bases = [job.old, *plan.rollbacks]
        await live.each_target(bases, lambda name, _: job.recheck_baseline(name, lanes))
        await live.each_target([*job.news, *switches], lambda name, _: job.recheck(name, lanes))
    emit(ev.Comparing(tuple(name for name, _ in job.columns(compared))))
    written: dict[str, Path] = {}
    results: list[RunResult] = []
    comparisons: list[dict[str, Any]] = []
    for out, group in await asyncio.to_thread(job.assess):
        report = await asyncio.to_thread(build_report, group, command=list(plan.command))
        reports = await asyncio.to_thread(write_reports, out, report)
        inside = out.relative_to(folder.root)
        written.update({str(inside / name): path for name, path in reports.items()})
        results.extend(group)
        comparisons.extend(report["comparisons"])
    status, reason = combine(results)
    emit(
        ev.RunFinished(
            status,
            reason,
            True,
            written,
            round(time.monotonic() - began, 1),
            tuple(ev.CandidateSummary.of(c) for c in comparisons),
        )
    )
    code = int(VERDICT_EXIT[status])
    return Outcome(status, reason, True, written, folder.root, code, tuple(results))


def rollback_folder(root: Path, new: str) -> Path:
    """Where the report of the rollback from ``new`` goes, inside the run folder."""
    return root / f"rollback-from-{slug(new)}"


@dataclass(slots=True)
class _Upgrade(Stage):
    """One upgrade job's settings, and its drives: each version wholly, and each switch."""

    scenarios: list[Scenario]
    emit: ev.Emit
    # an upgrade's rounds, played: its label -> (each round's label, its scenarios)
    rounds: dict[str, list[tuple[str, list[Scenario]]]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, plan: Plan, folder: RunFolder, scenarios: list[Scenario], emit: ev.Emit
    ) -> _Upgrade:
        specs = live.target_specs([plan.baseline, *plan.candidates])
        if any(s.is_remote for s in specs.values()):
            raise BadInputError("upgrade starts both servers itself: remote targets cannot switch")
        profile = get_profile(plan.profile, plan.server_properties)
        if profile.name == "embedded":
            raise BadInputError(
                "an upgrade needs a store that outlives the old server: use --profile postgres "
                "(the default for upgrade) or --profile redis"
            )
        if plan.runtime != "process":
            raise BadInputError("upgrade runs with the process runtime")
        if plan.switch_points not in ("all", "first"):
            raise BadInputError(f"--switch-points is all or first, not {plan.switch_points!r}")
        isolation = plan.isolation(scenarios)
        workdir = folder.new_servers_dir()
        return cls(plan, folder, specs, profile, isolation, workdir, scenarios, emit)

    @property
    def old(self) -> str:
        return self.plan.baseline

    @property
    def news(self) -> tuple[str, ...]:
        return tuple(self.plan.candidates)

    @property
    def switches(self) -> list[tuple[str, str]]:
        """(from, to): the upgrade to each new version, then each rollback."""
        return [(self.old, new) for new in self.news] + [(r, self.old) for r in self.plan.rollbacks]

    @property
    def compared(self) -> tuple[str, ...]:
        """What is compared with a version wholly: each new version wholly, and the switch
        to it; then each rollback."""
        upgrades = (n for new in self.news for n in (new, across_label(self.old, new)))
        return (*upgrades, *(across_label(r, self.old) for r in self.plan.rollbacks))

    def repeats(self, name: str) -> int:
        """How often ``name`` plays each scenario: a baseline (the old version, and each
        version rolled back from) ``baseline_repeats`` times, anything else once."""
        return self.plan.baseline_repeats if name in (self.old, *self.plan.rollbacks) else 1

    async def drive(self, name: str, stack: AsyncExitStack) -> None:
        for frm, to in self.switches:
            if name == across_label(frm, to):
                await self.across(frm, to, stack)
                return
        every = range(1, self.repeats(name) + 1)
        await self._play(name, stack, [(s, r) for r in every for s in self.scenarios])
        self.emit(ev.TargetDone(name))

    async def _play(
        self, name: str, stack: AsyncExitStack, runs: list[tuple[Scenario, int]]
    ) -> None:
        """The version ``name`` wholly, on a server of its own: exactly ``runs``."""
        server = await live.start(
            self.plan, self.specs[name], workdir=self.workdir, stack=stack, isolation=self.isolation
        )
        self.emit(ev.TargetReady(name, server.base_url, server.start_seconds))
        traces, jobs = self.folder.traces(name), self.plan.jobs
        await live.play(self.scenarios, server, traces, jobs, self.emit, runs=runs, name=name)

    def columns(self, names: tuple[str, ...]) -> list[tuple[str, list[str]]]:
        """What each of ``names`` is compared as, with the scenarios it played: a version
        wholly, or an upgrade's first round, every scenario; after an upgrade, each of its
        later rounds, with the scenarios that had that switch point."""
        found: list[tuple[str, list[str]]] = []
        for name in names:
            played = self.rounds.get(name) or [(name, self.scenarios)]
            found.extend((label, [s.name for s in chosen]) for label, chosen in played)
        return found

    async def across(self, frm: str, to: str, stack: AsyncExitStack) -> None:
        """The upgrade from ``frm`` to ``to``: its first round, every scenario switched at
        its first point; then with --switch-points all each later round, one after
        another, each with the servers and store of its own stopped before the next."""
        label = across_label(frm, to)
        async with AsyncExitStack() as own:
            first = await self.round(frm, to, label, self.scenarios, stack=own, emit=self.emit)
        self.rounds[label] = [(label, self.scenarios)]
        if self.plan.switch_points == "first":
            self.emit(ev.TargetDone(label))
            return
        traces = await asyncio.to_thread(
            lambda: {f.scenario: read_trace(f.path) for f in first if f.path.exists()}
        )
        for k, chosen in enumerate(later_rounds(self.scenarios, traces), start=2):
            name = point_label(label, k)
            self.emit(ev.RoundPlanned(label, k, len(chosen)))
            async with AsyncExitStack() as own:
                shown = _shown(self.emit, label, k)
                await self.round(frm, to, name, chosen, stack=own, emit=shown)
            self.rounds[label].append((name, chosen))
        self.emit(ev.TargetDone(label))

    async def recheck_baseline(self, name: str, lanes: asyncio.Semaphore) -> None:
        """Re-check ``name``, a version played wholly as a baseline, as compare re-checks
        its baseline: every scenario with a run that failed its expectation or hung is
        played again until it has ``RECHECK_RUNS`` runs, so that a failure that comes and
        goes is told from one that stays, and the columns are compared on the runs that
        completed."""
        recorded = await asyncio.to_thread(
            load_trace_set, self.folder.traces(name), expected=identity(name)
        )
        wanted = max(RECHECK_RUNS, self.plan.baseline_repeats)
        again = failing_again(recorded, self.scenarios, wanted)
        if again:
            named = tuple(dict.fromkeys(s.name for s, _ in again))
            self.emit(ev.RecheckPlanned(name, named, len(again)))
            async with lanes, AsyncExitStack() as own:
                await self._play(name, own, again)
        self.emit(ev.TargetDone(name))

    async def recheck(self, name: str, lanes: asyncio.Semaphore) -> None:
        """Re-check ``name``, a new version played wholly or an upgrade, as compare
        re-checks a candidate: every scenario that gates against the version it is compared
        with is played again until it has ``RECHECK_RUNS`` runs, so that a difference made
        every time is told from one that comes and goes, and a one-off hang from a server
        that hangs; an intermittent one then shows its rate. A new version plays them on a
        server of its own; an upgrade plays each round's again across a switch, each time on
        a store and servers of their own."""
        switch = next(((f, t) for f, t in self.switches if across_label(f, t) == name), None)
        frm, to = switch or (self.old, name)
        played = self.rounds.get(name) or [(name, self.scenarios)]
        runs = range(2, RECHECK_RUNS + 1)
        for k, (label, chosen) in enumerate(played, start=1):
            again = await asyncio.to_thread(self._gating, frm, to, label, chosen)
            if not again:
                continue
            shown = self.emit if k == 1 else _shown(self.emit, name, k)
            named = tuple(s.name for s in again)
            self.emit(ev.RecheckPlanned(name, named, len(again) * len(runs)))
            if not switch:
                async with lanes, AsyncExitStack() as own:
                    await self._play(name, own, [(s, r) for r in runs for s in again])
                continue
            for repeat in runs:
                async with lanes, AsyncExitStack() as own:
                    await self.round(frm, to, label, again, stack=own, emit=shown, repeat=repeat)
        self.emit(ev.TargetDone(name))

    def _gating(self, frm: str, to: str, label: str, chosen: list[Scenario]) -> list[Scenario]:
        """Those of ``chosen`` whose runs under ``label`` gate against ``frm`` wholly."""
        settings = settings_for(self.plan)
        base = load_trace_set(self.folder.traces(frm), expected=identity(frm))
        played = load_trace_set(self.folder.traces(label), expected=identity(to))
        result = assess_run(base, played, settings, names=[s.name for s in chosen])
        return [s for s in chosen if s.name in gating(result)]

    def assess(self) -> list[tuple[Path, list[RunResult]]]:
        """Each new version wholly, and across the upgrade to it, against the old wholly
        (the run folder's report); then for each rollback, the old version wholly and the
        rollback, against the version rolled back from (a report of its own)."""
        settings = settings_for(self.plan)
        upgrades = tuple(c for c in self.compared if c not in self._rolled_back)
        groups = [(self.folder.root, self.old, self.columns(upgrades))]
        for new in self.plan.rollbacks:
            rolled = self.columns((self.old, across_label(new, self.old)))
            groups.append((rollback_folder(self.folder.root, new), new, rolled))
        assessed: list[tuple[Path, list[RunResult]]] = []
        for out, base, candidates in groups:
            baseline = load_trace_set(self.folder.traces(base))
            views = Views()  # the baseline is scrubbed once for all its candidates
            results = [
                assess_run(
                    baseline,
                    load_trace_set(self.folder.traces(c)),
                    settings,
                    names=names,
                    views=views,
                )
                for c, names in candidates
            ]
            assessed.append((out, results))
        return assessed

    @property
    def _rolled_back(self) -> set[str]:
        return {across_label(r, self.old) for r in self.plan.rollbacks}


def _shown(emit: ev.Emit, line: str, point: int) -> ev.Emit:
    """``emit``, with a later round's scenario runs shown on its upgrade's progress line."""

    def shown(event: ev.Event) -> None:
        if isinstance(event, ScenarioStarted | ScenarioFinished):
            named = f"{event.scenario} (switch point {point})"
            event = replace(event, target=line, scenario=named)
        emit(event)

    return shown
