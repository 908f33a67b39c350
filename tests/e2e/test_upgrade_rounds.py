"""An upgrade in two rounds on real servers: a scenario whose workflow is in flight after
two of its steps (by default, both are switch points) is switched from netflix:3.15.0 to
oss:3.21.14 on redis once at each point, each round on a store of its own, and each round
is compared with netflix:3.15.0 played wholly.

Without the shipped catalog and failing on any difference, every column gates (oss:3.21.14
adds fields to every workflow), so the run also shows the re-check: each round is played
across again, twice, each time with a switch of its own, and the new version wholly twice
more; each column is judged on its three runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.pipeline.plan import slug
from tests.conftest import require_tool
from tests.e2e.conftest import assert_nothing_left, cli

pytestmark = pytest.mark.e2e

OLD, NEW = "netflix:3.15.0", "oss:3.21.14"
ACROSS = f"{OLD}→{NEW}"
SECOND = f"{ACROSS} (switch point 2)"
NAME = "upgrade-two-reviews"
SCENARIO = """\
name: upgrade-two-reviews
description: Two HUMAN tasks one after the other; each leaves the workflow in flight.
tags: [upgrade, human]
definitions:
  workflows:
    - name: two_reviews_wf
      tasks:
        - {name: first_review, taskReferenceName: first_review, type: HUMAN}
        - name: second_review
          taskReferenceName: second_review
          type: HUMAN
          inputParameters: {first: "${first_review.output.verdict}"}
      outputParameters:
        first: ${first_review.output.verdict}
        second: ${second_review.output.verdict}
steps:
  - start: {workflow: two_reviews_wf, input: {}, correlation_id: cc-two-reviews, as: main}
  - complete_task: {workflow: main, task: first_review, output: {verdict: approved}}
  - complete_task: {workflow: main, task: second_review, output: {verdict: signed}}
  - wait: {workflow: main, status: COMPLETED}
"""


def _trace(folder: Path, label: str, run: int = 1) -> dict[str, Any]:
    numbered = f".run{run}" if run > 1 else ""
    path = folder / "traces" / slug(label) / f"{NAME}{numbered}.trace.json"
    assert path.is_file(), f"no trace of the round {label}, run {run}"
    return dict(json.loads(path.read_text()))


def test_each_switch_point_is_a_round_of_its_own(tmp_path: Path) -> None:
    require_tool("redis-server", "the redis profile starts a redis-server")
    scenario = tmp_path / "two_reviews.yaml"
    scenario.write_text(SCENARIO)
    folder = tmp_path / "run"
    run = cli(
        *("upgrade", "--from", OLD, "--to", NEW, "--profile", "redis"),
        *("--baseline-repeats", "1", "--no-shipped-catalog", "--fail-on", "any"),
        *("--out", str(folder), "--quiet", str(scenario)),
        timeout=900,
    )
    assert run.code in (0, 1, 3, 9), run.text
    report = json.loads((folder / "report.json").read_text())
    compared = [c["candidate"]["target"] for c in report["comparisons"]]
    assert compared == [NEW, ACROSS, SECOND]
    for comparison in report["comparisons"]:
        assert [s["name"] for s in comparison["scenarios"]] == [NAME]
    for label, after in ((ACROSS, 0), (SECOND, 1)):
        stores = set()
        for number in (1, 2, 3):  # the first play, then the re-check's two, each switched anew
            trace = _trace(folder, label, number)
            assert trace["outcome"]["status"] == "completed", trace["outcome"]
            assert trace["target"]["target"] == label
            assert trace.get("repeat", 1) == number
            switch = trace["switch"]
            assert (switch["after_step"], switch["to"]["version"]) == (after, "3.21.14")
            before = trace["steps"][after]["snapshots"]
            assert [w["status"] for w in before] == ["RUNNING"]  # in flight at the switch
            taken = [w["workflowId"] for w in switch["snapshots"]]
            final = trace["steps"][-1]["snapshots"]
            assert [w["workflowId"] for w in final] == taken == [before[0]["workflowId"]]
            assert [w["status"] for w in final] == ["COMPLETED"]
            assert [t["taskId"] for t in before[0]["tasks"]] == [
                t["taskId"] for t in switch["snapshots"][0]["tasks"]
            ]
            stores.add(before[0]["workflowId"])
        assert len(stores) == 3  # three executions: a store and a switch each
    for comparison in report["comparisons"]:  # every column gated, and was re-checked
        (scenario,) = comparison["scenarios"]
        assert scenario["verdict"] == "incompatible", scenario["reason"]
        assert scenario["rechecked"] is True
        assert [r["repeat"] for r in scenario["candidate_runs"]] == [1, 2, 3]
    assert _trace(folder, NEW, 3)["target"]["target"] == NEW
    assert_nothing_left(folder)
