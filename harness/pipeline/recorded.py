"""Comparisons of recorded traces, with no server: the ``diff`` job, and the assessment and
reports that ``merge`` makes the same way.

    read the judgement (scrub, severity, catalogs, acceptances): bad input fails here
    read both trace directories (a missing, empty or foreign one is bad input)
    assess each candidate against the baseline, one ``ScenarioAssessed`` per scenario
    write the four reports into the plan's ``out``

The assessment runs in a worker thread; its events reach ``emit`` on the event loop's
thread, in order, before the job returns.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.classify import RunResult, ScenarioResult, Settings, assess_run
from harness.classify.assess import Views
from harness.pipeline import events as ev
from harness.pipeline.assemble import settings_for
from harness.pipeline.outcome import VERDICT_EXIT, Outcome
from harness.pipeline.plan import Plan
from harness.report import build_report, write_reports
from harness.traces import TraceSet, load_trace_set


async def diff(plan: Plan, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    out = Path(plan.out or ".")
    settings = await asyncio.to_thread(settings_for, plan)
    baseline = await asyncio.to_thread(load_trace_set, Path(plan.baseline))
    candidate = await asyncio.to_thread(load_trace_set, Path(plan.candidates[0]))
    emit(
        ev.RunPlanned(
            out,
            len(set(baseline.runs) | set(candidate.runs)),
            (recorded(baseline, "baseline"), recorded(candidate, "candidate")),
            False,
            plan,
        )
    )
    return await compare_recorded(
        plan, baseline, [candidate], emit, out=out, settings=settings, began=began
    )


async def compare_recorded(
    plan: Plan,
    baseline: TraceSet,
    candidates: Sequence[TraceSet],
    emit: ev.Emit,
    *,
    out: Path,
    settings: Settings,
    began: float,
    names: Sequence[str] | None = None,
    complete: bool = True,
    run: dict[str, Any] | None = None,
) -> Outcome:
    """Each candidate's traces against the baseline's (every scenario of either, or
    ``names``), one report with a column per candidate, written into ``out``."""
    loop = asyncio.get_running_loop()
    emit(ev.Comparing(tuple(target_name(c) for c in candidates)))
    views = Views()  # the baseline is scrubbed once for every candidate
    results: list[RunResult] = []
    for candidate in candidates:
        name = target_name(candidate)

        def assessed(result: ScenarioResult, name: str = name) -> None:  # a worker thread
            counts = Counter(f.disposition for f in result.findings)
            event = ev.ScenarioAssessed(
                name, result.name, result.verdict, result.reason, dict(counts)
            )
            loop.call_soon_threadsafe(emit, event)

        results.append(
            await asyncio.to_thread(
                assess_run,
                baseline,
                candidate,
                settings,
                on_scenario=assessed,
                names=names,
                views=views,
            )
        )
    report = await asyncio.to_thread(
        build_report, results, command=list(plan.command), complete=complete, run=run
    )
    written = await asyncio.to_thread(write_reports, out, report)
    verdict = report["verdict"]
    emit(
        ev.RunFinished(
            verdict["status"],
            verdict["reason"],
            complete,
            written,
            round(time.monotonic() - began, 1),
            tuple(ev.CandidateSummary.of(c) for c in report["comparisons"]),
            len((run or {}).get("pending") or []),
        )
    )
    code = int(VERDICT_EXIT[verdict["status"]])
    return Outcome(
        verdict["status"], verdict["reason"], complete, written, out, code, tuple(results)
    )


def target_name(traces: TraceSet) -> str:
    return str(traces.target.get("target") or traces.directory)


def recorded(traces: TraceSet, role: str) -> ev.TargetPlanned:
    """A target whose traces are read, not made."""
    runs = sum(len(r) for r in traces.runs.values())
    return ev.TargetPlanned(
        target_name(traces), role, 0, runs, recorded=True, scenarios=len(traces.runs)
    )
