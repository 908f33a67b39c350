"""Runs that ended beside a server thread that never stopped (``runner/runaway.py``).

Scenarios share their target's server. When one of them makes the server decide without
end, the thread deciding it runs on for as long as the server does, and if it is a
sweeper's, nothing on that server is swept any more: another scenario's step that waits
for a sweep then stops for that reason, not its own. The traces of the runs that ended
after such a thread was found say so (``outcome.runaway_threads``); the report names the
thread and those runs in a notice, so that their findings are read with it. A server
started here is restarted instead, and those runs played again (``pipeline/isolate.py``):
a run that, alone on a fresh server, made a thread run without pause is the cause, and
its notice says so.
"""

from __future__ import annotations

from harness.traces import TraceSet

SHOWN = 5  # scenario names a notice lists


def runaway_notices(traces: TraceSet, side: str) -> list[str]:
    """One notice for ``side`` ('the baseline', or the candidate's target) when runs of
    ``traces`` ended beside a runaway server thread."""
    threads: dict[str, tuple[str, float]] = {}  # thread -> (first seen since, most CPU)
    scenarios: list[str] = []
    causes: dict[str, list[str]] = {}  # scenario -> the threads its runs alone spun
    runs = 0
    for name in sorted(traces.runs):
        beside = False
        for _, trace in traces.runs[name]:
            found = (trace.get("outcome") or {}).get("runaway_threads") or []
            if found and all(r.get("alone") for r in found):
                causes.setdefault(name, []).extend(r["thread"] for r in found)
                continue
            if not found:
                continue
            beside, runs = True, runs + 1
            for r in found:
                since, cpu = threads.get(r["thread"], (r["since"], 0.0))
                threads[r["thread"]] = (min(since, r["since"]), max(cpu, float(r["cpu_s"])))
        if beside:
            scenarios.append(name)
    notices = [_cause(side, name, spun) for name, spun in causes.items()]
    if not threads:
        return notices
    shown = "; ".join(
        f"'{thread}' from {since}, {cpu:.0f} CPU-s or more"
        for thread, (since, cpu) in sorted(threads.items(), key=lambda t: t[1][0])
    )
    names = ", ".join(scenarios[:SHOWN]) + (
        f" and {len(scenarios) - SHOWN} more" if len(scenarios) > SHOWN else ""
    )
    notice = (
        f"on {side}, server threads ran without pause, a decision that never ends "
        f"({shown}); {_count(runs, 'run')} of {_count(len(scenarios), 'scenario')} ended "
        f"after that was found ({names}): a step of theirs that waited for that server's "
        "sweeps may have stopped for that reason, not its scenario's"
    )
    return [*notices, notice]


def _cause(side: str, scenario: str, threads: list[str]) -> str:
    named = ", ".join(f"'{t}'" for t in dict.fromkeys(threads))
    return (
        f"on {side}, {scenario}, played alone on a server started afresh for it, made server "
        f"threads run without pause ({named}): a decision that never ends, this scenario's own "
        "finding; the runs that had ended beside it were played again on a fresh server"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
