"""The ``diff`` job: two recorded trace directories compared, with no server.

    read the judgement (scrub, severity, catalogs, acceptances): bad input fails here
    read both trace directories (a missing, empty or foreign one is bad input)
    assess the candidate against the baseline, one ``ScenarioAssessed`` per scenario
    write the four reports into the plan's ``out``

The assessment runs in a worker thread; its events reach ``emit`` on the event loop's
thread, in order, before the job returns.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from harness.classify import RunResult, ScenarioResult, assess_run
from harness.pipeline import events as ev
from harness.pipeline.assemble import settings_for
from harness.pipeline.outcome import VERDICT_EXIT, Outcome
from harness.pipeline.plan import Plan
from harness.report import build_report, write_reports
from harness.traces import TraceSet, load_trace_set


async def diff(plan: Plan, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    loop = asyncio.get_running_loop()

    def emit_soon(event: ev.Event) -> None:  # from the worker thread
        loop.call_soon_threadsafe(emit, event)

    out = Path(plan.out or ".")
    settings = await asyncio.to_thread(settings_for, plan)
    baseline = await asyncio.to_thread(load_trace_set, Path(plan.baseline))
    candidate = await asyncio.to_thread(load_trace_set, Path(plan.candidates[0]))
    emit(
        ev.RunPlanned(
            out,
            len(set(baseline.runs) | set(candidate.runs)),
            (_recorded(baseline, "baseline"), _recorded(candidate, "candidate")),
            False,
            plan,
        )
    )
    name = _name(candidate)
    emit(ev.Comparing((name,)))

    def assessed(result: ScenarioResult) -> None:
        counts = Counter(f.disposition for f in result.findings)
        emit_soon(
            ev.ScenarioAssessed(name, result.name, result.verdict, result.reason, dict(counts))
        )

    result: RunResult = await asyncio.to_thread(
        assess_run, baseline, candidate, settings, on_scenario=assessed
    )
    report = await asyncio.to_thread(build_report, result, command=list(plan.command))
    written = await asyncio.to_thread(write_reports, out, report)
    emit(
        ev.RunFinished(
            result.verdict,
            result.reason,
            True,
            written,
            round(time.monotonic() - began, 1),
            tuple(ev.CandidateSummary.of(c) for c in report["comparisons"]),
        )
    )
    code = int(VERDICT_EXIT[result.verdict])
    return Outcome(result.verdict, result.reason, True, written, out, code, (result,))


def _name(traces: TraceSet) -> str:
    return str(traces.target.get("target") or traces.directory)


def _recorded(traces: TraceSet, role: str) -> ev.TargetPlanned:
    runs = sum(len(r) for r in traces.runs.values())
    return ev.TargetPlanned(_name(traces), role, 0, runs, recorded=True, scenarios=len(traces.runs))
