"""Execute a compare or gate plan: start the targets, run the scenarios, re-check
differences, report.

    validate scenarios and settings (bad input fails here, before anything starts)
    start every live target in parallel; each runs as soon as it is ready
    run each target's scenario runs concurrently (``jobs`` at a time per target);
        a candidate, once the baseline has run every scenario once, assesses itself and
        re-runs the scenarios that gate until it has three runs of each, so an
        intermittent difference shows its rate
    stop the targets (whatever happens)
    assess every candidate against the baseline, write the four reports

With ``shard`` (``--shard I/N``) the run plays and reports only its part of the scenarios
(``shard.py``), and run.json records which part of what; ``merge`` joins the parts.

Ctrl-C or SIGTERM cancels the run: the targets are stopped, and the reports are written
for what finished, marked incomplete; ``--resume`` makes only the missing runs. A server
that dies mid-run ends its own runs there (the others go on); the reports are written
the same way, they name the death, and ``ServerDiedError`` (exit 4) says it last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from harness.classify import Settings
from harness.errors import ServerDiedError
from harness.pipeline import durations, isolate, live, resume
from harness.pipeline import events as ev
from harness.pipeline.assemble import (
    Roles,
    assess_all,
    recheck_baseline,
    recheck_candidates,
    settings_for,
)
from harness.pipeline.outcome import VERDICT_EXIT, Outcome
from harness.pipeline.plan import Plan, RunFolder, slug
from harness.pipeline.serverlogs import add_log_notices
from harness.pipeline.shard import Shard, record
from harness.report import build_report, write_reports
from harness.runner import SessionSummary
from harness.scenarios import Scenario, require_valid
from harness.targets.death import ServerDeath
from harness.targets.model import RunningTarget
from harness.targets.spec import TargetSpec, parse_target
from harness.traces import ASIDE, finished_runs, set_aside_stale


@dataclass(slots=True)
class Progress:
    """What is left to do, per target; what is left when interrupted goes in the report."""

    todo: dict[str, list[tuple[Scenario, int]]]
    started: dict[str, float] = field(default_factory=dict)
    rechecks: dict[str, int] = field(default_factory=dict)
    deaths: dict[str, ServerDeath] = field(default_factory=dict)
    restarts: dict[str, list[isolate.Restart]] = field(default_factory=dict)
    network: dict[str, dict[str, object]] = field(default_factory=dict)  # isolation, blocked

    def finished(self, target: str, scenario: str, repeat: int) -> None:
        self.todo[target] = [
            (s, r) for s, r in self.todo[target] if (s.name, r) != (scenario, repeat)
        ]

    def pending(self) -> list[dict[str, object]]:
        return [
            {"target": t, "scenario": s.name, "repeat": r}
            for t, runs in self.todo.items()
            for s, r in runs
        ]

    def death_entries(self) -> list[dict[str, object]]:
        """report.json's ``run.server_deaths``: each death, and the runs it left unmade."""
        return [
            {**d.to_json(), "not_run": len(self.todo.get(t, []))} for t, d in self.deaths.items()
        ]


