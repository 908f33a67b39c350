"""The parts of an upgrade that need no server: the switch's barrier, the scenario fields
that name a switch point or a worker's first polling step, the upgrade plan, and the
command's refusals before anything starts."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import BadInputError, ExitCode
from harness.pipeline import Plan
from harness.runner.switch import SwitchFailed, Switchover, switch_after
from harness.scenarios import ScenarioError, load_scenario
from harness.targets.model import RunningTarget, TargetIdentity
from harness.targets.spec import parse_target

NEW = RunningTarget(
    parse_target("oss:3.32.1"),
    TargetIdentity("oss:3.32.1", "oss", "3.32.1", "process", "postgres", "postgres", None, None),
    "http://127.0.0.1:1",
    0.0,
)


def test_the_switch_is_made_once_every_run_has_arrived_or_left() -> None:
    calls: list[str] = []

    async def switch() -> RunningTarget:
        calls.append("switch")
        return NEW

    async def scenario() -> tuple[list[str], list[str]]:
        barrier = Switchover(3, switch)
        first = asyncio.create_task(barrier.arrive("a"))
        second = asyncio.create_task(barrier.arrive("b"))
        await asyncio.sleep(0.01)
        assert not first.done() and not calls  # one run is still playing
        barrier.leave()  # it ended before its switch point
        got = await asyncio.gather(first, second)
        await barrier.done.wait()
        return [g.server.base_url for g in got], barrier.arrivals

    urls, arrivals = asyncio.run(scenario())
    assert calls == ["switch"]
    assert urls == [NEW.base_url, NEW.base_url]
    assert arrivals == ["a", "b"]


def test_a_failed_switch_is_every_waiting_runs_finding() -> None:
    async def switch() -> RunningTarget:
        raise RuntimeError("oss:3.32.1 did not become ready: Flyway validate failed")

    async def scenario() -> list[object]:
        barrier = Switchover(2, switch)
        got = await asyncio.gather(barrier.arrive("a"), barrier.arrive("b"), return_exceptions=True)
        return list(got)

    results = asyncio.run(scenario())
    assert all(isinstance(r, SwitchFailed) for r in results)
    assert all("Flyway validate failed" in str(r) for r in results)


def test_no_switch_when_every_run_ended_before_its_switch_point() -> None:
    async def switch() -> RunningTarget:
        raise AssertionError("no run needs the new server")

    async def scenario() -> bool:
        barrier = Switchover(2, switch)
        barrier.leave()
        barrier.leave()
        await asyncio.wait_for(barrier.done.wait(), 1)
        return barrier.pending == 0

    assert asyncio.run(scenario())


SCENARIO = """\
name: switch-fields
tags: [wall-clock]
definitions:
  workflows:
    - name: wf
      tasks:
        - {{name: cc_held, taskReferenceName: held}}
workers:
  cc_held:
    poll_from: {poll_from}
