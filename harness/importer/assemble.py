"""Build one scenario document from one imported workflow and the definitions around it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from harness.importer import features
from harness.importer.drive import MAIN, Drive, plan_drive
from harness.importer.inputs import choose_input, given_input, input_key
from harness.importer.network import Replacement, rewrite_http, stub_routes
from harness.importer.sources import Definition, DefinitionSet
from harness.scenarios.definitions import SYSTEM_TASK_TYPES, is_worker_task, iter_tasks

_TASK_DEFAULTS: dict[str, Any] = {
    "startDelay": 0, "optional": False, "asyncComplete": False, "rateLimited": False,
    "permissive": False,
}  # fmt: skip
_TASK_EMPTIES = {
    "decisionCases": ("SWITCH", "DECISION"), "defaultCase": (), "forkTasks": ("FORK_JOIN",),
    "joinOn": ("JOIN", "EXCLUSIVE_JOIN"), "defaultExclusiveJoinTask": (), "loopOver": ("DO_WHILE",),
    "onStateChange": (), "inputParameters": (),
}  # fmt: skip
_WORKFLOW_DEFAULTS: dict[str, Any] = {"failureWorkflow": "", "workflowStatusListenerEnabled": False}
_WORKFLOW_EMPTIES = ("inputParameters", "outputParameters", "variables", "inputTemplate",
                     "metadata", "maskedFields", "accessPolicy", "tags")  # fmt: skip
_TASK_DEF_EMPTIES = ("inputKeys", "outputKeys", "inputTemplate", "accessPolicy", "tags")
_TAGS = {
    "HTTP": "http", "WAIT": "wait", "HUMAN": "human", "SUB_WORKFLOW": "sub-workflow",
    "FORK_JOIN": "fork", "FORK": "fork", "FORK_JOIN_DYNAMIC": "dynamic-fork",
    "DO_WHILE": "do-while", "SWITCH": "switch", "DECISION": "switch", "INLINE": "inline",
    "JSON_JQ_TRANSFORM": "jq", "SET_VARIABLE": "set-variable", "TERMINATE": "terminate",
    "START_WORKFLOW": "start-workflow", "EVENT": "event", "SIMPLE": "worker",
}  # fmt: skip
WORKER_SCRIPT = [{"do": "complete", "output": "{{input}}"}]


@dataclass(slots=True)
class Imported:
    """One scenario made from one workflow definition."""

    name: str
    file_name: str
    workflow: Definition
    document: dict[str, Any]
    header: list[str] = field(default_factory=list)
    drive: Drive = field(default_factory=Drive)


def tidy(workflow: dict[str, Any]) -> dict[str, Any]:
    """A copy without the fields a server fills with the same defaults anyway."""
    result = {
        k: v
        for k, v in copy.deepcopy(workflow).items()
        if not (k in _WORKFLOW_EMPTIES and v in ({}, []))
        and not (k in _WORKFLOW_DEFAULTS and v == _WORKFLOW_DEFAULTS[k])
    }
    for task in iter_tasks(result.get("tasks")):
        kind = task.get("type", "SIMPLE")
        for key in [k for k, v in task.items() if k in _TASK_DEFAULTS and v == _TASK_DEFAULTS[k]]:
            del task[key]
        for key, owners in _TASK_EMPTIES.items():
            if task.get(key) in ({}, []) and kind not in owners:
                del task[key]
    return result


def _references(workflow: dict[str, Any]) -> list[tuple[str, int | None]]:
    """Workflows ``workflow`` names statically: children, START_WORKFLOW targets, failure."""
    found: list[tuple[str, int | None]] = []
    for task in iter_tasks(workflow.get("tasks")):
        target: Any = None
        if task.get("type") == "SUB_WORKFLOW" and isinstance(task.get("subWorkflowParam"), dict):
            if "workflowDefinition" not in task["subWorkflowParam"]:
                target = task["subWorkflowParam"]
        elif task.get("type") == "START_WORKFLOW":
            target = (task.get("inputParameters") or {}).get("startWorkflow")
        if isinstance(target, dict) and isinstance(target.get("name"), str):
            version = target.get("version")
            pinned = version if isinstance(version, int) and version > 0 else None
            if "${" not in target["name"]:
                found.append((target["name"], pinned))
    failure = workflow.get("failureWorkflow")
    if isinstance(failure, str) and failure and not failure.startswith("$"):
        found.append((failure, None))
    return found


def _find(pool: DefinitionSet, name: str, version: int | None, origin: str) -> list[Definition]:
    same = [w for w in pool.workflows if w.name == name and w.origin == origin]
    candidates = same or [w for w in pool.workflows if w.name == name]
    if version is not None:
        candidates = [w for w in candidates if w.version == version]
    seen: dict[int, Definition] = {}
    for candidate in candidates:
        seen.setdefault(candidate.version, candidate)
    return list(seen.values())


class _Scenario:
    """The definitions of one scenario, gathered around its main workflow."""

    def __init__(
        self, main: Definition, pool: DefinitionSet, given: dict[str, Any] | None = None
    ) -> None:
        self.main = main
        self.pool = pool
        self.notes: list[str] = []
        self.workflows: dict[tuple[str, int], dict[str, Any]] = {}
        # a dynamic sub-workflow's name: another workflow of the same file, else of the import
        same = [w.name for w in pool.workflows if w.origin == main.origin]
        others = [*same, *(w.name for w in pool.workflows if w.origin != main.origin)]
        self.input = choose_input(
            main.data, list(dict.fromkeys(n for n in others if n != main.name))
        )
        if given is not None:
            self.input = given_input(self.input, given, {w.name for w in pool.workflows})
        self.notes += self.input.notes
        self._gather(main, main.origin)
        for name in self.input.children.values():
            for found in _find(pool, name, None, main.origin):
                self._gather(found, main.origin)

    def _gather(self, definition: Definition, origin: str) -> None:
        key = (definition.name, definition.version)
        if key in self.workflows:
            return
        self.workflows[key] = tidy(definition.data)
        for name, version in _references(definition.data):
            found = _find(self.pool, name, version, origin)
            if not found:
                pinned = f" version {version}" if version else ""
                self.notes.append(
                    f"{definition.name} names workflow {name}{pinned}, which is not in the "
                    "input: the server will fail the task that needs it"
                )
            for item in found:
                self._gather(item, origin)

    def resolve(self, task: Any) -> dict[str, Any] | None:
        sub = task.get("subWorkflowParam") or {}
        if isinstance(sub.get("workflowDefinition"), dict):
            inline: dict[str, Any] = sub["workflowDefinition"]
            return inline
        name = sub.get("name")
        key = input_key(name)
        if key is not None:
            name = self.input.children.get(key)
        versions = {v: w for (n, v), w in self.workflows.items() if n == name}
        if not versions:
            return None
        pinned = sub.get("version")
        return versions.get(pinned) if pinned in versions else versions[max(versions)]

    def rename_workers(self) -> dict[str, str]:
        """Worker tasks named like a system task type get a ``_worker`` suffix."""
        names = {
            str(t["name"])
            for w in self.workflows.values()
            for t in iter_tasks(w.get("tasks"))
            if is_worker_task(t) and isinstance(t.get("name"), str)
        }
        renames = {n: f"{n}_worker" for n in sorted(names) if n.upper() in SYSTEM_TASK_TYPES}
        for workflow in self.workflows.values():
            for task in iter_tasks(workflow.get("tasks")):
                if is_worker_task(task) and task.get("name") in renames:
                    task["name"] = renames[task["name"]]
                    if isinstance(task.get("taskDefinition"), dict):
                        task["taskDefinition"]["name"] = task["name"]
        for old, new in renames.items():
            self.notes.append(
                f"worker task '{old}' is renamed '{new}': a worker task may not be named "
                "like a system task type"
            )
        return renames

    def task_defs(self, renames: dict[str, str]) -> list[dict[str, Any]]:
        """A definition for every worker task (the input's, else harness defaults), and the
        input's definitions of the system tasks used by name."""
        back = {new: old for old, new in renames.items()}
        ordered: list[str] = []
        workers: set[str] = set()
        for workflow in self.workflows.values():
            for task in iter_tasks(workflow.get("tasks")):
                if isinstance(task.get("name"), str):
                    ordered.append(task["name"])
                    if is_worker_task(task):
                        workers.add(task["name"])
        defs: list[dict[str, Any]] = []
        for name in dict.fromkeys(ordered):
            source = back.get(name, name)
            given = [d for d in self.pool.task_defs if d.name == source]
            given = [d for d in given if d.origin == self.main.origin] or given
            if given and source.upper() in SYSTEM_TASK_TYPES:
                self.notes.append(f"the input's task definition '{source}' is left out: "
                                  "it is named like a system task type")  # fmt: skip
            elif given:
                data = {k: v for k, v in given[0].data.items() if v not in ({}, [])
                        or k not in _TASK_DEF_EMPTIES}  # fmt: skip
                defs.append({**data, "name": name})
            elif name in workers:
                defs.append({"name": name})
        return defs


def assemble(
    main: Definition,
    pool: DefinitionSet,
    name: str,
    *,
    child_step: bool,
    given: dict[str, Any] | None = None,
) -> Imported:
    """The scenario for ``main``, started with ``given`` if not None (``--input``), else
    with an input chosen from what it reads; raises ``network.MissingUri`` for an HTTP
    task with no uri."""
    scenario = _Scenario(main, pool, given)
    renames = scenario.rename_workers()
    replacements: list[Replacement] = []
    workflows: list[dict[str, Any]] = []
    for definition in scenario.workflows.values():
        rewritten, found = rewrite_http(definition)
        workflows.append(rewritten)
        replacements += found
    lengthened = features.lengthen_timeouts(workflows)
    task_defs = scenario.task_defs(renames)
    worker_names = sorted({d["name"] for d in task_defs} & _worker_names(workflows))
    limits = features.workflow_limits(workflows)
    drive = plan_drive(workflows[0], scenario.resolve, child_step=child_step)
    kinds = [str(t.get("type", "SIMPLE")) for w in workflows for t in iter_tasks(w.get("tasks"))]
    tags = list(dict.fromkeys(["imported", *(_TAGS[k] for k in kinds if k in _TAGS)]))
    if any("sleep" in s for s in drive.steps):
        tags.append("wall-clock")
    start = {"workflow": main.name, "version": main.version, "input": scenario.input.values,
             "correlation_id": f"import-{name}"[:100], "as": MAIN}  # fmt: skip
    document: dict[str, Any] = {
        "scenario_format": 1,
        "name": name,
        "description": _description(main, drive, replacements, worker_names),
        "tags": tags,
    }
    if applies := features.applies_to(limits):
        document["applies_to"] = applies
    document["timeouts"] = {"settle_s": drive.settle_s, "scenario_s": drive.scenario_s}
    document["definitions"] = {"task_defs": task_defs, "workflows": workflows}
    if worker_names:
        document["workers"] = {n: {"script": copy.deepcopy(WORKER_SCRIPT)} for n in worker_names}
    if replacements:
        document["http_stub"] = {"routes": stub_routes(replacements)}
    # A workflow that sits through a short WAIT's timer: no snapshot after the start, when
    # the timer may or may not have fired yet, depending on the machine, not the version.
    first = {"start": start, "settle": False} if drive.timed_s else {"start": start}
    document["steps"] = [first, *drive.steps]
    if {"FORK_JOIN", "FORK", "FORK_JOIN_DYNAMIC"} & set(kinds):
        document["compare"] = {"ordered": False}
    said = scenario.notes + lengthened + features.notes(workflows)
    header = _header(main, replacements, said, drive)
    return Imported(name, "", main, document, header, drive)


def _worker_names(workflows: list[dict[str, Any]]) -> set[str]:
    """Worker tasks, and tasks a dynamic fork makes of a name (``forkTaskName``)."""
    names: set[str] = set()
    for task in (t for w in workflows for t in iter_tasks(w.get("tasks"))):
        params = task.get("inputParameters") or {}
        forked = params.get("forkTaskName") if isinstance(params, dict) else None
        if is_worker_task(task) and isinstance(task.get("name"), str):
            names.add(str(task["name"]))
        if task.get("type") == "FORK_JOIN_DYNAMIC" and isinstance(forked, str):
            names.add(forked)
    return names


def _description(
    main: Definition, drive: Drive, replacements: list[Replacement], workers: list[str]
) -> str:
    parts = [f"Workflow {main.name} version {main.version}, imported from {main.origin}."]
    if workers:
        parts.append("Simulated workers complete every worker task with its input as output.")
    if drive.completed:
        parts.append(f"Steps complete {', '.join(drive.completed)}.")
    if replacements:
        parts.append(
            "HTTP tasks call the local stub, which echoes each request (the original URLs "
            "are listed at the top of this file)."
        )
    if drive.blockers:
        parts.append(
            "The scenario records where the workflow stops rather than waiting for its "
            "end: " + "; ".join(dict.fromkeys(drive.blockers)) + "."
        )
    else:
        parts.append("The scenario waits for the workflow to end, whatever its status.")
    return " ".join(parts)


def _header(
    main: Definition, replacements: list[Replacement], notes: list[str], drive: Drive
) -> list[str]:
    lines = [
        f"Imported by `conductor-compat import` from {main.where}:",
        f"workflow {main.name} version {main.version}. Fields a server fills with the same",
        "defaults anyway (empty lists, false flags, audit times) are left out.",
    ]
    if replacements:
        lines += ["", "HTTP tasks now call the local stub instead of:"]
        lines += [
            f"  {r.ref} ({r.workflow}, {r.field}): {r.original} -> {r.stub}" for r in replacements
        ]
    if notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in dict.fromkeys(notes)]
    return lines
