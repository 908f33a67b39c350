"""What the live jobs share: targets started with a plan's settings, each driven on its own
under one exit stack, and scenarios played on a server that is already running."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from harness.pipeline import durations
from harness.pipeline import events as ev
from harness.pipeline.plan import Plan
from harness.runner import DEFAULT_JOBS, SessionSummary, run_session
from harness.scenarios import Scenario
from harness.targets import get_profile
from harness.targets.locks import find_lock
from harness.targets.maven import cache_dir
from harness.targets.model import Isolation, RunningTarget
from harness.targets.provision import start_target
from harness.targets.spec import TargetSpec, parse_target


async def play(
    scenarios: Sequence[Scenario],
    server: RunningTarget,
    out: Path,
    jobs: int = DEFAULT_JOBS,
    on_event: ev.Emit | None = None,
    *,
    repeats: int = 1,
    runs: Sequence[tuple[Scenario, int]] | None = None,
    name: str | None = None,
    keep_poll_bodies: bool = False,
    halt_on_runaway: bool = False,
    alone: bool = False,
) -> SessionSummary:
    """Play ``scenarios`` (``repeats`` times each, or exactly ``runs``) on ``server``, a
    target the caller started and keeps for as many plays as it likes; ``jobs`` at a time,
    each trace written to ``out`` as it finishes.

    ``on_event`` gets ``ScenarioStarted`` and ``ScenarioFinished`` for every run, and
    ``TargetDied`` if the server dies mid-play; the summary then carries the death and the
    runs never made (nothing is raised). Events name the target ``name`` (by default, its
    identity). The runs start longest first, as they last took on this target
    (``durations``), and their times are remembered for the next play. ``halt_on_runaway``
    and ``alone``: as ``run_session``'s (``isolate`` plays again what a runaway spoilt).
    """
    target = server.identity.target
    summary = await run_session(
        scenarios,
        server,
        out,
        jobs=jobs,
        emit=on_event,
        keep_poll_bodies=keep_poll_bodies,
        repeats=repeats,
        runs=runs,
        name=name,
        expected=await asyncio.to_thread(durations.expected, target),
        halt_on_runaway=halt_on_runaway,
        alone=alone,
    )
    took = [(f.scenario, f.seconds) for f in summary.finished]
    await asyncio.to_thread(durations.remember, target, took)
    death = summary.death
    if death is not None and on_event is not None:
        on_event(
            ev.TargetDied(
                summary.target, death.summary(), death.log, death.log_tail, len(summary.not_run)
            )
        )
    return summary


def target_specs(texts: Iterable[str]) -> dict[str, TargetSpec]:
    """Each target by its name (``oss:3.32.1``); an unknown one fails here, before any
    server starts."""
    specs = {}
    for text in texts:
        spec = parse_target(text)
        if not spec.is_remote:
            find_lock(spec)
        specs[str(spec)] = spec
    return specs


def server_workdir(plan: Plan) -> Path:
    """Where a run's or check's servers keep their logs and state."""
    if plan.workdir:
        return Path(plan.workdir)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return cache_dir() / "runs" / f"{stamp}-{os.getpid()}"


async def start(
    plan: Plan, spec: TargetSpec, *, workdir: Path, stack: AsyncExitStack, isolation: Isolation
) -> RunningTarget:
    """One target up with the plan's settings; its teardown goes on ``stack``."""
    return await start_target(
        spec,
        profile=get_profile(plan.profile, plan.server_properties),
        workdir=workdir,
        stack=stack,
        runtime=plan.runtime,
        ready_timeout_s=plan.ready_timeout_s,
        docker=plan.docker_settings(),
        isolation=isolation,
        boot_jar=plan.boot_jar,
        jit=plan.jit,
    )


def starter(
    plan: Plan, spec: TargetSpec, *, workdir: Path, isolation: Isolation
) -> Callable[[AsyncExitStack, int], Coroutine[Any, Any, RunningTarget]]:
    """How to start ``spec`` afresh, again and again (``isolate.Restartable``): the first
    server's files in ``workdir``, the n-th restart's in ``workdir/restart-n``."""

    async def fresh(own: AsyncExitStack, restarts: int) -> RunningTarget:
        where = workdir / f"restart-{restarts}" if restarts else workdir
        return await start(plan, spec, workdir=where, stack=own, isolation=isolation)

    return fresh


async def each_target(
    names: Sequence[str], drive: Callable[[str, AsyncExitStack], Coroutine[Any, Any, None]]
) -> None:
    """``drive`` every target at once, so a fast one does not wait for a slow one; the
    first failure stops them all, and every server started on the stack is stopped on the
    way out."""
    async with AsyncExitStack() as stack:
        try:
            async with asyncio.TaskGroup() as group:
                for name in names:
                    group.create_task(drive(name, stack))
        except BaseExceptionGroup as failed:
            raise first_error(failed) from None


def network(server: RunningTarget, before: int | None = None) -> tuple[str, int | None]:
    """The server's isolation, and the outbound calls its namespace refused (added to
    ``before``: those of the target's earlier servers, when it was restarted)."""
    blocked = server.blocked() if server.blocked else None
    if blocked is not None and before is not None:
        blocked += before
    return server.identity.isolation, blocked


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The error that stopped the run (the others are its consequences)."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return first_error(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group
