"""A server a runaway spoilt: which runs are set aside, which are played again alone, and
how the server is restarted (``pipeline/isolate.py``), on what a real gate of netflix
3.10.7 with the execution lock off did (fixtures/isolate/, see fixtures/README.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, cast

import pytest

from harness.pipeline import isolate
from harness.runner import SessionSummary
from harness.runner.runaway import Runaway
from harness.runner.session import ScenarioFinished
from harness.scenarios import Scenario
from harness.targets.model import RunningTarget
from harness.traces import ASIDE, trace_files

FIXTURE = Path(__file__).parents[2] / "fixtures/isolate/netflix-3.10.7-lock-off.json"
CULPRIT = "oss-e2e.do-while-set-variable-fix"
TARGET = "netflix:3.10.7"


def _recorded() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return document


def _first_play() -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = _recorded()["set_aside"]["restart-1"]
    return runs


def _runaways(runs: Sequence[dict[str, Any]]) -> tuple[Runaway, ...]:
    found = {
        (r["thread"], r["since"], r.get("found", "")): r["cpu_s"]
        for run in runs
        for r in run["runaway_threads"]
    }
    return tuple(Runaway(t, since, cpu, at) for (t, since, at), cpu in found.items())


def _finished(run: dict[str, Any], where: Path) -> ScenarioFinished:
    path = where / f"{run['scenario']}.trace.json"
    path.write_text("{}", encoding="utf-8")
    name, repeat = run["scenario"], run["repeat"]
    times = run["finished_at"], run["started_at"]
    return ScenarioFinished(TARGET, name, repeat, run["status"], run["reason"], 0.0, path, *times)


def _summary(
    runs: Sequence[dict[str, Any]],
    where: Path,
    not_run: Sequence[str] = (),
    cut: Sequence[dict[str, Any]] = (),
) -> SessionSummary:
    finished = tuple(_finished(r, where) for r in runs)
    never = tuple((n, 1) for n in not_run)
    halted = tuple((r["scenario"], r["repeat"], r["started_at"]) for r in cut)
    return SessionSummary(TARGET, finished, 1.0, None, never, _runaways([*runs, *cut]), halted)


def test_the_runs_under_way_when_the_runaway_was_found_are_the_suspects(tmp_path: Path) -> None:
    first = _first_play()
    spoilt, suspects = isolate.beside(_summary(first, tmp_path))
    # the culprit started first, at once: every run of that play ended after its thread began
    assert len(spoilt) == len(first) == 33
    assert {f.scenario for f in suspects} == {
        CULPRIT,
        "fork-join-dynamic-invalid",
        "switch-nested-javascript",
        "wait-until",
    }


def test_a_run_that_ended_before_the_thread_began_is_kept(tmp_path: Path) -> None:
    first = _first_play()
    (culprit,) = [r for r in first if r["scenario"] == CULPRIT]
    earlier = {**first[0], "scenario": "earlier", "finished_at": "2026-12-07T02:30:02.5+00:00"}
    spoilt, _ = isolate.beside(_summary([earlier, culprit], tmp_path))
    assert [f.scenario for f in spoilt] == [CULPRIT]


def _no_restart(restart: isolate.Restart, todo: list[isolate.Run]) -> None:
    pytest.fail("no run was to be set aside")


class Servers:
    """What the fake plays were given, and the servers started and stopped."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0

    async def fresh(self, own: AsyncExitStack, restarts: int) -> RunningTarget:
        assert restarts == self.started
        self.started += 1
        own.callback(self._stop)
        return cast(RunningTarget, f"server {restarts}")

    def _stop(self) -> None:
        self.stopped += 1


def _scenario(name: str) -> Scenario:
    return cast(Scenario, type("Named", (), {"name": name})())


