"""The compare/gate pipeline's pure parts: plans, run folders, resume bookkeeping, progress
display, and the CLI's refusals that come before any server starts."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.progress import Display
from harness.errors import BadInputError, ExitCode
from harness.pipeline import Plan, RunFolder, default_folder
from harness.pipeline import events as ev
from harness.pipeline.plan import finished_runs
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
        ev.ScenarioFinished("netflix:3.15.0", "inline", 1, "error", "deadline of 4 s", 4.0),
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
    assert "oss:3.32.1: 2 more runs of 1 scenarios that gate (inline)" in text
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
