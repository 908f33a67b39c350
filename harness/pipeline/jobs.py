"""One entry for every kind of job: a ``Plan`` in, events out as it goes, an ``Outcome``
back."""

from __future__ import annotations

from pathlib import Path

from harness.pipeline import events as ev
from harness.pipeline.bisect import bisect
from harness.pipeline.check import check
from harness.pipeline.clients import clients
from harness.pipeline.execute import execute
from harness.pipeline.explore import explore
from harness.pipeline.merge import merge
from harness.pipeline.outcome import Outcome
from harness.pipeline.plan import Plan, RunFolder, default_folder
from harness.pipeline.record import record
from harness.pipeline.recorded import diff
from harness.pipeline.upgrade import upgrade


async def run_plan(
    plan: Plan, on_event: ev.Emit, *, folder: RunFolder | None = None, resumed: bool = False
) -> Outcome:
    """Run ``plan``, whatever its kind, giving each event to ``on_event``.

    compare and gate write into ``folder`` (by default the plan's ``out``, or a new folder
    under reports/); ``resumed``: the folder holds an interrupted run of this plan. Bad input
    fails before anything starts; a server that dies mid-run raises ``ServerDiedError``
    after the ``RunFinished`` event; Ctrl-C (cancellation) stops every server first.
    """
    if plan.kind in ("compare", "gate", "upgrade", "clients"):
        if folder is None and plan.out:
            folder = RunFolder(Path(plan.out))
        folder = folder or default_folder(Path("reports"), plan)
        if plan.kind == "upgrade":
            return await upgrade(plan, folder, on_event)
        if plan.kind == "clients":
            return await clients(plan, folder, on_event)
        return await execute(plan, folder, on_event, resumed=resumed)
    if plan.kind == "run":
        return await record(plan, on_event)
    if plan.kind == "check":
        return await check(plan, on_event)
    if plan.kind == "merge":
        return await merge(plan, on_event)
    if plan.kind == "bisect":
        return await bisect(plan, on_event)
    if plan.kind == "explore":
        return await explore(plan, on_event)
    return await diff(plan, on_event)
