"""A drawn tree (``strategies.Drawn``) rendered as a scenario document: the workflow and
its child, the task definitions and workers, one start and a wait for any final status.

References are numbered in the order tasks are written (``t1``, ``t2``, ...); an
expression names an input key, an earlier task or a variable by its drawn index, modulo
what exists at that point, so that every reference it makes is to something written
before it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from harness.explore.strategies import CHILD, FINAL, WORKFLOW, Drawn, Node, Worker

LITERALS: tuple[Any, ...] = (1, "lit", True, {"k": 1}, [1, 2], None, 0, "x")
INLINE = (
    "function e() { return 1 + 1; } e();",
    "$.p0",
    "function e() { return {n: 1, s: 'x', l: [1, 2]}; } e();",
    "$.p0 == null ? 'none' : 'some'",
    "function e() { return [$.p0, $.p1]; } e();",
)
JQ = (".p0", "{a: .p0, b: .p1}", "[.p0, .p1]", ". | keys", ".p0 | tostring")
SWITCH_JS = ("$.c > 0 ? 'pos' : 'neg'", "$.c == null ? 'neg' : 'pos'", "'zero'")
JS_CASES = ("pos", "neg", "zero")
OUTPUTS = {
    "none": None,
    "attempt": {"v": "{{task.attempt}}", "n": 1},
    "input": {"v": "{{task.ref}}", "all": "{{input}}"},
    "nested": {"v": {"deep": ["{{task.iteration}}", {"k": "{{task.ref}}"}]}, "n": 2},
}


@dataclass(slots=True)
class _Writer:
    drawn: Drawn
    count: int = 0
    seen: list[str] = field(default_factory=list)  # every reference written so far
    uses_child: bool = False

    def ref(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def expression(self, form: str, index: int) -> Any:
        keys = [k for k, _ in self.drawn.inputs] or ["a"]
        key = keys[index % len(keys)]
        earlier = self.seen[index % len(self.seen)] if self.seen else None
        needs_task = form in ("output", "output_key", "nested", "status")
        if form == "literal" or (earlier is None and needs_task):
            return LITERALS[index % len(LITERALS)]
        return {
            "input": f"${{workflow.input.{key}}}",
            "missing_input": "${workflow.input.absent}",
            "output": f"${{{earlier}.output}}",
            "output_key": f"${{{earlier}.output.v}}",
            "variable": f"${{workflow.variables.v{index % 3}}}",
            "template": f"pre ${{workflow.input.{key}}} post",
            "nested": {
                "inner": f"${{workflow.input.{key}}}",
                "list": [f"${{{earlier}.output.v}}", 1],
            },
            "status": f"${{{earlier}.status}}",
        }[form]

    def parameters(self, drawn: tuple[tuple[str, int], ...]) -> dict[str, Any]:
        return {f"p{i}": self.expression(form, index) for i, (form, index) in enumerate(drawn)}

    def tasks(self, nodes: tuple[Node, ...]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for node in nodes:
            out += self.task(node)
        return out

    def task(self, node: Node) -> list[dict[str, Any]]:
        ref = self.ref()
        task: dict[str, Any] = {"name": ref, "taskReferenceName": ref, "type": node.kind}
        after: list[dict[str, Any]] = []
        if node.kind == "SIMPLE":
            task = self.simple(ref, node.spec)
        elif node.kind == "FORK_JOIN":
            task["forkTasks"] = [self.branch(branch) for branch in node.lists]
            ends = [b[-1]["taskReferenceName"] for b in task["forkTasks"]]
            join = self.ref()
            after = [{"name": join, "taskReferenceName": join, "type": "JOIN", "joinOn": ends}]
        elif node.kind == "SWITCH":
            self.switch(task, node)
        elif node.kind == "DO_WHILE":
            task["inputParameters"] = {"times": node.spec[0]}
            task["loopCondition"] = (
                f"if ($.{ref}['iteration'] < $.times) {{ true; }} else {{ false; }}"
            )
            task["loopOver"] = self.branch(node.lists[0])
        elif node.kind == "SUB_WORKFLOW":
            self.uses_child = True
            task["subWorkflowParam"] = {"name": CHILD, "version": 1}
            task["inputParameters"] = {"a": "${workflow.input.a}", "l": "${workflow.input.l}"}
        else:
            task["inputParameters"] = self.system_inputs(node.kind, node.spec)
        self.seen.append(ref)
        for extra in after:
            self.seen.append(extra["taskReferenceName"])
        return [task, *after]

    def simple(self, ref: str, spec: tuple[Any, ...]) -> dict[str, Any]:
        worker, optional, params = spec
        name = f"cc_explore_w{worker % len(self.drawn.workers)}"
        task: dict[str, Any] = {"name": name, "taskReferenceName": ref}
        task["inputParameters"] = self.parameters(params)
        if optional:
            task["optional"] = True
        return task

    def system_inputs(self, kind: str, spec: tuple[Any, ...]) -> dict[str, Any]:
        """The inputs of a system task that holds no other task."""
        if kind == "INLINE":
            return {
                "evaluatorType": "javascript",
                "expression": INLINE[spec[0]],
                **self.parameters(spec[1]),
            }
        if kind == "JSON_JQ_TRANSFORM":
            return {"queryExpression": JQ[spec[0]], **self.parameters(spec[1])}
        if kind == "SET_VARIABLE":
            values = self.parameters(spec[1]) or {"p0": LITERALS[spec[0]]}
            return {f"v{spec[0]}": next(iter(values.values()))}
        if kind == "WAIT":
            return {"duration": f"{spec[0]}s"}
        if kind == "TERMINATE":
            return {
                "terminationStatus": spec[0],
                "terminationReason": "generated",
                "workflowOutput": self.parameters(spec[1]),
            }
        return self.parameters(spec[0])  # NOOP

    def branch(self, nodes: tuple[Node, ...]) -> list[dict[str, Any]]:
        return self.tasks(nodes)

    def switch(self, task: dict[str, Any], node: Node) -> None:
        evaluator, variant = node.spec
        lists = list(node.lists)
        default = lists.pop() if len(lists) > 1 else ()
        if evaluator == "value-param":
            task["evaluatorType"] = "value-param"
            task["expression"] = "choice"
            task["inputParameters"] = {"choice": "${workflow.input.choice}"}
            keys = [str(i) for i in range(len(lists))]
        else:
            task["evaluatorType"] = "javascript"
            task["expression"] = SWITCH_JS[variant]
            task["inputParameters"] = {"c": "${workflow.input.a}"}
            keys = list(JS_CASES[: len(lists)])
        task["decisionCases"] = {k: self.branch(b) for k, b in zip(keys, lists, strict=True)}
        task["defaultCase"] = self.branch(default)


def worker_script(worker: Worker) -> list[dict[str, Any]]:
    """What a worker does, as the scenario's rules (first match wins)."""
    done: dict[str, Any] = {"do": "complete"}
    output = OUTPUTS[worker.output]
    if output is not None:
        done["output"] = output
    if worker.behaviour == "fail_once":
        return [
            {"when": {"attempt": 0}, "do": "fail", "reason": "failed on {{task.attempt}}"},
            done,
        ]
    if worker.behaviour == "fail_always":
        return [{"do": "fail", "reason": "always fails", "output": {"n": 0}}]
    if worker.behaviour == "fail_terminal":
        return [{"do": "fail_terminal", "reason": "terminal"}]
    if worker.behaviour == "in_progress":
        return [
            {"when": {"delivery": 1}, "do": "in_progress", "callback_after_seconds": 1},
            done,
        ]
    if worker.behaviour == "logs":
        return [{**done, "logs": ["one", "two"]}]
    return [done]


