"""The pipeline's parts that need no server: plans of every kind, run folders, resume
bookkeeping, the diff job on recorded traces, the one event stream and its display, and
the CLI's refusals that come before any server starts."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.progress import Display
from harness.errors import BadInputError, ExitCode
from harness.pipeline import Plan, RunFolder, default_folder, play, run_plan
from harness.pipeline import events as ev
from harness.runner import ScenarioFinished
from harness.scenarios import ScenarioError, require_valid
from harness.targets.death import ServerExit, from_returncode
from harness.targets.model import RunningTarget, TargetIdentity
from harness.targets.spec import parse_target
from harness.traces import finished_runs, read_trace, set_aside_stale
from tests.unit.traces import RUNS

ROOT = Path(__file__).resolve().parents[2]


def _plan(**kw: object) -> Plan:
    values: dict[str, object] = {
        "kind": "compare",
        "baseline": "netflix:3.15.0",
        "candidates": ("oss:3.32.1",),
        "paths": (str(ROOT / "scenarios"),),
    }
    values.update(kw)
    return Plan(**values)  # type: ignore[arg-type]


def test_a_plan_survives_its_run_json(tmp_path: Path) -> None:
    plan = _plan(candidates=("oss:3.21.14", "oss:3.32.1"), scrub=("/x/extra.yaml",), jobs=3)
    folder = RunFolder(tmp_path / "run")
    folder.save(plan)
    assert folder.load() == plan
    assert json.loads(folder.plan_file.read_text())["run_format"] == 1


def test_plans_refuse_what_cannot_be_run() -> None:
    with pytest.raises(BadInputError, match="both baseline and candidate"):
        _plan(candidates=("netflix:3.15.0",))
    with pytest.raises(BadInputError, match="named twice"):
        _plan(candidates=("oss:3.32.1", "oss:3.32.1"))
    with pytest.raises(BadInputError, match="--jobs must be at least 1"):
        _plan(jobs=0)


def test_a_relative_run_folder_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # servers run elsewhere and read their files from here
    assert RunFolder(Path("reports/run")).root == tmp_path / "reports" / "run"
    assert default_folder(Path("reports"), _plan()).root.is_absolute()


def test_default_folder_names_the_targets(tmp_path: Path) -> None:
    folder = default_folder(tmp_path, _plan(candidates=("oss:3.21.14", "oss:3.32.1")))
    assert folder.root.parent == tmp_path
    assert folder.root.name.endswith("-netflix-3.15.0-vs-oss-3.21.14-oss-3.32.1")
    assert folder.traces("oss:3.32.1") == folder.root / "traces" / "oss-3.32.1"


def test_resume_counts_only_whole_traces_of_the_current_scenario_files(tmp_path: Path) -> None:
    for name in ("inline.trace.json", "inline.run2.trace.json", "http.trace.json"):
        shutil.copy(RUNS / "netflix-3.15.0-a" / name, tmp_path / name)
    (tmp_path / "switch.trace.json").write_text('{"trace_format": 1, "scen')  # cut short
    digests = {
        name: json.loads((tmp_path / f"{name}.trace.json").read_text())["scenario"]["digest"]
        for name in ("inline", "http")
    }
    assert finished_runs(tmp_path, digests) == {("inline", 1), ("inline", 2), ("http", 1)}
    digests["http"] = "0" * 64  # the file changed since: that run is made again
    assert finished_runs(tmp_path, digests) == {("inline", 1), ("inline", 2)}


def test_resume_keeps_aside_every_run_of_a_scenario_file_that_changed(tmp_path: Path) -> None:
    """A run played again after its file changed: its older runs (a re-check's second and
    third) are not judged beside the new one; they are kept, out of the way."""
    traces, aside = tmp_path / "traces", tmp_path / "stale"
    traces.mkdir()
    for name in ("inline.trace.json", "inline.run2.trace.json", "http.trace.json"):
        shutil.copy(RUNS / "netflix-3.15.0-a" / name, traces / name)
    (traces / "switch.trace.json").write_text('{"trace_format": 1, "scen')  # cut short
    digests = {
        "inline": "0" * 64,
        "http": read_trace(traces / "http.trace.json")["scenario"]["digest"],
    }
    assert set_aside_stale(traces, digests, aside) == 2
    assert sorted(p.name for p in aside.iterdir()) == [
        "inline.run2.trace.json",
        "inline.trace.json",
    ]
    assert sorted(p.name for p in traces.iterdir()) == ["http.trace.json", "switch.trace.json"]
    assert finished_runs(traces, digests) == {("http", 1)}
    assert set_aside_stale(traces, digests, aside) == 0


def _events(folder: Path) -> list[ev.Event]:
    return [
        ev.RunPlanned(
            folder,
            2,
            (
                ev.TargetPlanned("netflix:3.15.0", "baseline", 4, 0),
                ev.TargetPlanned("oss:3.32.1", "candidate", 2, 0),
            ),
            False,
        ),
        ev.TargetsStarting(("netflix:3.15.0", "oss:3.32.1")),
        ev.TargetReady("netflix:3.15.0", "http://127.0.0.1:1", 9.5),
        ev.ScenarioStarted("netflix:3.15.0", "inline", 1),
        ev.ScenarioFinished(
            "netflix:3.15.0", "inline", 1, "error", "deadline of 4 s", 4.0, folder / "t.json"
        ),
        ev.RecheckPlanned("oss:3.32.1", ("inline",), 2),
        ev.Comparing(("oss:3.32.1",)),
        ev.RunFinished(
            "incompatible",
            "1 of 2 scenarios incompatible",
            False,
            {"report.md": folder / "report.md"},
            30.0,
            (ev.CandidateSummary("oss:3.32.1", "incompatible", {"incompatible": 1}, 2, 7),),
            3,
        ),
    ]


def test_plain_progress_is_one_line_per_event_worth_logging(tmp_path: Path) -> None:
    out = io.StringIO()
    display = Display(out, mode="plain")
    for event in _events(tmp_path):
        display(event)
    text = out.getvalue()
    assert "\x1b[" not in text  # no terminal control in CI logs
    assert "netflix:3.15.0 ready at http://127.0.0.1:1 in 9.5 s" in text
    assert "netflix:3.15.0 [1/4] inline: error (4.0 s): deadline of 4 s" in text
    assert "oss:3.32.1: 2 more runs of 1 scenarios to re-check (inline)" in text
    assert "INCOMPLETE: 3 scenario runs did not finish" in text
    assert "oss:3.32.1  incompatible" in text


def test_live_progress_redraws_a_line_per_target(tmp_path: Path) -> None:
    out = io.StringIO()
    display = Display(out, mode="live")
    for event in _events(tmp_path)[:5]:
        display(event)
    text = out.getvalue()
    assert "\x1b[2F\x1b[J" in text  # the two target lines are redrawn in place
    last = text.rsplit("\x1b[J", 1)[1]
    assert "netflix:3.15.0  baseline  running" in last and "1/4 done, 1 not completed" in last
    assert "[1/4] inline" not in text  # per-scenario lines only with --verbose


def test_quiet_progress_prints_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    display = Display(out, mode="quiet")
    for event in _events(tmp_path):
        display(event)
    assert out.getvalue() == ""


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


def test_compare_refuses_bad_input_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "--candidate", "oss:9.9.9", "--out", str(tmp_path / "a")]) == 2
    assert "oss:9.9.9" in _err(capsys)
    assert not (tmp_path / "a").exists()
    assert main(["compare", "--out", str(tmp_path / "b"), str(tmp_path / "missing")]) == 2
    assert main(["compare", "--resume", str(tmp_path)]) == 2
    assert "run.json is missing" in _err(capsys)
    RunFolder(tmp_path / "c").save(_plan())
    assert main(["compare", "--resume", str(tmp_path / "c"), "--jobs", "2"]) == 2
    assert "leave out --jobs" in _err(capsys)
    assert main(["compare", "--out", str(tmp_path / "c")]) == 2
    assert "--resume" in _err(capsys)


def test_an_invalid_scenario_stops_compare_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario_format: 1\nname: bad\nsteps: nope\n")
    code = main(["compare", "--quiet", "--out", str(tmp_path / "run"), str(bad)])
    assert code == ExitCode.BAD_INPUT
    assert f"{bad}:" in _err(capsys)


def test_gate_refuses_a_baselines_folder_without_traces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["gate", "--baselines", str(tmp_path), "--out", str(tmp_path / "run")])
    assert code == ExitCode.BAD_INPUT
    assert "no traces" in _err(capsys)


def test_a_bug_is_a_harness_error_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.cli.compare_cmd as compare_cmd

    async def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("the bug")

    monkeypatch.setattr(compare_cmd, "execute", broken)
    code = main(["compare", "--quiet", "--out", str(tmp_path / "run")])
    assert code == ExitCode.HARNESS_ERROR
    err = capsys.readouterr().err
    assert "RuntimeError: the bug" in err and "a bug in conductor-compat" in err


def test_docker_runtime_without_an_engine_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code = main(
        [
            "targets",
            "check",
            "--runtime",
            "docker",
            "netflix:3.15.0",
            "--workdir",
            str(tmp_path / "work"),
        ]
    )
    assert code == ExitCode.HARNESS_ERROR
    captured = capsys.readouterr()
    text = " ".join((captured.out + captured.err).split())
    assert "No Docker engine is reachable" in text and "--runtime process" in text


# -- every kind of job ---------------------------------------------------------------------

A, B = RUNS / "netflix-3.15.0-a", RUNS / "netflix-3.15.0-b"


def test_every_kind_of_job_is_a_plan() -> None:
    Plan("run", targets=("netflix:3.15.0",), paths=("scenarios",), out="traces")
    Plan("check", targets=("netflix:3.15.0", "oss:3.32.1"))
    Plan("diff", baseline=str(A), candidates=(str(B),), out="reports")
    with pytest.raises(BadInputError, match="run needs at least one target"):
        Plan("run", paths=("scenarios",), out="traces")
    with pytest.raises(BadInputError, match="--out"):
        Plan("run", targets=("netflix:3.15.0",), paths=("scenarios",))
    with pytest.raises(BadInputError, match="--repeats must be at least 1"):
        Plan("run", targets=("netflix:3.15.0",), out="traces", repeats=0)
    with pytest.raises(BadInputError, match="named twice"):
        Plan("check", targets=("oss:3.32.1", "oss:3.32.1"))
    with pytest.raises(BadInputError, match="one baseline and one candidate"):
        Plan("diff", baseline=str(A), out="reports")
    with pytest.raises(BadInputError, match="unknown run kind"):
        Plan("import")


def test_a_run_json_from_before_the_other_kinds_still_resumes(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.save(_plan())
    document = json.loads(folder.plan_file.read_text())
    for key in ("targets", "out", "workdir", "repeats", "keep_poll_bodies"):
        del document["plan"][key]
    del document["plan"]["max_file_bytes"], document["plan"]["max_tasks"]
    folder.plan_file.write_text(json.dumps(document))
    assert folder.load() == _plan()


def _lines(events: list[ev.Event]) -> list[str]:
    out = io.StringIO()
    display = Display(out, mode="plain")
    for event in events:
        display(event)
    return out.getvalue().splitlines()


def test_diff_is_a_job_of_the_pipeline_with_no_server(tmp_path: Path) -> None:
    plan = Plan("diff", baseline=str(A), candidates=(str(B),), out=str(tmp_path))
    events: list[ev.Event] = []
    outcome = asyncio.run(run_plan(plan, events.append))
    assert (outcome.verdict, outcome.exit_code, outcome.folder) == ("compatible", 0, tmp_path)
    assert set(outcome.reports) == {"report.json", "report.md", "report.html", "junit.xml"}
    assert all(p.is_file() for p in outcome.reports.values())
    (result,) = outcome.results
    planned, finished = events[0], events[-1]
    assert isinstance(planned, ev.RunPlanned) and planned.plan == plan
    assert [t.role for t in planned.targets] == ["baseline", "candidate"]
    assert isinstance(finished, ev.RunFinished) and finished.reports == outcome.reports
    assessed = [e for e in events if isinstance(e, ev.ScenarioAssessed)]
    assert [e.scenario for e in assessed] == [s.name for s in result.scenarios]
    lines = _lines(events)
    assert lines[0] == "comparing 17 scenarios of netflix:3.15.0 with 17 of netflix:3.15.0"
    assert "  compatible     inline" in lines
    assert len(lines) == 1 + len(assessed)  # the verdict and summary are the command's


def test_diff_refuses_a_missing_directory_before_any_event(tmp_path: Path) -> None:
    plan = Plan("diff", baseline=str(A), candidates=(str(tmp_path / "no"),), out=str(tmp_path))
    events: list[ev.Event] = []
    with pytest.raises(BadInputError):
        asyncio.run(run_plan(plan, events.append))
    assert events == [] and not (tmp_path / "report.json").exists()


def test_run_and_check_refuse_bad_input_before_starting_anything(tmp_path: Path) -> None:
    events: list[ev.Event] = []
    library = str(ROOT / "scenarios" / "tasks")
    unknown = Plan("run", targets=("oss:9.9.9",), paths=(library,), out=str(tmp_path / "o"))
    with pytest.raises(BadInputError, match=r"oss:9\.9\.9"):
        asyncio.run(run_plan(unknown, events.append))
    (tmp_path / "bad.yaml").write_text("name: bad\n")
    invalid = Plan("run", targets=("oss:3.32.1",), paths=(str(tmp_path),), out=str(tmp_path / "o"))
    with pytest.raises(ScenarioError):
        asyncio.run(run_plan(invalid, events.append))
    with pytest.raises(BadInputError, match=r"netflix:3\.99\.0"):
        asyncio.run(run_plan(Plan("check", targets=("netflix:3.99.0",)), events.append))
    assert events == [] and not (tmp_path / "o").exists()


def test_a_run_shows_the_lines_it_always_showed(tmp_path: Path) -> None:
    target = "netflix:3.15.0"
    plan = Plan("run", targets=(target,), paths=("s",), out=str(tmp_path), jobs=4)
    counts = {"completed": 1, "not_applicable": 0, "failed_expectation": 1, "error": 0}
    lines = _lines(
        [
            ev.RunPlanned(tmp_path, 2, (ev.TargetPlanned(target, "target", 2, 0),), False, plan),
            ev.TargetsStarting((target,)),
            ev.TargetReady(target, "http://127.0.0.1:1", 9.5),
            ev.ScenarioStarted(target, "inline", 1),
            ev.ScenarioFinished(target, "inline", 1, "completed", None, 1.5, tmp_path / "i"),
            ev.ScenarioFinished(target, "http", 2, "failed_expectation", "no", 2.0, tmp_path),
            ev.TargetDone(target),
            ev.RunFinished(
                "failed_expectation",
                "1 completed",
                True,
                runs=(ev.TargetRuns(target, counts, 3.0, tmp_path, "enforced", 2),),
            ),
        ]
    )
    assert lines == [
        "2 scenarios; starting netflix:3.15.0 ...",
        "netflix:3.15.0 ready at http://127.0.0.1:1 in 9.5 s; running 2 scenarios, 4 at a time",
        "[1/2] inline: completed (1.5 s)",
        "[2/2] http (run 2): failed expectation (2.0 s): no",
        "isolation: enforced; 2 outbound connection attempts blocked",
    ]


def test_a_check_says_how_each_target_starts(tmp_path: Path) -> None:
    names = ("netflix:3.15.0", "oss:3.32.1")
    plan = Plan("check", targets=names, runtime="docker")
    planned = tuple(ev.TargetPlanned(n, "target", 0, 0) for n in names)
    events: list[ev.Event] = [ev.RunPlanned(tmp_path, 0, planned, False, plan)]
    events += [ev.TargetsStarting(names), ev.TargetReady(names[0], "http://127.0.0.1:1", 8.0)]
    events += [ev.TargetChecked(names[0], True, "COMPLETED", 1.0), ev.TargetDone(names[0])]
    events += [ev.RunFinished("failed", "1 of 2 targets passed", True)]
    assert _lines(events) == [
        "starting netflix:3.15.0 (docker runtime, embedded profile) ...",
        "starting oss:3.32.1 (docker runtime, embedded profile) ...",
    ]
    live = io.StringIO()
    display = Display(live, mode="live")
    for event in events[:4]:
        display(event)
    assert "netflix:3.15.0  passed" in live.getvalue().rsplit("\x1b[J", 1)[1]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound, never listening."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


def test_play_passes_the_runners_events_through_one_stream(
    closed_port: int, tmp_path: Path
) -> None:
    """On a target the caller started (here one that dies at once, at a closed port): the
    runner's own events, then the death, all naming the target as the caller does."""
    identity = TargetIdentity(
        "oss:3.21.14", "oss", "3.21.14", "process", "embedded", "memory", None, None
    )
    probed: list[None] = []

    def probe() -> ServerExit | None:
        probed.append(None)
        return from_returncode(-9) if len(probed) > 1 else None

    server = RunningTarget(
        parse_target("oss:3.21.14"), identity, f"http://127.0.0.1:{closed_port}", 1.0, None,
        exited=probe,
    )  # fmt: skip
    tasks = ROOT / "scenarios" / "tasks"
    scenarios = require_valid([tasks / "inline.yaml", tasks / "switch.yaml"])
    events: list[ev.Event] = []
    summary = asyncio.run(play(scenarios, server, tmp_path, 1, events.append, name="old"))
    assert ev.ScenarioFinished is ScenarioFinished  # one class, the runner's
    assert [type(e).__name__ for e in events] == [
        "ScenarioStarted",
        "ScenarioFinished",
        "TargetDied",
    ]
    assert {getattr(e, "target", None) for e in events} == {"old"}
    assert events[1] == summary.finished[0] and summary.finished[0].path.is_file()
    died = events[2]
    assert isinstance(died, ev.TargetDied) and died.not_run == len(summary.not_run) == 1


def test_a_later_upgrade_round_adds_its_runs_to_the_line_total(tmp_path: Path) -> None:
    """upgrade --switch-points all: how many rounds there are is known only once the first
    has run, so each later one raises its line's total and the count never passes it."""
    across = "netflix:3.15.0→oss:3.21.14"
    out = io.StringIO()
    display = Display(out, mode="plain")
    display(ev.RunPlanned(tmp_path, 2, (ev.TargetPlanned(across, "candidate", 2, 0),), False))
    for n in (1, 2):
        display(ev.ScenarioStarted(across, f"s{n}", 1))
        display(ev.ScenarioFinished(across, f"s{n}", 1, "completed", "", 1.0, tmp_path / "t"))
    display(ev.RoundPlanned(across, 2, 1))
    display(ev.ScenarioStarted(across, "s1 (switch point 2)", 1))
    display(ev.ScenarioFinished(across, "s1 (switch point 2)", 1, "completed", "", 1.0, tmp_path))
    text = out.getvalue()
    assert f"{across}: switch point 2, a round of 1 scenario across a switch of its own" in text
    assert "[3/3] s1 (switch point 2): completed" in text  # not [3/2]
