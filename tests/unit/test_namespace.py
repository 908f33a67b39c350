"""Per-run names: what the runner prefixes in a definition, and that traces undo it."""

from __future__ import annotations

from pathlib import Path

from harness.runner.engine import owned_names
from harness.runner.namespace import Namespace
from harness.scenarios import load_scenario
from harness.scenarios.definitions import iter_tasks

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "scenarios" / "corpus" / "conductor-oss-e2e"


def test_a_dynamic_fork_of_a_named_task_forks_the_runs_own_task() -> None:
    # conductor-oss's load_test_perf_sync_workflow forks x_test_worker_0 by forkTaskName;
    # the run's workers poll cc..._x_test_worker_0, so the fork must name that.
    scenario = load_scenario(CORPUS / "load_test_perf_sync_workflow.yaml", ROOT)
    namespace = Namespace("cc0a1b2c_", owned_names(scenario))
    (main,) = [w for w in scenario.workflows if w["name"] == "load_test_perf_sync_workflow"]
    sent = namespace.workflow(main)
    (fork,) = [t for t in iter_tasks(sent["tasks"]) if t.get("type") == "FORK_JOIN_DYNAMIC"]
    assert fork["inputParameters"]["forkTaskName"] == "cc0a1b2c_x_test_worker_0"
    assert "x_test_worker_0" in namespace.names
    assert namespace.unmap(sent) == main


def test_names_the_scenario_does_not_own_are_left_alone() -> None:
    namespace = Namespace("cc0a1b2c_", frozenset({"mine"}))
    fork = {"name": "f", "taskReferenceName": "f", "type": "FORK_JOIN_DYNAMIC",
            "inputParameters": {"forkTaskName": "theirs", "forkTaskWorkflow": "mine"}}  # fmt: skip
    sent = namespace.workflow({"name": "wf", "tasks": [fork]})
    assert sent["tasks"][0]["inputParameters"] == {
        "forkTaskName": "theirs",
        "forkTaskWorkflow": "cc0a1b2c_mine",
    }
