"""`conductor-compat run` on a real server: a scenario that would hang forever ends at
its deadline, and Ctrl-C keeps the traces that finished whole. (The whole library runs
on every supported version once per test session, as the scenario items of the pytest
plugin: see pyproject.toml's conductor_compat_* options.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import ExitCode
from harness.traces import trace_errors
from tests.e2e.conftest import SUPPORTED, assert_nothing_left, cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HANGS = Path(__file__).parent / "scenarios"
GIVES_UP = Path(__file__).parent / "gives-up"
RUNS_THROUGH = {"completed", "not_applicable"}


def test_a_hanging_scenario_ends_at_its_deadline(workdir: Path, tmp_path: Path) -> None:
    """`run` of a scenario that would hang forever, beside one that completes and one whose
    wait gives up: the hang ends at its deadline with an error outcome (exit 3), the wait
    that gave up keeps what it last saw, the other is unharmed."""
    out = tmp_path / "traces"
    inline = ROOT / "scenarios" / "tasks" / "inline.yaml"
    run = cli("run", "--target", "netflix:3.15.0", "--out", str(out), "--workdir", str(workdir),
              str(inline), str(HANGS), str(GIVES_UP))  # fmt: skip
    assert run.code == 3, run.out + run.err  # 3: a scenario ended with an error
    traces = {
        p.name.removesuffix(".trace.json"): json.loads(p.read_text())
        for p in out.glob("*.trace.json")
    }
    assert set(traces) == {"inline", "hangs-until-its-deadline", "wait-gives-up"}
    gave_up = traces["wait-gives-up"]["outcome"]
    assert gave_up["status"] == "failed_expectation"
    assert gave_up["reason"].startswith("waited 1 s for workflow COMPLETED; saw workflow RUNNING")
    (seen,) = gave_up["last_snapshot"]  # the wait step settles nothing: what it last saw
    assert (seen["status"], [t["status"] for t in seen["tasks"]]) == ("RUNNING", ["IN_PROGRESS"])
    for name, trace in traces.items():
        assert trace_errors(trace) == [], name
        assert trace["target"]["target"] == "netflix:3.15.0"
    assert traces["inline"]["outcome"]["status"] == "completed"
    hang = traces["hangs-until-its-deadline"]
    assert hang["outcome"]["status"] == "error"
    assert "deadline of 4 s" in hang["outcome"]["reason"]
    assert hang["timings"]["total_s"] < 10
    (workflow,) = hang["outcome"]["last_snapshot"]  # settled after the start step
    assert [t["status"] for t in workflow["tasks"]] == ["IN_PROGRESS"]  # held by its worker
    assert "1 completed" in run.out
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
