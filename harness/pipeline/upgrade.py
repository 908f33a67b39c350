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
import signal
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
from harness.pipeline.assemble import settings_for
from harness.pipeline.outcome import VERDICT_EXIT, Outcome
from harness.pipeline.plan import Plan, RunFolder, slug
from harness.report import build_report, write_reports
from harness.runner.across import later_rounds, run_across
from harness.runner.session import ScenarioFinished, ScenarioStarted
from harness.scenarios import Scenario, require_valid
from harness.targets import get_profile, netns, process
from harness.targets.model import Isolation, RunningTarget
from harness.targets.profiles import Profile
from harness.targets.spec import TargetSpec
from harness.targets.stores import start_store
from harness.traces import load_trace_set, read_trace

ARROW = "→"
LANES = 2  # servers playing at once


def across_label(old: str, new: str) -> str:
    """The name of an upgrade's traces and report column: 'netflix:3.15.0→oss:3.32.1'."""
    return f"{old}{ARROW}{new}"


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
class _Upgrade:
    """One upgrade job's settings, and its drives: each version wholly, and each switch."""

    plan: Plan
    folder: RunFolder
    scenarios: list[Scenario]
    emit: ev.Emit
    specs: dict[str, TargetSpec]
    profile: Profile
    isolation: Isolation
    workdir: Path
    # an upgrade's later rounds, played: its label -> (each round's label, its scenarios)
    rounds: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, plan: Plan, folder: RunFolder, scenarios: list[Scenario], emit: ev.Emit
    ) -> _Upgrade:
        specs = live.target_specs([plan.baseline, *plan.candidates])
        if any(s.is_remote for s in specs.values()):
            raise BadInputError("upgrade starts both servers itself: remote targets cannot switch")
        profile = get_profile(plan.profile)
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
        return cls(
            plan, folder, scenarios, emit, specs, profile, isolation, folder.new_servers_dir()
        )

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
        server = await live.start(
            self.plan, self.specs[name], workdir=self.workdir, stack=stack, isolation=self.isolation
        )
        self.emit(ev.TargetReady(name, server.base_url, server.start_seconds))
        repeats = self.repeats(name)
        traces = self.folder.traces(name)
        jobs = self.plan.jobs
        await live.play(self.scenarios, server, traces, jobs, self.emit, repeats=repeats, name=name)
        self.emit(ev.TargetDone(name))

    def columns(self, names: tuple[str, ...]) -> list[tuple[str, list[str]]]:
        """What each of ``names`` is compared as, with the scenarios it played: a version
        wholly, or an upgrade's first round, every scenario; after an upgrade, each of its
        later rounds, with the scenarios that had that switch point."""
        every = [s.name for s in self.scenarios]
        found: list[tuple[str, list[str]]] = []
        for name in names:
            found.append((name, every))
            found.extend((label, list(chosen)) for label, chosen in self.rounds.get(name, []))
        return found

    async def across(self, frm: str, to: str, stack: AsyncExitStack) -> None:
        """The upgrade from ``frm`` to ``to``: its first round, every scenario switched at
        its first point; then with --switch-points all each later round, one after
        another, each with the servers and store of its own stopped before the next."""
        label = across_label(frm, to)
        async with AsyncExitStack() as own:
            first = await self.round(frm, to, label, self.scenarios, stack=own, emit=self.emit)
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
            self.rounds.setdefault(label, []).append((name, tuple(s.name for s in chosen)))
        self.emit(ev.TargetDone(label))

    async def round(
        self,
        frm: str,
        to: str,
        label: str,
        scenarios: list[Scenario],
        *,
        stack: AsyncExitStack,
        emit: ev.Emit,
    ) -> tuple[ScenarioFinished, ...]:
        """One store, the server ``frm`` on it, every run to its switch point, the switch,
        the rest on the server ``to``; the traces under ``label``."""
        plan, profile, isolation = self.plan, self.profile, self.isolation
        run_dir = (self.workdir / ("across-" + self.folder.traces(label).name)).resolve()
        space = None
        if isolation.enforce:
            endpoints = await asyncio.to_thread(netns.resolve, isolation.allowed)
            space = await netns.create(run_dir / "netns", endpoints, stack)
        store = await start_store(profile, run_dir / "store", space)
        if store is None:
            raise BadInputError(f"the {profile.name} profile has no store to share")
        stack.callback(store.stop)
        unpack = not plan.boot_jar
        jit = plan.jit
        old = await process.prepare_async(self.specs[frm], profile, unpack_jar=unpack, jit=jit)
        new = await process.prepare_async(self.specs[to], profile, unpack_jar=unpack, jit=jit)
        old_stack = AsyncExitStack()
        stack.push_async_callback(old_stack.aclose)
        common: dict[str, Any] = {
            "store": store,
            "space": space,
            "isolation": isolation,
            "ready_timeout_s": plan.ready_timeout_s,
        }
        server = await process.start(old, profile, run_dir / "old", old_stack, **common)
        shown = across_label(frm, to)  # the progress line of every round
        emit(ev.TargetReady(shown, server.base_url, server.start_seconds))
        started: list[RunningTarget] = []

        async def switch() -> RunningTarget:
            if plan.kill and server.kill is not None:
                server.kill(signal.SIGKILL)
            await old_stack.aclose()
            started.append(await process.start(new, profile, run_dir / "new", stack, **common))
            return started[0]

        def new_identity() -> dict[str, Any]:
            if started:
                return started[0].identity.to_json()
            locked = process.locked_identity(
                new.spec, new.lock, profile, runtime="process", java=new.java.describe()
            )
            return replace(locked, isolation=server.identity.isolation).to_json()

        summary, _ = await run_across(
            scenarios,
            server,
            switch,
            self.folder.traces(label),
            label=label,
            new_identity=new_identity,
            emit=emit,
        )
        return summary.finished

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
