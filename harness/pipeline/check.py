"""The ``targets check`` job: each target started, the smoke check run on it, stopped.

Every target starts at once and is stopped as soon as its check ends, before its
``TargetChecked`` event. A target that does not start is a failed check with the error's
exit code, not an error of the job: the others go on. Errors that are not the harness's
own (bugs) stop the job.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

from harness.errors import CompatError, ExitCode, HarnessError
from harness.pipeline import events as ev
from harness.pipeline import live
from harness.pipeline.outcome import Outcome, TargetCheck
from harness.pipeline.plan import Plan
from harness.targets.check import CheckResult, run_check
from harness.targets.model import RunningTarget
from harness.targets.spec import TargetSpec


async def check(plan: Plan, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    specs = live.target_specs(plan.targets)
    workdir = live.server_workdir(plan)
    names = tuple(specs)
    planned = tuple(ev.TargetPlanned(n, "target", 0, 0) for n in names)
    emit(ev.RunPlanned(workdir, 0, planned, False, plan))
    emit(ev.TargetsStarting(names))
    checks = await asyncio.gather(*(_one(plan, n, specs[n], workdir, emit) for n in names))
    failed = [c for c in checks if c.exit_code != ExitCode.OK]
    verdict = "failed" if failed else "passed"
    reason = f"{len(checks) - len(failed)} of {len(checks)} targets passed"
    emit(ev.RunFinished(verdict, reason, True, seconds=round(time.monotonic() - began, 1)))
    code = failed[0].exit_code if failed else int(ExitCode.OK)
    return Outcome(verdict, reason, True, {}, workdir, code, checks=tuple(checks))


async def _one(
    plan: Plan, name: str, spec: TargetSpec, workdir: Path, emit: ev.Emit
) -> TargetCheck:
    server: RunningTarget | None = None
    result: CheckResult | None = None
    error: CompatError | None = None
    async with AsyncExitStack() as stack:  # this target is stopped before its event
        try:
            server = await live.start(
                plan, spec, workdir=workdir, stack=stack, isolation=plan.isolation(())
            )
            emit(ev.TargetReady(name, server.base_url, server.start_seconds))
            result = await run_check(server)
        except CompatError as exc:
            error = exc
    if error is not None or result is None:
        message = error.message if isinstance(error, HarnessError) else str(error)
        emit(ev.TargetChecked(name, False, message, 0.0))
        code = error.exit_code if error is not None else ExitCode.HARNESS_ERROR
        return TargetCheck(name, int(code), server, None, error)
    emit(ev.TargetChecked(name, result.passed, result.detail, result.seconds))
    emit(ev.TargetDone(name))
    code = ExitCode.OK if result.passed else ExitCode.FINDING
    return TargetCheck(name, int(code), server, result)