async def execute(
    plan: Plan,
    folder: RunFolder,
    emit: ev.Emit,
    *,
    resumed: bool = False,
    servers: Mapping[str, RunningTarget] | None = None,
) -> Outcome:
    """``servers``: targets already running, kept by the caller (the pytest plugin's
    session servers); the others start here and stop when the run ends."""
    began = time.monotonic()
    earlier = resume.earlier_run(folder.root) if resumed else None
    every = require_valid(
        [Path(p) for p in plan.paths], allow_outbound=plan.allow_outbound, limits=plan.limits()
    )
    shard = Shard.parse(plan.shard) if plan.shard else None
    part = set(shard.part(s.name for s in every)) if shard else None
    scenarios = [s for s in every if part is None or s.name in part]
    settings = settings_for(plan)
    roles = Roles.of(plan, scenarios, folder, every)
    specs = {t: parse_target(t) for t in roles.live}
    digests = {s.name: s.digest for s in roles.selected}
    progress = Progress({})
    for t in roles.live:
        # a resumed run whose scenario files changed: their old traces are kept aside
        set_aside_stale(folder.traces(t), digests, folder.root / "stale" / slug(t))
        done = finished_runs(folder.traces(t), digests)
        progress.todo[t] = [
            (s, r)
            for r in range(1, roles.repeats[t] + 1)
            for s in roles.selected
            if (s.name, r) not in done
        ]
    selected = [s.name for s in roles.selected]
    folder.save(
        plan, record(shard, [(s.name, s.digest) for s in every], selected) if shard else None
    )
    emit(
        ev.RunPlanned(
            folder.root,
            len(roles.selected),
            tuple(
                ev.TargetPlanned(
                    t,
                    roles.role(t),
                    len(progress.todo.get(t, [])),
                    roles.done_count(t, digests),
                    recorded=t not in roles.live,
                )
                for t in roles.all_targets
            ),
            resumed,
            plan,
        )
    )
    interrupted: str | None = None
    try:
        job = Job(plan, folder, roles, progress, settings, emit, servers=servers or {})
        await _run_targets(job, specs)
    except asyncio.CancelledError:
        interrupted = "interrupted by a signal (Ctrl-C or SIGTERM)"
    died = "; ".join(d.summary() for d in progress.deaths.values()) or None
    emit(ev.Comparing(plan.candidates))
    results = await asyncio.to_thread(assess_all, plan, roles, settings)
    add_log_notices(folder.root, results, plan.baseline if plan.kind == "compare" else None)
    complete = interrupted is None and not died and not progress.pending()
    report = build_report(
        results,
        command=list(plan.command),
        complete=complete,
        run=resume.carried(
            earlier,
            {
                "kind": plan.kind,
                **({"shard": plan.shard} if plan.shard else {}),
                "directory": str(folder.root),
                "seconds": round(time.monotonic() - began, 1),
                "interrupted": interrupted or died,
                "server_deaths": progress.death_entries(),
                "targets": [
                    {
                        "target": t,
                        "role": roles.role(t),
                        "start_seconds": progress.started.get(t),
                        "runs": roles.done_count(t, digests),
                        "repeats": roles.repeats.get(t, 0),
                        "rechecks": progress.rechecks.get(t, 0),
                        "restarts": [r.to_json() for r in progress.restarts.get(t, [])],
                        "recorded": t not in roles.live,
                        **progress.network.get(t, {}),
                    }
                    for t in roles.all_targets
                ],
                "pending": progress.pending(),
                "unused_baselines": roles.unused_baselines,
                "no_baseline": roles.no_baseline,
            },
        ),
    )
    written = write_reports(folder.root, report)
    verdict = report["verdict"]
    emit(
        ev.RunFinished(
            verdict["status"],
            verdict["reason"],
            complete,
            written,
            round(time.monotonic() - began, 1),
            tuple(ev.CandidateSummary.of(c) for c in report["comparisons"]),
            len(progress.pending()),
        )
    )
    if interrupted:
        raise asyncio.CancelledError(interrupted)
    if progress.deaths:
        raise _death_error(progress, plan.kind, folder.root)
    return Outcome(
        verdict["status"],
        verdict["reason"],
        complete,
        written,
        folder.root,
        int(VERDICT_EXIT[verdict["status"]]),
        tuple(results),
    )


@dataclass(frozen=True, slots=True)
class Job:
    """What the target drivers share."""

    plan: Plan
    folder: RunFolder
    roles: Roles
    progress: Progress
    settings: Settings
    emit: ev.Emit
    # Set when the baseline has run every scenario once: candidates may then re-check.
    baseline_once: asyncio.Event = field(default_factory=asyncio.Event)
    servers: Mapping[str, RunningTarget] = field(default_factory=dict)  # kept by the caller


async def _run_targets(job: Job, specs: dict[str, TargetSpec]) -> None:
    """Each target starts and runs on its own, so a fast one does not wait for a slow one;
    the first failure stops them all, and every started server is stopped on the way out.
    A candidate with nothing left to run starts only if it has scenarios to re-check."""
    plan, progress = job.plan, job.progress
    needed = [
        t for t in job.roles.live if progress.todo[t] or (plan.recheck and t in plan.candidates)
    ]
    if not needed or not job.roles.selected:  # nothing to run (a shard with no scenario)
        return
    if plan.baseline not in needed or not _left(job, plan.baseline, first_only=True):
        job.baseline_once.set()
    first = tuple(t for t in needed if progress.todo[t])
    if first:
        job.emit(ev.TargetsStarting(first))
    workdir = job.folder.new_servers_dir()

    async def drive(target: str, stack: AsyncExitStack) -> None:
        await _drive(job, target, specs[target], stack, workdir)

    await live.each_target(needed, drive)


async def _drive(
    job: Job, target: str, spec: TargetSpec, stack: AsyncExitStack, workdir: Path
) -> None:
    plan = job.plan
    server: RunningTarget | isolate.Restartable | None = None
    if job.progress.todo[target]:
        server = await _server(job, target, spec, stack, workdir)
        if _died(job, target, await _play(job, target, server, job.progress.todo[target])):
            return
    if target == plan.baseline and plan.recheck:
        again = await asyncio.to_thread(recheck_baseline, plan, job.roles)
    elif target != plan.baseline and plan.recheck:
        await job.baseline_once.wait()
        again = await asyncio.to_thread(recheck_candidates, plan, job.roles, job.settings, target)
    else:
        again = []
    if again:
        if server is None:  # nothing was left to run on it but these
            job.emit(ev.TargetsStarting((target,)))
            server = await _server(job, target, spec, stack, workdir)
        if _died(job, target, await _recheck(job, target, server, again)):
            return
    job.emit(ev.TargetDone(target))


