"""`conductor-compat run`: the starter scenarios on every supported version.

Each target starts once and runs the shipped library plus a scenario that would hang
forever; the library must complete, the hanging one must end at its deadline with an
error outcome, and every trace must be schema-valid.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from harness.errors import ExitCode
from harness.runner.trace import trace_errors
from harness.scenarios import load_all
from tests.e2e.conftest import SUPPORTED, assert_nothing_left, cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HANGS = Path(__file__).parent / "scenarios"
RUNS_THROUGH = {"completed", "not_applicable"}


@pytest.mark.parametrize("target", SUPPORTED)
def test_the_library_runs_on(target: str, workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "traces"
    run = cli(
        "run",
        "--target",
        target,
        "--out",
        str(out),
        "--workdir",
        str(workdir),
        "--jobs",  # 4, not 8: on 2 cores, 8 at once starved workers past settle limits
        "4",
        str(ROOT / "scenarios"),
        str(HANGS),
    )
    assert run.code == 3, run.out + run.err  # 3: a scenario ended with an error
    library = load_all([ROOT / "scenarios"]).scenarios
    assert len(library) >= 12
    traces = {
        p.name.removesuffix(".trace.json"): json.loads(p.read_text())
        for p in out.glob("*.trace.json")
    }
    assert set(traces) == {s.name for s in library} | {"hangs-until-its-deadline"}
    for name, trace in traces.items():
        assert trace_errors(trace) == [], name
        assert trace["target"]["target"] == target
    outcomes = {name: trace["outcome"]["status"] for name, trace in traces.items()}
    assert outcomes.pop("hangs-until-its-deadline") == "error"
    # A scenario that fails and completes when run again is flaky, as `compare` reports
    # it (seen under 4-at-once load: a 3.21.14 parent not decided again for 40 s after
    # its child ended). Warn of what was flaky, so that CI logs show it; fail on the rest.
    failed = sorted(n for n, status in outcomes.items() if status not in RUNS_THROUGH)
    assert len(failed) <= 3, {n: traces[n]["outcome"]["reason"] for n in failed}
    if failed:
        again = tmp_path / "again"
        files = [str(s.file) for s in library if s.name in failed]
        cli("run", "--target", target, "--out", str(again), "--workdir", str(workdir), *files)
        for name in failed:
            reason = traces[name]["outcome"]["reason"]
            warnings.warn(f"flaky on {target}: {name}: {reason}", stacklevel=1)
            retried = json.loads((again / f"{name}.trace.json").read_text())["outcome"]
            outcomes[name] = retried["status"]
            assert retried["status"] == "completed", (name, traces[name]["outcome"], retried)
    assert set(outcomes.values()) <= RUNS_THROUGH, outcomes
    for name, status in outcomes.items():
        if status == "not_applicable":  # says why, and only where the scenario says so
            scenario = next(s for s in library if s.name == name)
            flavor, version = target.split(":")
            assert scenario.applicability(flavor, version)[0] is False, name
            assert traces[name]["outcome"]["reason"], name
    hang = traces["hangs-until-its-deadline"]
    assert "deadline of 4 s" in hang["outcome"]["reason"]
    assert hang["timings"]["total_s"] < 10
    (workflow,) = hang["outcome"]["last_snapshot"]  # settled after the start step
    assert [t["status"] for t in workflow["tasks"]] == ["IN_PROGRESS"]  # held by its worker
    completed = sum(traces[n]["outcome"]["status"] == "completed" for n in outcomes)
    assert f"{completed} completed" in run.out
    assert_nothing_left(workdir)


def test_ctrl_c_keeps_finished_traces_whole(workdir: Path, tmp_path: Path) -> None:
    """Interrupted while a scenario hangs: finished traces stay, nothing half-written."""
    out = tmp_path / "traces"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            "--target",
            SUPPORTED[0],
            "--out",
            str(out),
            "--workdir",
            str(workdir),
            "--jobs",
            "1",
            str(ROOT / "scenarios/tasks/simple_sequential.yaml"),
            str(HANGS),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not list(out.glob("*.trace.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(out.glob("*.trace.json")), "no scenario finished"
    proc.send_signal(signal.SIGINT)  # the hanging scenario is still running (4 s deadline)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    for path in out.iterdir():
        assert path.name.endswith(".trace.json"), path  # no temporary file left
        assert trace_errors(json.loads(path.read_text())) == []
    assert_nothing_left(workdir)
