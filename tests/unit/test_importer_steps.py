"""`conductor-compat import`: workers, task definitions, inputs, steps and names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.importer import build, read_files, render, scenario_names
from harness.importer.drive import wait_seconds
from harness.importer.sources import Definition
from harness.scenarios import load_all
from tests.unit.test_importer import _import, _inline, _task, _workflow, _write


def _steps(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    return [next((k, v) for k, v in step.items() if k != "name") for step in doc["steps"]]


# --- workers and task definitions ---------------------------------------------------


def test_every_worker_task_gets_a_definition_and_an_echoing_worker(tmp_path: Path) -> None:
    flow = _workflow("w", _task("a", name="cc_given"), _task("b", name="cc_default"))
    (doc,) = _import(tmp_path, [flow, {"name": "cc_given", "retryCount": 2, "createTime": 1}])
    assert doc["definitions"]["task_defs"] == [
        {"name": "cc_given", "retryCount": 2},  # the input's, audit fields left out
        {"name": "cc_default"},  # the harness defaults fill the rest
    ]
    script = [{"do": "complete", "output": "{{input}}"}]
    assert doc["workers"] == {"cc_default": {"script": script}, "cc_given": {"script": script}}


def test_a_worker_task_named_like_a_system_task_is_renamed(tmp_path: Path) -> None:
    path = _write(tmp_path, "w.json", _workflow("w", _task("s", name="simple"), _task("h")))
    (scenario,) = build(read_files([path]))
    doc = scenario.document
    assert [t["name"] for t in doc["definitions"]["workflows"][0]["tasks"]] == [
        "simple_worker",
        "h",
    ]
    assert set(doc["workers"]) == {"simple_worker", "h"}
    assert "worker task 'simple' is renamed 'simple_worker'" in render(scenario)


def test_worker_tasks_of_an_inline_child_get_workers(tmp_path: Path) -> None:
    inner = _workflow("inner", _task("t", name="cc_inner"))
    sub = _task(
        "s", "SUB_WORKFLOW", subWorkflowParam={"name": "inner", "workflowDefinition": inner}
    )
    (doc,) = _import(tmp_path, _workflow("w", sub))
    assert set(doc["workers"]) == {"cc_inner"}


# --- input -----------------------------------------------------------------------------


def test_the_start_input_gives_every_key_the_workflow_reads(tmp_path: Path) -> None:
    switch = _task(
        "sw",
        "SWITCH",
        evaluatorType="value-param",
        expression="case",
        inputParameters={"case": "${workflow.input.kind}"},
        decisionCases={"gold": [_task("g", name="cc_g")], "silver": [_task("s", name="cc_s")]},
    )
    sub = _task("c", "SUB_WORKFLOW", subWorkflowParam={"name": "${workflow.input.child}"})
    reads = _task("r", name="cc_r", inputParameters={"a": "${workflow.input.order.id}"})
    flow = _workflow(
        "main", switch, sub, reads, inputParameters=["extra"], inputTemplate={"skip": 1}
    )
    docs = _import(tmp_path, [flow, _workflow("kid", _task("k", name="cc_k"))])
    start = docs[0]["steps"][0]["start"]
    assert start["input"] == {
        "kind": "gold",  # the first case, so that a branch runs
        "child": "{{name.kid}}",  # the run's name of a workflow the scenario carries
        "order": {"id": "sample order.id"},
        "extra": "sample extra",
    }
    assert start["version"] == 1 and start["as"] == "main"
    assert [w["name"] for w in docs[0]["definitions"]["workflows"]] == ["main", "kid"]


# --- steps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2 seconds", 2), ("1 s", 1), ("30 seconds", 30), ("1m 30s", 90), ("2 minutes", 120),
     ("1h", 3600), ("${workflow.input.d}", None), ("soon", None), ("", None)],
)  # fmt: skip
def test_wait_durations(text: str, seconds: float | None) -> None:
    assert wait_seconds({"inputParameters": {"duration": text}}) == seconds


def test_waits_on_the_sure_path_are_completed_by_steps_then_the_end_is_awaited(
    tmp_path: Path,
) -> None:
    fork = _task(
        "f",
        "FORK_JOIN",
        forkTasks=[[_task("w1", "WAIT")], [_task("h1", "HUMAN")]],
    )
    flow = _workflow(
        "w",
        _task("short", "WAIT", inputParameters={"duration": "2 seconds"}),
        fork,
        _task("j", "JOIN", joinOn=["w1", "h1"]),
        _task("long", "WAIT", inputParameters={"duration": "1 hour"}),
    )
    (doc,) = _import(tmp_path, flow)
    steps = _steps(doc)
    completed = [args["task"] for action, args in steps if action == "complete_task"]
    assert completed == ["w1", "h1", "long"]  # the 2 s WAIT is left to its timer
    # 60 s, three times the timer, and a sweep (35 s) for it: before netflix 3.14.0 a timed
    # WAIT ends at its workflow's next decision
    assert steps[-1] == (
        "wait",
        {"workflow": "main", "status": ["COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"],
         "timeout_s": 101.0},
    )  # fmt: skip
    assert doc["timeouts"]["settle_s"] == 40.0  # a JOIN: 3.15.0's back-off
    assert doc["compare"] == {"ordered": False}
    # The timer may or may not have fired when the start step settles: no snapshot there.
    assert doc["steps"][0]["settle"] is False


def test_a_workflow_without_a_timer_is_snapshotted_after_its_start(tmp_path: Path) -> None:
    (doc,) = _import(tmp_path, _workflow("w", _task("long", "WAIT")))
    assert "settle" not in doc["steps"][0]


def test_a_wait_inside_a_loop_makes_the_scenario_record_where_it_stops(tmp_path: Path) -> None:
    loop = _task(
        "loop",
        "DO_WHILE",
        loopCondition="true",
        loopOver=[_task("w", "WAIT"), _task("t", "WAIT", inputParameters={"duration": "1 s"})],
    )
    (doc,) = _import(tmp_path, _workflow("w", loop))
    steps = _steps(doc)
    assert [a for a, _ in steps] == ["start", "sleep", "wait"]
    assert steps[-1] == ("wait", {"workflow": "main"})
    assert "wall-clock" in doc["tags"]
    assert "WAIT w (in DO_WHILE loop) waits for a signal only a step can give" in doc["description"]


def test_a_wait_in_a_child_is_completed_through_the_child_step(tmp_path: Path) -> None:
    child = _workflow("child", _task("w", "WAIT"))
    parent = _workflow("parent", _task("c", "SUB_WORKFLOW", subWorkflowParam={"name": "child"}))
    docs = _import(tmp_path, [parent, child])
    assert _steps(docs[0])[1:5] == [
        ("wait", {"workflow": "main", "status": "RUNNING", "task": "c",
                  "task_status": "IN_PROGRESS", "timeout_s": 60.0}),
        ("child", {"workflow": "main", "task": "c", "as": "main__c"}),
        ("wait", {"workflow": "main__c", "status": "RUNNING", "task": "w",
                  "task_status": "IN_PROGRESS", "timeout_s": 60.0}),
        ("complete_task", {"workflow": "main__c", "task": "w", "output": {}}),
    ]  # fmt: skip


def test_a_dynamic_fork_is_recorded_and_a_missing_child_is_noted(tmp_path: Path) -> None:
    fork = _task("d", "FORK_JOIN_DYNAMIC", dynamicForkTasksParam="t", inputParameters={"t": []})
    sub = _task("s", "SUB_WORKFLOW", subWorkflowParam={"name": "elsewhere", "version": 2})
    files = [_write(tmp_path, "w.json", _workflow("w", fork, _task("j", "JOIN"), sub))]
    (scenario,) = build(read_files(files))
    assert _steps(scenario.document)[-1] == ("wait", {"workflow": "main"})
    assert "FORK_JOIN_DYNAMIC d forks tasks named at run time" in scenario.document["description"]
    assert "names workflow elsewhere version 2, which is not in the input" in render(scenario)


def test_terminate_in_a_branch_makes_a_later_wait_unsure(tmp_path: Path) -> None:
    switch = _task(
        "sw", "SWITCH", expression="x", inputParameters={"x": "a"},
        decisionCases={"a": [_task("stop", "TERMINATE",
                                   inputParameters={"terminationStatus": "COMPLETED"})]},
    )  # fmt: skip
    (doc,) = _import(tmp_path, _workflow("w", switch, _task("w", "WAIT")))
    assert "complete_task" not in [a for a, _ in _steps(doc)]
    assert "WAIT w waits for a signal" in doc["description"]


# --- names ---------------------------------------------------------------------------------


def _definition(name: str, origin: str, version: int = 1) -> Definition:
    return Definition({"name": name, "version": version, "tasks": []}, origin, origin)


def test_names_are_unique_and_say_where_they_came_from() -> None:
    workflows = [
        _definition("Orders", "a.json"),
        _definition("http", "a.json"),
        _definition("http", "b.json"),
        _definition("pop", "b.json", 1),
        _definition("pop", "b.json", 3),
        _definition("x" * 100, "c.json"),
    ]
    names = scenario_names(workflows)
    assert names[:5] == ["orders", "a.http", "b.http", "pop-v1", "pop-v3"]
    assert len(names[5]) == 80 and names[5].startswith("x" * 60)
    assert scenario_names(workflows[:1], "prod.") == ["prod.orders"]


def test_a_prefix_names_scenarios_not_files(tmp_path: Path) -> None:
    path = _write(tmp_path, "w.json", _workflow("Orders", _task("a", name="cc_a")))
    (scenario,) = build(read_files([path]), prefix="prod.")
    assert (scenario.name, scenario.file_name) == ("prod.orders", "orders.yaml")
    assert scenario.document["name"] == "prod.orders"
    out = tmp_path / "out"
    out.mkdir()
    (out / scenario.file_name).write_text(render(scenario))
    assert load_all([out]).scenarios[0].name == "prod.orders"


def test_scripts_read_as_blocks(tmp_path: Path) -> None:
    script = "(function () {\n  return 1;\n})();"
    path = _write(tmp_path, "w.json", _workflow("w", _inline("i", "javascript", script)))
    (scenario,) = build(read_files([path]))
    assert "expression: |-\n" in render(scenario)
    assert json.dumps(script) not in render(scenario)


def test_a_timer_on_the_sure_path_is_awaited_and_one_after_a_blocker_slept_through(
    tmp_path: Path,
) -> None:
    """Where the workflow's end is not awaited (a dynamic fork), a WAIT that surely runs is
    awaited until it completes, however slow the machine; one after the dynamic fork may
    never run, so it is slept through."""
    first = _task("first", "WAIT", inputParameters={"duration": "2 seconds"})
    fork = _task(
        "fork",
        "FORK_JOIN_DYNAMIC",
        dynamicForkTasksParam="dynamicTasks",
        dynamicForkTasksInputParamName="dynamicTasksInput",
        inputParameters={"dynamicTasks": [], "dynamicTasksInput": {}},
    )
    later = _task("later", "WAIT", inputParameters={"duration": "3 seconds"})
    (doc,) = _import(tmp_path, _workflow("timers", first, fork, _task("join", "JOIN"), later))
    steps = doc["steps"][1:]
    awaited = [s["wait"] for s in steps if "wait" in s and s["wait"].get("task")]
    assert [(w["task"], w["task_status"]) for w in awaited] == [("first", "COMPLETED")]
    assert [s["sleep"] for s in steps if "sleep" in s] == [6.0]  # 3 s, and 3 s of margin
    assert steps[-1]["name"] == "record where the workflow stops"
