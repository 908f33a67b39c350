"""The ``explore`` job: generated scenarios on two live targets, each unexplained
difference shrunk to a scenario file.

    start the baseline and the candidate (once, side by side)
    search (explore/search.py, in a worker thread): each drawing is rendered to a
        scenario file and played on both targets at once; the two traces are compared
        as ``compare`` does, with the catalog of changes (less --without-change)
    a drawing that shows an unexplained difference is played again on both until each
        has ``--explore-runs`` runs; a difference counts when it shows in at least
        ``--reproduce`` of them (noise, the baseline's own variation, is told apart then)
    each finding's final scenario is played ``--confirm-runs`` more times on both: one
        that the baseline's own runs then show both ways is a race, listed apart
    write each finding: OUT/scenarios/explore-<fingerprint>.yaml (ready for the library),
        OUT/findings/<fingerprint>/ (its traces), explore.json and explore.md
    stop the targets (whatever happens)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import random
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from harness.classify import Settings
from harness.classify.catalog import Catalog
from harness.errors import BadInputError, ExitCode
from harness.explore.render import render
from harness.explore.search import Abort, Found, Search, Tally
from harness.explore.strategies import Drawn
from harness.pipeline import events as ev
from harness.pipeline import live
from harness.pipeline.assemble import settings_for
from harness.pipeline.explore_pair import Pair, Race
from harness.pipeline.explore_write import Files, write_findings
from harness.pipeline.outcome import Outcome
from harness.pipeline.plan import Plan, slug
from harness.targets.maven import cache_dir
from harness.targets.model import RunningTarget
from harness.targets.spec import TargetSpec


def without(settings: Settings, ids: tuple[str, ...]) -> Settings:
    """The settings with these changes taken out of the catalog (a control: the search
    should find what they explained again)."""
    if not ids:
        return settings
    known = {c.id for c in settings.catalog.changes}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise BadInputError(
            f"--without-change: no change {', '.join(unknown)} in the catalog "
            "(`conductor-compat changes` lists them)"
        )
    kept = tuple(c for c in settings.catalog.changes if c.id not in ids)
    return dataclasses.replace(settings, catalog=Catalog(settings.catalog.files, kept))


async def _in_thread(function: Callable[[], object]) -> None:
    """``function`` in a daemon thread: an interrupted run does not wait for a drawing in
    progress (Hypothesis cannot be cancelled), it ends and its servers stop."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if not done.done():
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            function()
        except BaseException as exc:  # noqa: BLE001 (handed to the event loop, raised there)
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=run, name="explore-search", daemon=True).start()
    await done


def _since(began: float) -> float:
    return round(time.monotonic() - began, 1)


def _made(
    seed: int, search: Search, pair: Pair, began: float, races: dict[str, Race] | None = None
) -> dict[str, Any]:
    """What ``write_findings`` needs of the search so far."""
    return {
        "seed": seed,
        "found": list(search.found),
        "memo": pair.memo,
        "tally": search.tally,
        "seconds": _since(began),
        "races": races or {},
    }


async def _confirm(
    pair: Pair, found: list[Found], extra: int, emit: ev.Emit, keep: Callable[[], object]
) -> dict[str, Race]:
    """Each finding's scenario played ``extra`` more times on both targets: the races
    among them (by signature), which the first few runs happened not to reveal. If it
    cannot finish (a server died, Ctrl-C), ``keep`` writes the findings as they are."""
    try:
        return await _confirming(pair, found, extra, emit)
    except BaseException:
        keep()
        raise


async def _confirming(pair: Pair, found: list[Found], extra: int, emit: ev.Emit) -> dict[str, Race]:
    races: dict[str, Race] = {}
    if extra <= 0:
        return races
    for finding in found:
        name = str(render(finding.drawn)["name"])
        shown = pair.memo.get(name)
        if shown is None or finding.signature not in shown.unexplained:
            continue
        race = await pair.confirm(name, finding.signature, extra)
        if race is not None:
            races[finding.signature] = race
        why = race.why if race else "it holds"
        emit(ev.ExploreConfirmed(finding.signature, pair.memo[name].runs, race is not None, why))
    return races


