"""The input an imported workflow is started with.

Every key the workflow reads (``${workflow.input.a.b}`` anywhere in its tasks and
outputs, or named in its ``inputParameters``) gets a value, except those its
``inputTemplate`` fills. A key that names a SUB_WORKFLOW's child gets the run's name
of a workflow the scenario carries; a key a SWITCH or DECISION switches on gets the
first case, so a branch runs; any other key gets the text ``sample <key>``. An input the
user gives (``--input FILE``) replaces all that; only a value that names a workflow of
the import, for a SUB_WORKFLOW's child, is written as the run's name of that workflow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.scenarios.definitions import iter_tasks

_REFERENCE = re.compile(r"\$\{workflow\.input\.([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)(\}?)")
_WHOLE = re.compile(r"^\$\{workflow\.input\.([A-Za-z0-9_\-]+)\}$")


@dataclass(slots=True)
class ChosenInput:
    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    children: dict[str, str] = field(default_factory=dict)  # input key -> workflow name


def input_key(expression: Any) -> str | None:
    """``K`` when ``expression`` is exactly ``${workflow.input.K}``."""
    if not isinstance(expression, str):
        return None
    match = _WHOLE.match(expression.strip())
    return match.group(1) if match else None


def _paths(workflow: dict[str, Any]) -> list[list[str]]:
    text = json.dumps([workflow.get("tasks"), workflow.get("outputParameters")])
    found: list[list[str]] = []
    for match in _REFERENCE.finditer(text):
        parts = match.group(1).split(".")
        found.append(parts if match.group(2) else parts[:1])  # a[0], a['b']: keep the key
    for name in workflow.get("inputParameters") or []:
        if isinstance(name, str) and name:
            found.append([name])
    return found


def _place(values: dict[str, Any], parts: list[str]) -> None:
    node = values
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if parts[-1] not in node:
        node[parts[-1]] = f"sample {'.'.join(parts)}"


def choose_input(workflow: dict[str, Any], children: Sequence[str]) -> ChosenInput:
    """Values for every key ``workflow`` reads; ``children`` are workflows it may start."""
    chosen = ChosenInput()
    template = workflow.get("inputTemplate") or {}
    special = _structural(workflow, children, chosen)
    for key, (value, why) in _shapes(workflow).items():
        if key not in special:
            special[key] = value
            chosen.notes.append(f"input {key} = {json.dumps(value)}: {why}")
    for parts in _paths(workflow):
        if parts[0] in template:
            continue
        if parts[0] in special:
            chosen.values[parts[0]] = special[parts[0]]
            continue
        _place(chosen.values, parts)
    for key, value in special.items():  # a key only the definition's structure names
        chosen.values.setdefault(key, value)
    return chosen


def _structural(
    workflow: dict[str, Any], children: Sequence[str], chosen: ChosenInput
) -> dict[str, Any]:
    """Keys whose value picks a path: a SUB_WORKFLOW's child, a SWITCH's case."""
    special: dict[str, Any] = {}
    for task in iter_tasks(workflow.get("tasks")):
        kind, ref = task.get("type"), task.get("taskReferenceName")
        sub = task.get("subWorkflowParam")
        if kind == "SUB_WORKFLOW" and isinstance(sub, dict):
            key = input_key(sub.get("name"))
            if key and key not in special and children:
                special[key] = "{{name." + children[0] + "}}"
                chosen.children[key] = children[0]
                chosen.notes.append(
                    f"input {key} names the child of SUB_WORKFLOW {ref}: {children[0]} (the "
                    "first other workflow of the same file, else of the import)"
                )
            elif key and key not in special:
                chosen.notes.append(
                    f"input {key} names the child of SUB_WORKFLOW {ref}, and the input has no "
                    "other workflow: the server will fail that task"
                )
        cases = task.get("decisionCases")
        if kind in ("SWITCH", "DECISION") and isinstance(cases, dict) and cases:
            param = task.get("expression") if kind == "SWITCH" else task.get("caseValueParam")
            evaluator = task.get("evaluatorType", "value-param")
            params = task.get("inputParameters") or {}
            if (kind == "DECISION" or evaluator == "value-param") and isinstance(params, dict):
                key = input_key(params.get(str(param)))
                if key and key not in special:
                    case = next(iter(cases))
                    special[key] = case
                    chosen.notes.append(
                        f"input {key} = '{case}' takes the first case of {kind} {ref}"
                    )
    return special


def given_input(chosen: ChosenInput, given: dict[str, Any], workflows: set[str]) -> ChosenInput:
    """``given`` as the start input; where ``chosen`` found a key that names a SUB_WORKFLOW's
    child and ``given`` names a workflow of the import there, the run's name of it."""
    result = ChosenInput(values=json.loads(json.dumps(given)))
    result.notes.append("the start input is the one --input gives")
    for key in chosen.children:
        value = result.values.get(key)
        if isinstance(value, str) and value in workflows:
            result.values[key] = "{{name." + value + "}}"
            result.children[key] = value
    return result


_LIST_USE = ("length", "forEach(", "map(", "filter(", "reduce(", "some(", "every(", "[")


def _shapes(workflow: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """Input keys a task needs of a type a text placeholder is not, each with a value of
    that type and why: a dynamic fork's task list and its inputs, a START_WORKFLOW's
    request, a list a script iterates."""
    found: dict[str, tuple[Any, str]] = {}
    for task in iter_tasks(workflow.get("tasks")):
        params = task.get("inputParameters")
        if not isinstance(params, dict):
            continue
        ref, kind = task.get("taskReferenceName"), task.get("type")
        if kind == "FORK_JOIN_DYNAMIC":
            tasks_param = task.get("dynamicForkTasksParam") or "forkTaskInputs"
            inputs_param = task.get("dynamicForkTasksInputParamName")
            if key := input_key(params.get(str(tasks_param))):
                found[key] = ([], f"the list of tasks FORK_JOIN_DYNAMIC {ref} forks (none)")
            if inputs_param and (key := input_key(params.get(str(inputs_param)))):
                found[key] = ({}, f"the map of inputs of FORK_JOIN_DYNAMIC {ref}'s tasks")
        elif kind == "START_WORKFLOW" and (key := input_key(params.get("startWorkflow"))):
            found[key] = ({"name": "sample", "version": 1, "input": {}},
                          f"the StartWorkflowRequest of START_WORKFLOW {ref}")  # fmt: skip
        elif kind == "INLINE":
            script = str(params.get("expression") or "")
            for name, value in params.items():
                key = input_key(value)
                if key and any(f"$.{name}.{use}" in script or f"$.{name}{use}" in script
                               for use in _LIST_USE):  # fmt: skip
                    found[key] = ([f"sample {key}"], f"a list the script of INLINE {ref} reads")
    return found
