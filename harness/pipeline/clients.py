"""The ``clients`` job: real client SDKs played against real servers, and compared.

    validate the clients and targets (bad input fails here, before anything starts)
    build each client's driver, once into the cache (a second run builds nothing)
    in two lanes, each target: its server up, then every client's script on it, one
        client after another, each through the recording proxy; the server stops
    each run becomes a trace of the scenario named after its client (``clients/trace``)
    assess every candidate against the baseline: the same scrub, compare, classify and
        report pipeline as ``compare``, client by client
    write the four reports, and the matrix (``matrix``: clients.json, and clients.md
        from it: every client on every target, and for each call the SDK failed on, the
        exception and the answer behind it)

A client that fails on a server is a finding in the matrix; a driver that hangs or
crashes makes its run an error (the comparison is inconclusive), named with its log.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from harness.classify import RunResult, assess_run
from harness.classify.verdict import combine
from harness.clients.build import BuiltDriver, build, driver_digest
from harness.clients.drive import DriverRun, drive
from harness.clients.known import ClientSpec, parse_client
from harness.clients.trace import client_trace
from harness.errors import HarnessError
from harness.pipeline import events as ev
from harness.pipeline import live
from harness.pipeline.assemble import settings_for
from harness.pipeline.matrix import MATRIX_JSON, matrix
from harness.pipeline.outcome import VERDICT_EXIT, Outcome
from harness.pipeline.plan import Plan, RunFolder, slug
from harness.report import build_report, write_reports
from harness.report.client_matrix import MATRIX_MD, render_matrix
from harness.targets.model import RunningTarget
from harness.traces import load_trace_set, write_trace

LANES = 2  # servers at once: on 2 cores a third starves the others


async def clients(plan: Plan, folder: RunFolder, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    specs = [parse_client(c) for c in plan.clients]
    targets = (plan.baseline, *plan.candidates)
    servers = live.target_specs(targets)
    folder.save(plan)
    built, unbuilt = await asyncio.to_thread(_build_all, specs, emit)
    n = len(built)
    emit(
        ev.RunPlanned(
            folder.root,
            n,
            (
                ev.TargetPlanned(plan.baseline, "baseline", n * plan.baseline_repeats, 0),
                *(ev.TargetPlanned(c, "candidate", n, 0) for c in plan.candidates),
            ),
            False,
            plan,
        )
    )
    emit(ev.TargetsStarting(targets))
    runs: dict[tuple[str, str], DriverRun] = {}
    lanes = asyncio.Semaphore(LANES)
    workdir = folder.new_servers_dir()

    async def lane(name: str, stack: AsyncExitStack) -> None:
        # The baseline plays every client ``baseline_repeats`` times, each time on a server
        # of its own (a script's names are the same each time): what differs between its
        # runs is noise, told apart from a candidate's differences as compare tells it.
        # The repeats take lanes of their own: a script mostly waits (for workers that
        # cannot complete a task on an old server, say), so two of them overlap well.
        repeats = plan.baseline_repeats if name == plan.baseline else 1

        async def once(repeat: int) -> None:
            # its server stops when it is done; two of one target at once need folders of
            # their own (its log, its store, its network namespace's files)
            where = workdir if repeat == 1 else workdir / f"run{repeat}"
            async with lanes, AsyncExitStack() as own:
                server = await live.start(
                    plan, servers[name], workdir=where, stack=own, isolation=plan.isolation(())
                )
                emit(ev.TargetReady(name, server.base_url, server.start_seconds))
                for driver in built:
                    await play(name, driver, server, repeat)

        async with asyncio.TaskGroup() as group:
            for repeat in range(1, repeats + 1):
                group.create_task(once(repeat))
        emit(ev.TargetDone(name))

    async def play(name: str, driver: BuiltDriver, server: RunningTarget, repeat: int) -> None:
        client = driver.spec.name
        emit(ev.ScenarioStarted(name, client, repeat))
        run_name = slug(client) if repeat == 1 else f"{slug(client)}.run{repeat}"
        out = folder.root / "clients" / slug(name) / run_name
        at = _now()
        run = await drive(
            driver,
            name,
            f"{server.base_url}/api",
            out,
            prefix=_prefix(driver.spec),
            script_timeout_s=plan.script_timeout_s,
        )
        trace = client_trace(
            run,
            server.identity.to_json(),
            description=f"the client script of {client} (docs/client-drivers.md)",
            file=str(driver.spec.source),
            digest=driver_digest(driver.spec),
            started_at=at,
            finished_at=_now(),
        )
        if repeat > 1:
            trace["repeat"] = repeat
        path = await asyncio.to_thread(write_trace, folder.traces(name), trace)
        if repeat == 1:
            runs[(name, client)] = run
        outcome = trace["outcome"]
        emit(
            ev.ScenarioFinished(
                name, client, repeat, outcome["status"], outcome["reason"], run.seconds, path
            )
        )

    await live.each_target(targets, lane)
    emit(ev.Comparing(plan.candidates))
    results = await asyncio.to_thread(_assess, plan, folder, [s.name for s in specs])
    report = await asyncio.to_thread(build_report, results, command=list(plan.command))
    report["clients"] = matrix(
        plan.baseline, plan.candidates, specs, runs, results, unbuilt=unbuilt
    )
    written = await asyncio.to_thread(_write, folder.root, report)
    status, reason = combine(results)
    emit(
        ev.RunFinished(
            status,
            reason,
            True,
            written,
            round(time.monotonic() - began, 1),
            tuple(ev.CandidateSummary.of(c) for c in report["comparisons"]),
        )
    )
    code = int(VERDICT_EXIT[status])
    return Outcome(status, reason, True, written, folder.root, code, tuple(results))


def _write(root: Path, report: dict[str, Any]) -> dict[str, Path]:
    """The four reports (report.md with the matrix's table), clients.json and clients.md."""
    written = write_reports(root, report)
    as_json, as_md = root / MATRIX_JSON, root / MATRIX_MD
    as_json.write_text(json.dumps(report["clients"], indent=2) + "\n", encoding="utf-8")
    as_md.write_text(render_matrix(report["clients"]), encoding="utf-8")
    return {**written, MATRIX_JSON: as_json, MATRIX_MD: as_md}


def _build_all(specs: list[ClientSpec], emit: ev.Emit) -> tuple[list[BuiltDriver], dict[str, str]]:
    """Every driver that builds, and why each other did not: a client that cannot be built
    here (a JDK missing, a registry refusing) is that client's finding, not the run's end."""
    built: list[BuiltDriver] = []
    unbuilt: dict[str, str] = {}
    for spec in specs:
        try:
            built.append(build(spec))
        except HarnessError as exc:
            unbuilt[spec.name] = exc.message
            emit(ev.ClientNotBuilt(spec.name, unbuilt[spec.name]))
    if not built:
        raise HarnessError(
            "no client's driver could be built: "
            + "; ".join(f"{c}: {w}" for c, w in unbuilt.items())
        )
    return built, unbuilt


def _prefix(spec: ClientSpec) -> str:
    """The names a client's script registers begin with this: the same on every server,
    so that names compare equal; each server has the client's run to itself."""
    return "cc_" + "".join(c if c.isalnum() else "_" for c in spec.name)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _assess(plan: Plan, folder: RunFolder, names: list[str]) -> list[RunResult]:
    settings = settings_for(plan)
    baseline = load_trace_set(folder.traces(plan.baseline))
    return [
        assess_run(baseline, load_trace_set(folder.traces(c)), settings, names=names)
        for c in plan.candidates
    ]