def test_a_spoilt_server_is_restarted_and_its_runs_played_again(tmp_path: Path) -> None:
    """The first play halts on the runaway; a fresh server plays the runs that ended
    before it was found, together; then each suspect alone, as they did on the real
    server: the culprit alone spun a thread again (its own finding), the others did not."""
    recorded = _recorded()
    first = _first_play()
    again = {r["scenario"]: r for r in recorded["played_again"] if r["repeat"] == 1}
    traces, aside = tmp_path / "traces", tmp_path / ASIDE
    traces.mkdir()
    scenarios = {r["scenario"]: _scenario(r["scenario"]) for r in first}
    runs = [(scenarios[name], 1) for name in sorted(scenarios)]
    servers, calls, restarts = Servers(), [], []

    async def play(
        runs: Sequence[isolate.Run], on: RunningTarget, halt: bool, alone: bool
    ) -> SessionSummary:
        names = [s.name for s, _ in runs]
        calls.append((str(on), names, halt, alone))
        if len(calls) == 1:
            return _summary(first, traces)
        return _summary([again[n] for n in names], traces)

    async def main() -> SessionSummary:
        async with AsyncExitStack() as outer:
            held = await isolate.Restartable.start(servers.fresh, outer)
            return await isolate.play_isolated(
                runs, held, play, aside, lambda r, todo: restarts.append((r, todo))
            )

    summary = asyncio.run(main())
    (restart, todo), *_ = restarts
    assert len(restarts) == 1 and len(todo) == 33
    suspects = {CULPRIT, "fork-join-dynamic-invalid", "switch-nested-javascript", "wait-until"}
    assert {s for s, _ in restart.suspects} == suspects
    assert restart.causes == [(CULPRIT, 1)]
    # server 0 halted; server 1 played the 29 others together, then the likeliest suspect
    # alone (its start call was never answered), which spun a thread again: the cause;
    # server 2 played the other suspects together
    assert calls[0][1:] == (sorted(scenarios), True, False)
    assert calls[1][0] == "server 1" and len(calls[1][1]) == 29 and calls[1][2]
    assert calls[2] == ("server 1", [CULPRIT], False, True)
    assert calls[3][0] == "server 2" and calls[3][2:] == (True, False)
    assert sorted(calls[3][1]) == sorted(suspects - {CULPRIT}) and len(calls) == 4
    assert servers.started == servers.stopped == 3
    # what the first play spoilt is kept aside, never read as traces
    assert len(list((aside / "restart-1").iterdir())) == 33
    assert [p.parent for p in trace_files(tmp_path)] == [traces] * 33  # the replays' only
    assert len(summary.finished) == 33
    assert {f.scenario for f in summary.finished} == set(scenarios)


def test_past_the_last_restart_runs_are_played_as_they_come(tmp_path: Path) -> None:
    first = _first_play()
    servers, calls = Servers(), []

    async def play(
        runs: Sequence[isolate.Run], on: RunningTarget, halt: bool, alone: bool
    ) -> SessionSummary:
        calls.append(halt)
        return _summary(first, tmp_path)

    async def main() -> None:
        async with AsyncExitStack() as outer:
            held = await isolate.Restartable.start(servers.fresh, outer)
            held.restarts = isolate.MAX_RESTARTS
            runs = [(_scenario(CULPRIT), 1)]
            await isolate.play_isolated(runs, held, play, tmp_path / ASIDE, _no_restart)

    asyncio.run(main())
    assert calls == [False] and servers.started == servers.stopped == 1


def test_a_known_cause_is_played_alone_after_the_others(tmp_path: Path) -> None:
    """Its re-checks: the other runs together first, then each of its runs alone, the
    server restarted between them, no run of another scenario beside it."""
    again = {r["scenario"]: r for r in _recorded()["played_again"] if r["repeat"] == 1}
    servers, calls = Servers(), []

    async def play(
        runs: Sequence[isolate.Run], on: RunningTarget, halt: bool, alone: bool
    ) -> SessionSummary:
        names = [s.name for s, _ in runs]
        calls.append((str(on), names, halt, alone))
        return _summary([again[n] for n in names], tmp_path)

    async def main() -> None:
        async with AsyncExitStack() as outer:
            held = await isolate.Restartable.start(servers.fresh, outer)
            held.causes.add(CULPRIT)
            runs = [(_scenario(CULPRIT), 2), (_scenario("switch"), 2), (_scenario(CULPRIT), 3)]
            await isolate.play_isolated(runs, held, play, tmp_path / ASIDE, _no_restart)

    asyncio.run(main())
    assert calls == [
        ("server 0", ["switch"], True, False),
        ("server 0", [CULPRIT], False, True),
        ("server 1", [CULPRIT], False, True),
    ]
    assert servers.started == servers.stopped == 2