async def _start(
    plan: Plan,
    specs: dict[str, TargetSpec],
    workdir: Path,
    stack: AsyncExitStack,
    emit: ev.Emit,
) -> dict[str, RunningTarget]:
    """Both targets up at once; each stops when ``stack`` closes."""
    servers: dict[str, RunningTarget] = {}

    async def up(name: str) -> None:
        servers[name] = await live.start(
            plan, specs[name], workdir=workdir, stack=stack, isolation=plan.isolation([])
        )
        emit(ev.TargetReady(name, servers[name].base_url, servers[name].start_seconds))

    try:
        async with asyncio.TaskGroup() as group:
            for name in specs:
                group.create_task(up(name))
    except BaseExceptionGroup as failed:
        raise live.first_error(failed) from None
    return servers


def database_for(plan: Plan, settings: Settings) -> Path:
    """Hypothesis's example database for this pair and this catalog: its failing examples
    replay first. A catalog with other changes (a control's, a newer one) has its own."""
    changes = ",".join(sorted(c.id for c in settings.catalog.changes))
    digest = hashlib.sha256(changes.encode()).hexdigest()[:10]
    pair = f"{slug(plan.baseline)}-vs-{slug(plan.candidates[0])}"
    return cache_dir() / "explore" / f"{pair}-catalog-{digest}"


async def explore(plan: Plan, emit: ev.Emit) -> Outcome:
    began = time.monotonic()
    settings = without(settings_for(plan), plan.without_changes)
    baseline, candidate = plan.baseline, plan.candidates[0]
    specs = live.target_specs([baseline, candidate])
    out = Path(str(plan.out)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    seed = plan.seed if plan.seed is not None else random.SystemRandom().randrange(2**32)
    emit(
        ev.RunPlanned(
            out,
            0,
            (
                ev.TargetPlanned(baseline, "baseline", 0, 0),
                ev.TargetPlanned(candidate, "candidate", 0, 0),
            ),
            False,
            plan,
        )
    )
    emit(ev.TargetsStarting((baseline, candidate)))
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        servers = await _start(plan, specs, out / "servers", stack, emit)
        pair = Pair(
            servers,
            baseline,
            candidate,
            out / "work",
            settings,
            runs=plan.explore_runs,
            needed=plan.reproduce,
        )

        def check(example: Drawn, phase: str) -> tuple[str, ...]:  # the search's thread
            future = asyncio.run_coroutine_threadsafe(pair.observe(render(example)), loop)
            while True:
                if search.stop.is_set():
                    future.cancel()
                    raise Abort(None)
                try:
                    return future.result(timeout=1).worst_first()
                except TimeoutError:
                    continue
                except Exception as exc:  # a server died, a trace could not be read
                    raise Abort(exc) from exc

        def shown(phase: str, tally: Tally, new: int) -> None:  # the search's thread
            event = ev.ExploreExample(phase, tally.examples, len(search.found), new)
            loop.call_soon_threadsafe(emit, event)

        search = Search(
            check,
            seed=seed,
            budget_s=plan.budget_s,
            database=database_for(plan, settings),
            on_example=shown,
        )

        def keep() -> object:
            return write_findings(out, plan, **_made(seed, search, pair, began))

        try:
            await _in_thread(lambda: search.run(None, plan.max_findings))
        except Abort as stopped:
            keep()
            raise stopped.error or BadInputError("the search stopped") from None
        except asyncio.CancelledError:  # Ctrl-C: what was found so far is kept
            search.stop.set()
            keep()
            raise
        races = await _confirm(pair, list(search.found), plan.confirm_runs, emit, keep)
    files = write_findings(out, plan, **_made(seed, search, pair, began, races))
    shutil.rmtree(out / "work", ignore_errors=True)
    return _finished(
        files, search.tally.examples, len(races), out, seconds=_since(began), emit=emit
    )


def _finished(
    files: Files, examples: int, races: int, out: Path, *, seconds: float, emit: ev.Emit
) -> Outcome:
    for finding in files.findings:
        emit(finding)
    count = len(files.findings)
    verdict = "found" if count else "none_found"
    shrunk = sum(f.shrinking == "complete" for f in files.findings)
    reason = (
        f"{examples} examples, {count} unexplained "
        f"difference{'s' * (count != 1)}, {shrunk} shrunk file{'s' * (shrunk != 1)}"
    )
    if races:
        reason += f", {races} race{'s' * (races != 1)} set apart"
    emit(ev.RunFinished(verdict, reason, True, files.reports, seconds))
    code = ExitCode.FINDING if count else ExitCode.OK
    return Outcome(verdict, reason, True, files.reports, out, int(code))