steps:
  - start: {{workflow: wf, input: {{}}}}
    settle: false
  - name: the switch
    sleep: 0.1
  - name: poll now
    wait: {{workflow: wf, status: COMPLETED}}
{upgrade}"""


def _write(tmp_path: Path, poll_from: str, upgrade: str) -> Path:
    path = tmp_path / "switch.yaml"
    path.write_text(SCENARIO.format(poll_from=poll_from, upgrade=upgrade))
    return path


def test_a_switch_point_and_a_first_polling_step_by_name_or_number(tmp_path: Path) -> None:
    named = load_scenario(_write(tmp_path, "poll now", "upgrade: {switch_after: the switch}"))
    assert named.switch_after == (1,)
    assert named.workers["cc_held"].poll_from == 2
    assert not named.workers["cc_held"].polls_at(1)
    assert named.workers["cc_held"].polls_at(2)
    numbered = load_scenario(_write(tmp_path, "3", "upgrade: {switch_after: 2}"))
    assert (numbered.switch_after, numbered.workers["cc_held"].poll_from) == ((1,), 2)
    several = load_scenario(_write(tmp_path, "3", "upgrade: {switch_after: [3, the switch]}"))
    assert several.switch_after == (1, 2)  # in step order
    same = load_scenario(_write(tmp_path, "3", "upgrade: {switch_after: [2, the switch]}"))
    assert same.switch_after == (1,)  # one step, named twice
    default = load_scenario(_write(tmp_path, "3", ""))
    assert default.switch_after == ()


def test_a_step_reference_that_names_no_step_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "poll later", "upgrade: {switch_after: 7}")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    found = {(p.field, p.line, p.message) for p in caught.value.problems}
    assert ("workers.cc_held.poll_from", 10, "no step is named 'poll later'") in found
    assert ("upgrade.switch_after", 18, "there is no step 7: 3 steps") in found
    listed = _write(tmp_path, "3", "upgrade: {switch_after: [the switch, 7, nowhere]}")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(listed)
    listed_found = {(p.field, p.message) for p in caught.value.problems}
    assert listed_found == {
        ("upgrade.switch_after[1]", "there is no step 7: 3 steps"),
        ("upgrade.switch_after[2]", "no step is named 'nowhere'"),
    }


def test_the_default_switch_point_is_the_first_step_that_leaves_work_in_flight(
    tmp_path: Path,
) -> None:
    scenario = load_scenario(_write(tmp_path, "3", ""))
    step = scenario.steps[1]
    assert not switch_after(scenario, step, [{"status": "COMPLETED"}])
    assert switch_after(scenario, step, [{"status": "COMPLETED"}, {"status": "RUNNING"}])
    assert switch_after(scenario, step, [{"status": "PAUSED"}])
    assert not switch_after(scenario, step, [])  # a step that did not settle: no snapshot
    several = load_scenario(_write(tmp_path, "3", "upgrade: {switch_after: [2, 3]}"))
    running = [{"status": "RUNNING"}]
    assert [switch_after(several, s, running) for s in several.steps] == [False, True, False]


def test_an_upgrade_plan_goes_from_one_version_to_others() -> None:
    plan = Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=("oss:3.32.1",))
    assert Plan.from_json(plan.to_json()) == plan
    both = Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=("oss:3.21.14", "oss:3.32.1"))
    assert Plan.from_json(both.to_json()) == both
    with pytest.raises(BadInputError, match=r"both netflix:3\.15\.0"):
        Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=("oss:3.32.1", "netflix:3.15.0"))
    with pytest.raises(BadInputError, match="to others"):
        Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=())
    with pytest.raises(BadInputError, match="named twice"):
        Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=("oss:3.32.1", "oss:3.32.1"))


def test_a_rollback_in_the_same_run_goes_back_from_a_version_upgraded_to() -> None:
    news = ("oss:3.21.14", "oss:3.32.1")
    plan = Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=news, rollbacks=news[:1])
    assert Plan.from_json(plan.to_json()) == plan
    with pytest.raises(BadInputError, match=r"--rollback-from oss:3\.32\.1 is not a --to"):
        Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=news[:1], rollbacks=news[1:])
    with pytest.raises(BadInputError, match="--rollback-from is named twice"):
        Plan(kind="upgrade", baseline="netflix:3.15.0", candidates=news, rollbacks=news[:1] * 2)


def test_the_upgrade_command_refuses_bad_input_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upgrade", "--help"]) == 0
    assert "--kill" in capsys.readouterr().out
    assert main(["upgrade", "--profile", "embedded"]) == ExitCode.BAD_INPUT
    assert "invalid choice" in capsys.readouterr().err
    assert main(["upgrade", "--to", "oss:9.9.9", "--out", str(tmp_path / "r")]) == (
        ExitCode.BAD_INPUT
    )
    assert "Unknown target oss:9.9.9" in capsys.readouterr().err
    to_itself = ["upgrade", "--to", "oss:3.32.1", "--to", "netflix:3.15.0"]
    assert main([*to_itself, "--out", str(tmp_path / "r1")]) == ExitCode.BAD_INPUT
    assert "both netflix:3.15.0" in capsys.readouterr().err
    back = ["upgrade", "--to", "oss:3.21.14", "--rollback-from", "oss:3.32.1"]
    assert main([*back, "--out", str(tmp_path / "r3")]) == ExitCode.BAD_INPUT
    assert "oss:3.32.1 is not a --to" in capsys.readouterr().err
    assert not (tmp_path / "r3").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("name: bad\nsteps: []\nupgrade: {switch_after: 1}\n"))
    assert main(["upgrade", "--out", str(tmp_path / "r2"), str(bad)]) == ExitCode.BAD_INPUT
    assert "bad.yaml" in capsys.readouterr().err
