"""The ``run`` job: scenarios on one or more live targets, traces only (no comparison).

    validate scenarios and settings (bad input fails here, before anything starts)
    start every target in parallel; each plays every scenario as soon as it is ready
    stop the targets (whatever happens)

One target writes its traces straight into the plan's ``out``; several write them into
``out/<target>/``. The outcome's exit code is the worst run's: 3 when a scenario ended
with an error, 1 when an expectation failed, 0 otherwise. A server that dies mid-run
ends its own runs there (the others go on), and ``ServerDiedError`` (exit 4) says it
last, after the ``RunFinished`` event. A server thread that runs without pause restarts
its server, and what ran beside it is played again (``isolate``); the traces it spoilt
are kept under ``beside-runaway/``, never read as traces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from harness.errors import ExitCode, ServerDiedError
from harness.pipeline import durations, isolate, live
from harness.pipeline import events as ev
from harness.pipeline.outcome import Outcome
from harness.pipeline.plan import Plan, slug
from harness.runner import SessionSummary
from harness.scenarios import require_valid
from harness.targets.model import RunningTarget
from harness.traces import ASIDE

STATUSES = ("completed", "not_applicable", "failed_expectation", "error")


async def record(plan: Plan, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    scenarios = require_valid(
        [Path(p) for p in plan.paths], allow_outbound=plan.allow_outbound, limits=plan.limits()
    )
    specs = live.target_specs(plan.targets)
    names = list(specs)
    out = Path(plan.out or ".")
    folders = {n: out if len(names) == 1 else out / slug(n) for n in names}
    isolation = plan.isolation(scenarios)
    workdir = live.server_workdir(plan)
    runs = len(scenarios) * plan.repeats
    planned = tuple(ev.TargetPlanned(n, "target", runs, 0) for n in names)
    emit(ev.RunPlanned(out, len(scenarios), planned, False, plan))
    emit(ev.TargetsStarting(tuple(names)))
    summaries: dict[str, SessionSummary] = {}
    network: dict[str, tuple[str, int | None]] = {}

    async def drive(name: str, stack: AsyncExitStack) -> None:
        def stopping(server: RunningTarget) -> None:
            network[name] = live.network(server, network.get(name, ("", None))[1])

        fresh = live.starter(plan, specs[name], workdir=workdir, isolation=isolation)
        held = await isolate.Restartable.start(fresh, stack, stopping)
        emit(ev.TargetReady(name, held.server.base_url, held.server.start_seconds))

        async def play(
            runs: Sequence[isolate.Run], on: RunningTarget, halt: bool, alone: bool
        ) -> SessionSummary:
            return await live.play(
                [],
                on,
                folders[name],
                plan.jobs,
                emit,
                runs=runs,
                name=name,
                keep_poll_bodies=plan.keep_poll_bodies,
                halt_on_runaway=halt,
                alone=alone,
            )

        def restarted(restart: isolate.Restart, again: list[isolate.Run]) -> None:
            counts = len(restart.beside), len(restart.suspects), restart.not_run, restart.cut
            emit(ev.ServerRestarted(name, restart.threads, *counts))

        every = [(s, r) for r in range(1, plan.repeats + 1) for s in scenarios]
        aside = folders[name] / ASIDE
        took = await asyncio.to_thread(durations.expected, held.server.identity.target)
        summaries[name] = summary = await isolate.play_isolated(
            every, held, play, aside, restarted, expected=took
        )
        if summary.death is None:
            emit(ev.TargetDone(name))

    await live.each_target(names, drive)
    sessions = tuple(summaries[n] for n in names)
    totals = {s: sum(x.count(s) for x in sessions) for s in STATUSES}
    verdict, code = _verdict(totals)
    reason = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in totals.items())
    died = [s for s in sessions if s.death is not None]
    emit(
        ev.RunFinished(
            verdict,
            reason,
            not died,
            seconds=round(time.monotonic() - began, 1),
            runs=tuple(
                ev.TargetRuns(
                    s.target,
                    {status: s.count(status) for status in STATUSES},
                    s.seconds,
                    folders[s.target],
                    *network[s.target],
                )
                for s in sessions
            ),
        )
    )
    if died:
        raise _death_error(died, out)
    return Outcome(verdict, reason, True, {}, out, int(code), sessions=sessions)


def _verdict(totals: dict[str, int]) -> tuple[str, ExitCode]:
    if totals["error"]:
        return "error", ExitCode.INCONCLUSIVE
    if totals["failed_expectation"]:
        return "failed_expectation", ExitCode.FINDING
    return "completed", ExitCode.OK


def _death_error(died: list[SessionSummary], out: Path) -> ServerDiedError:
    """What died and how, where the traces of what finished are, each log's last lines."""
    deaths = [s.death for s in died if s.death is not None]
    not_run = sum(len(s.not_run) for s in died)
    logs = [d for d in deaths if d.log]
    message = (
        "; ".join(d.summary() for d in deaths)
        + f". The traces of what finished are in {out}"
        + (f"; {not_run} scenario runs were not made" if not_run else "")
    )
    if not logs:
        message += "."
    elif len(deaths) == 1:
        message += f". Its log is {deaths[0].log}; the last lines follow."
    else:
        named = "; ".join(f"{d.target}'s log is {d.log}" for d in logs)
        message += f". {named}; the last lines follow."
    details: list[str] = []
    for death in deaths:
        if len(deaths) > 1:
            details.append(f"-- {death.target} --")
        details += death.log_tail
    return ServerDiedError(message, details=details)
