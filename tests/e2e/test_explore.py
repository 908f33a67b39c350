"""explore on real servers (netflix:3.15.0 and oss:3.32.1): the control. With one
catalogued change left out of the catalog (`sub-workflow-priority-input`: oss passes a
SUB_WORKFLOW's priority to its child), a fixed seed must find that difference again, by
generating workflows, and shrink it to a small scenario file that reproduces it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.classify import assess_run, load_settings
from harness.pipeline.explore_pair import signature
from harness.scenarios import load_scenario
from harness.traces import load_trace_set
from tests.e2e.conftest import assert_nothing_left, cli

pytestmark = pytest.mark.e2e

CHANGE = "sub-workflow-priority-input"
BASELINE, CANDIDATE = "netflix:3.15.0", "oss:3.32.1"


def test_explore_finds_a_change_left_out_of_the_catalog_and_shrinks_it(tmp_path: Path) -> None:
    out = tmp_path / "explore"
    run = cli("explore", "--baseline", BASELINE, "--candidate", CANDIDATE, "--seed", "1",
              "--budget", "6m", "--max-findings", "1", "--without-change", CHANGE,
              "--confirm-runs", "2", "--out", str(out), timeout=900)  # fmt: skip
    assert run.code == 1, run.out + run.err  # 1: findings
    summary = json.loads((out / "explore.json").read_text())
    assert f"{summary['examples']} examples, 1 unexplained difference" in run.out
    assert summary["without_changes"] == [CHANGE] and summary["seed"] == 1
    (finding,) = summary["findings"]
    assert finding["shrunk"] == "complete", finding
    assert summary["races"] == [] and finding["runs"] == 3 + 2  # it held over 2 more runs
    assert finding["size"] <= 4  # the sub-workflow, its child's one task, a worker at most
    scenario = load_scenario(out / finding["file"])  # a valid scenario, ready to commit
    tasks = scenario.workflows[0]["tasks"]
    assert [t.get("type") for t in tasks] == ["SUB_WORKFLOW"]
    # With the whole catalog, the change left out explains what the finding shows
    traces = out / finding["traces"]
    played = next((traces / "netflix-3.15.0").glob("*.trace.json")).name.split(".")[0]
    result = assess_run(
        load_trace_set(traces / "netflix-3.15.0"),
        load_trace_set(traces / "oss-3.32.1"),
        load_settings(),
        names=[played],
    ).scenarios[0]
    explained = {signature(f): f.change["id"] for f in result.findings if f.change}
    assert explained[finding["signature"]] == CHANGE
    assert summary["examples_per_minute"] > 0
    assert_nothing_left(out)