def test_a_restart_that_found_no_cause_says_so_in_a_notice() -> None:
    from harness.report.document import restart_notices

    targets = json.loads((FIXTURE.parent / "netflix-3.10.7-lock-off-run-targets.json").read_text())
    run = {"targets": targets["targets"]}
    assert restart_notices(run, TARGET) == []  # its cause has a notice of its own
    for entry in run["targets"]:
        for restart in entry.get("restarts") or []:
            restart["causes"] = []
    (notice,) = restart_notices(run, TARGET)
    assert notice == (
        "on netflix:3.10.7, server threads ran without pause ('http-nio-127.0.' from "
        "2026-12-07T02:37:18Z): the server was started afresh and the 33 runs that had ended "
        "beside them played again there; none made a thread run without pause again"
    )
    assert restart_notices(run, "netflix:3.11.3") == []


def test_the_runs_cut_short_at_the_halt_are_suspects_nearest_start_first(tmp_path: Path) -> None:
    """Had the session cut short the runs under way when the thread was found, they would
    have no trace: they are the suspects, the one that started nearest the thread first."""
    first = _first_play()
    late = {CULPRIT, "fork-join-dynamic-invalid", "switch-nested-javascript", "wait-until"}
    ended = [r for r in first if r["scenario"] not in late]
    cut = [r for r in first if r["scenario"] in late]
    spoilt, suspects = isolate.beside(_summary(ended, tmp_path, cut=cut))
    assert len(spoilt) == 29
    assert suspects[0].scenario == CULPRIT and {s.scenario for s in suspects} == late


def test_suspects_with_no_unanswered_call_go_shortest_first(tmp_path: Path) -> None:
    """Each suspect that is not the cause costs its time alone: the shortest go first,
    as each scenario last took (a run whose call was never answered before any)."""
    first = _first_play()
    late = {CULPRIT, "fork-join-dynamic-invalid", "switch-nested-javascript", "wait-until"}
    ended = [r for r in first if r["scenario"] not in late]
    cut = [r for r in first if r["scenario"] in late]
    took = {CULPRIT: 30.0, "wait-until": 16.0, "switch-nested-javascript": 2.0}
    _, suspects = isolate.beside(_summary(ended, tmp_path, cut=cut), took)
    assert [s.scenario for s in suspects] == [
        "switch-nested-javascript",
        "wait-until",
        CULPRIT,
        "fork-join-dynamic-invalid",  # never seen: last
    ]
    _, suspects = isolate.beside(_summary(first, tmp_path), took)  # the culprit's ReadTimeout
    assert suspects[0].scenario == CULPRIT


def test_a_run_is_cut_short_once_halted_and_never_outlives_its_session() -> None:
    from harness.runner.session import _unless_halted

    ended: list[str] = []

    async def run(seconds: float) -> dict[str, Any]:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            ended.append("cut")
            raise
        return {"outcome": {"status": "completed"}}

    async def main() -> None:
        halted = asyncio.Event()
        assert await _unless_halted(run(0), halted) == {"outcome": {"status": "completed"}}
        asyncio.get_running_loop().call_later(0.05, halted.set)
        assert await _unless_halted(run(60), halted) is None
        waiting = asyncio.create_task(_unless_halted(run(60), asyncio.Event()))
        await asyncio.sleep(0.05)
        waiting.cancel()  # the session cancelled (Ctrl-C): the run goes with it
        await asyncio.wait({waiting})

    asyncio.run(main())
    assert ended == ["cut", "cut"]
