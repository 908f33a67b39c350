"""One round of an upgrade: one store, the old server on it, every scenario played to its
switch point, one switch, the rest on the new server.

    a network namespace (when isolation is enforced) and the store (postgres or redis),
        in a folder of the round's own under the run's servers folder
    the old server starts on the store; every run plays to its switch point (or ends)
    the switch: the old server stops (SIGTERM, or SIGKILL with --kill), the new one starts
        on the same store
    every run goes on with the new server; each trace is written as it finishes
    everything stops when the caller's stack closes

``Stage`` holds what every round of a job shares; the ``upgrade`` job plays its first
round, its later switch points and its re-checks through it.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import BadInputError
from harness.pipeline import events as ev
from harness.pipeline.plan import Plan, RunFolder
from harness.runner.across import run_across
from harness.runner.session import ScenarioFinished
from harness.scenarios import Scenario
from harness.targets import netns, process
from harness.targets.model import Isolation, RunningTarget
from harness.targets.profiles import Profile
from harness.targets.spec import TargetSpec
from harness.targets.stores import start_store

ARROW = "→"


def across_label(old: str, new: str) -> str:
    """The name of an upgrade's traces and report column: 'netflix:3.15.0→oss:3.32.1'."""
    return f"{old}{ARROW}{new}"


@dataclass(slots=True)
class Stage:
    """What the rounds of one job share: its plan and folders, the targets' specs, the
    store's profile and the isolation of the servers."""

    plan: Plan
    folder: RunFolder
    specs: dict[str, TargetSpec]
    profile: Profile
    isolation: Isolation
    workdir: Path  # the run's servers folder: each round's store and servers are under it

    async def round(
        self,
        frm: str,
        to: str,
        label: str,
        scenarios: list[Scenario],
        *,
        stack: AsyncExitStack,
        emit: ev.Emit,
        repeat: int = 1,
    ) -> tuple[ScenarioFinished, ...]:
        """One store, the server ``frm`` on it, every run to its switch point, the switch,
        the rest on the server ``to``; the traces under ``label``, numbered ``repeat``."""
        plan, profile, isolation = self.plan, self.profile, self.isolation
        own = "across-" + self.folder.traces(label).name + (f"-run{repeat}" if repeat > 1 else "")
        run_dir = (self.workdir / own).resolve()
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
            repeat=repeat,
        )
        return summary.finished