def render(drawn: Drawn, *, label: str = "") -> dict[str, Any]:
    """The scenario document for ``drawn``; its name is a digest of its content, so the
    same drawing always makes the same scenario."""
    writer = _Writer(drawn)
    tasks = writer.tasks(drawn.tasks)
    outputs = {
        f"o{i}": f"${{{writer.seen[index % len(writer.seen)]}.output}}"
        for i, index in enumerate(drawn.outputs)
    }
    workflows: list[dict[str, Any]] = [{"name": WORKFLOW, "tasks": tasks}]
    if outputs:
        workflows[0]["outputParameters"] = outputs
    if writer.uses_child:
        child = _Writer(drawn, count=writer.count)
        workflows.append({"name": CHILD, "tasks": child.tasks(drawn.child)})
    names = sorted({t for t in _worker_names(workflows)})
    task_defs = [
        {
            "name": name,
            "retryCount": drawn.workers[int(name.rsplit("w", 1)[1])].retries,
            "retryDelaySeconds": 0,
        }
        for name in names
    ]
    document: dict[str, Any] = {
        "name": "",
        "description": label or "A workflow generated by conductor-compat explore.",
        "tags": ["explore"],
        "timeouts": {"settle_s": 10, "scenario_s": 60},
        "definitions": {"task_defs": task_defs, "workflows": workflows},
        "workers": {
            name: {"script": worker_script(drawn.workers[int(name.rsplit("w", 1)[1])])}
            for name in names
        },
        "steps": [
            {"start": {"workflow": WORKFLOW, "input": dict(drawn.inputs), "as": "wf1"}},
            {"wait": {"workflow": "wf1", "status": FINAL}},
        ],
    }
    if not task_defs:
        del document["workers"]
    if any(t.get("type") == "FORK_JOIN" for t in _all_tasks(workflows)):
        document["compare"] = {"ordered": False}  # branches run concurrently
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:10]
    document["name"] = f"explore-{digest}"
    return document


def _all_tasks(workflows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(tasks: list[dict[str, Any]]) -> None:
        for task in tasks:
            found.append(task)
            for branch in task.get("forkTasks", []):
                walk(branch)
            for case in task.get("decisionCases", {}).values():
                walk(case)
            walk(task.get("defaultCase", []))
            walk(task.get("loopOver", []))

    for workflow in workflows:
        walk(workflow["tasks"])
    return found


def _worker_names(workflows: list[dict[str, Any]]) -> list[str]:
    return [t["name"] for t in _all_tasks(workflows) if "type" not in t]