async def _server(
    job: Job, target: str, spec: TargetSpec, stack: AsyncExitStack, workdir: Path
) -> RunningTarget | isolate.Restartable:
    """The target's server: the one given, or one started here, which is restarted afresh
    after a runaway (``isolate``)."""
    plan, progress = job.plan, job.progress
    given = job.servers.get(target)
    server: RunningTarget | isolate.Restartable
    if given is None:
        isolation = plan.isolation(job.roles.selected)
        fresh = live.starter(plan, spec, workdir=workdir, isolation=isolation)
        held = await isolate.Restartable.start(
            fresh, stack, lambda s: _record_network(progress, target, s)
        )
        server, first = held, held.server
    else:
        server = first = given
        stack.callback(_record_network, progress, target, first)  # before the server stops
    progress.started[target] = round(first.start_seconds, 1)
    job.emit(ev.TargetReady(target, first.base_url, first.start_seconds))
    return server


async def _recheck(
    job: Job,
    target: str,
    server: RunningTarget | isolate.Restartable,
    again: list[tuple[Scenario, int]],
) -> SessionSummary | None:
    """Further runs of the scenarios that gate (a candidate) or failed (the baseline)."""
    job.emit(ev.RecheckPlanned(target, tuple(dict.fromkeys(s.name for s, _ in again)), len(again)))
    job.progress.todo[target] = list(again)
    job.progress.rechecks[target] = job.progress.rechecks.get(target, 0) + len(again)
    return await _play(job, target, server, again)


def _died(job: Job, target: str, summary: SessionSummary | None) -> bool:
    """Record the death of ``target``'s server, if it died (``play`` announced it)."""
    if summary is None or summary.death is None:
        return False
    job.progress.deaths[target] = summary.death
    if target == job.plan.baseline:
        job.baseline_once.set()  # candidates re-check against what the baseline finished
    return True


def _death_error(progress: Progress, kind: str, folder: Path) -> ServerDiedError:
    """The exit message: what died and how, where the reports are, each log's last lines."""
    deaths = list(progress.deaths.values())
    left = len(progress.pending())
    logs = "; ".join(f"{d.target}'s log is {d.log}" for d in deaths if d.log)
    message = (
        "; ".join(d.summary() for d in deaths)
        + f". The reports in {folder} cover what finished, marked incomplete"
        + (f"; {left} scenario runs were not made" if left else "")
        + f". Finish the run with: conductor-compat {kind} --resume {folder}"
        + (f". {logs}; the last lines follow." if logs else ".")
    )
    details: list[str] = []
    for death in deaths:
        if len(deaths) > 1:
            details.append(f"-- {death.target} --")
        details += death.log_tail
    return ServerDiedError(message, details=details)


def _record_network(progress: Progress, target: str, server: RunningTarget) -> None:
    """The report's isolation of ``target`` and the calls its namespace refused (summed
    over its servers, when it was restarted)."""
    before = progress.network.get(target, {}).get("blocked")
    isolation, blocked = live.network(server, before if isinstance(before, int) else None)
    progress.network[target] = {"isolation": isolation, "blocked": blocked}


def _left(job: Job, target: str, *, first_only: bool = False) -> int:
    return sum(1 for _, r in job.progress.todo.get(target, []) if r == 1 or not first_only)


async def _play(
    job: Job,
    target: str,
    server: RunningTarget | isolate.Restartable,
    runs: Sequence[tuple[Scenario, int]],
) -> SessionSummary | None:
    if not runs:
        return None
    progress = job.progress

    def relay(event: ev.Event) -> None:
        if isinstance(event, ev.ScenarioFinished):
            progress.finished(target, event.scenario, event.repeat)
            if target == job.plan.baseline and not _left(job, target, first_only=True):
                job.baseline_once.set()
        job.emit(event)

    async def play(
        runs: Sequence[tuple[Scenario, int]], on: RunningTarget, halt: bool, alone: bool
    ) -> SessionSummary:
        traces, jobs = job.folder.traces(target), job.plan.jobs
        return await live.play(
            [], on, traces, jobs, relay, runs=runs, name=target, halt_on_runaway=halt, alone=alone
        )

    def restarted(restart: isolate.Restart, again: list[tuple[Scenario, int]]) -> None:
        progress.todo[target] += again
        progress.restarts.setdefault(target, []).append(restart)
        counts = len(restart.beside), len(restart.suspects), restart.not_run, restart.cut
        job.emit(ev.ServerRestarted(target, restart.threads, *counts))

    if isinstance(server, isolate.Restartable):
        aside = job.folder.root / ASIDE / slug(target)
        took = await asyncio.to_thread(durations.expected, server.server.identity.target)
        return await isolate.play_isolated(runs, server, play, aside, restarted, expected=took)
    return await play(runs, server, False, False)
