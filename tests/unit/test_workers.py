"""Worker scripts, templates and the namespace, on tasks recorded from real servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.runner.namespace import Namespace
from harness.runner.templates import TemplateError, render
from harness.runner.workers import WORKER_ID, WorkerPool, default_output
from harness.scenarios import load_scenario
from harness.scenarios.model import WorkerRule, WorkerSpec

ROOT = Path(__file__).resolve().parents[2]
TRACES = ROOT / "fixtures" / "traces"


def polled_tasks(target: str, scenario: str) -> list[dict[str, Any]]:
    """The tasks a worker received, as the server sent them."""
    trace = json.loads((TRACES / target / f"{scenario}.trace.json").read_text())
    tasks: list[dict[str, Any]] = []
    for exchange in trace["exchanges"]:
        if exchange["path_template"] == "/api/tasks/poll/batch/{taskType}" and exchange.get("body"):
            tasks.extend(exchange["body"])
    return tasks


def test_first_matching_rule_wins_and_default_completes() -> None:
    spec = load_scenario(ROOT / "scenarios/retries/fail_twice_then_succeed.yaml").workers[
        "cc_flaky"
    ]
    assert spec.rule_for("flaky", 0, 0, 1).actions == ("fail",)
    assert spec.rule_for("flaky", 1, 0, 1).actions == ("fail",)
    assert spec.rule_for("flaky", 2, 0, 1).actions == ("complete",)


def test_rules_match_on_loop_refs_without_suffix_and_on_delivery() -> None:
    rule = WorkerRule(actions=("in_progress",), ref="body", delivery=frozenset({1}))
    spec = WorkerSpec("t", script=(rule,))
    assert spec.rule_for("body__3", 0, 3, 1) is rule
    assert spec.rule_for("body__3", 0, 3, 2).actions == ("complete",)
    assert spec.rule_for("other", 0, 0, 1).actions == ("complete",)


@pytest.mark.parametrize("target", ["netflix-3.15.0", "oss-3.21.14", "oss-3.32.1"])
def test_results_built_for_real_polled_tasks(target: str) -> None:
    scenario = load_scenario(ROOT / "scenarios/retries/fail_twice_then_succeed.yaml")
    pool = WorkerPool(None, scenario.workers, Namespace("", frozenset()))  # type: ignore[arg-type]
    spec = scenario.workers["cc_flaky"]
    results = []
    for task in polled_tasks(target, "retry-fail-twice-then-succeed"):
        rule = spec.rule_for(task["referenceTaskName"], task["retryCount"], 0, 1)
        observation: dict[str, Any] = {"task_type": "cc_flaky"}
        result = pool._result(rule.actions[0], rule, task, observation)
        assert result is not None
        assert result["taskId"] == task["taskId"] and result["workerId"] == WORKER_ID
        results.append(
            (result["status"], result.get("reasonForIncompletion"), result["outputData"])
        )
    assert results == [
        (
            "FAILED",
            "simulated failure on attempt 0",
            default_output({"referenceTaskName": "flaky"}),
        ),
        (
            "FAILED",
            "simulated failure on attempt 1",
            {**default_output({"referenceTaskName": "flaky"}), "attempt": 1},
        ),
        ("COMPLETED", None, {"attempt": 2}),
    ]


def test_templates_echo_the_real_input() -> None:
    task = polled_tasks("oss-3.32.1", "simple-sequential")[0]
    context = {"input": task["inputData"], "task": {"id": task["taskId"]}}
    assert render("{{input.p1}}", context) == "p1 value"
    assert render({"all": "{{input}}", "s": "got {{input.p1}}"}, context) == {
        "all": task["inputData"],
        "s": "got p1 value",
    }
    assert render("{{input.own_id}}", context) == task["taskId"]  # ${CPEWF_TASK_ID}
    assert render("{{input.nothing}}", context) is None
    with pytest.raises(TemplateError, match="'nope' is missing"):
        render("{{input.nope}}", context)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_text_without_templates_is_left_alone(value: Any) -> None:
    if "{{" not in json.dumps(value):
        assert render(value, {}) == value


def test_default_output_names_the_attempt() -> None:
    task = polled_tasks("netflix-3.15.0", "do-while")[1]
    assert default_output(task)["ref"] == "body"
    assert default_output(task)["iteration"] == task["iteration"] == 2


def test_namespace_prefixes_every_owned_name_and_unmaps_them() -> None:
    scenario = load_scenario(ROOT / "scenarios/tasks/sub_workflow.yaml")
    names = Namespace(
        "ccabc123_", frozenset({"parent_wf", "child_wf", "cc_child_task", "cc_after_child"})
    )
    names.stub_url = "http://127.0.0.1:45678"
    parent = names.workflow(next(w for w in scenario.workflows if w["name"] == "parent_wf"))
    assert parent["name"] == "ccabc123_parent_wf"
    assert parent["tasks"][0]["subWorkflowParam"]["name"] == "ccabc123_child_wf"
    assert parent["tasks"][0]["name"] == "call_child"  # a system task's own name is kept
    assert parent["tasks"][1]["name"] == "ccabc123_cc_after_child"
    assert names.unmap({"ccabc123_x": ["see ccabc123_child_wf at http://127.0.0.1:45678/a"]}) == {
        "x": ["see child_wf at http://stub/a"]
    }


def test_http_tasks_are_pointed_at_the_stub() -> None:
    scenario = load_scenario(ROOT / "scenarios/tasks/http.yaml")
    names = Namespace("ccabc123_", frozenset({"http_wf"}), "http://127.0.0.1:45678")
    workflow = names.workflow(scenario.workflows[0])
    uri = workflow["tasks"][0]["inputParameters"]["http_request"]["uri"]
    assert uri == "http://127.0.0.1:45678/orders"
    assert (
        scenario.workflows[0]["tasks"][0]["inputParameters"]["http_request"]["uri"]
        == "http://stub/orders"
    )
