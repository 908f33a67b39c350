"""The checks a JSON Schema cannot express, each reported at its place in the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.documents.diagnostics import did_you_mean
from harness.documents.limits import TASKS_VARIABLE, Limits
from harness.documents.source import FieldPath, Problem, Source, SourceError, read_source
from harness.scenarios.definitions import SYSTEM_TASK_TYPES, is_worker_task, iter_tasks_at
from harness.scenarios.model import parse_versions
from harness.scenarios.outbound import STUB_HOST, http_uris, run_time_problems, uri_problems

__all__ = ["STUB_HOST", "Located", "References", "check"]

# Steps whose arguments the server reads at run time; register and update hold
# definitions, checked task by task instead.
DEFINITION_STEPS = ("register", "update")
STEP_OPTIONS = ("name", "settle", "expect_status")
WALL_CLOCK_TAG = "wall-clock"
WORKFLOW_STEPS = (
    "wait",
    "pause",
    "resume",
    "decide",
    "reset_callbacks",
    "terminate",
    "restart",
    "retry",
    "rerun",
    "skip",
    "remove",
    "complete_task",
    "fail_task",
    "child",
)


@dataclass(frozen=True, slots=True)
class Located:
    """A definition and where it was written (the scenario, or a JSON file it names)."""

    data: dict[str, Any]
    source: Source
    path: FieldPath


@dataclass(slots=True)
class References:
    """Resolves ``{file: PATH}`` definitions, refusing paths outside the allowed roots."""

    source: Source
    root: Path
    limits: Limits = field(default_factory=Limits)
    problems: list[Problem] = field(default_factory=list)

    def _fixtures(self) -> Path | None:
        for folder in [self.source.path.resolve().parent, *self.source.path.resolve().parents]:
            if (folder / "fixtures").is_dir():
                return (folder / "fixtures").resolve()
        return None

    def _target(self, ref: str, path: FieldPath) -> Path | None:
        fixtures = self._fixtures()
        if ref.startswith("fixtures/") and fixtures is not None:
            target = (fixtures.parent / ref).resolve()
        else:
            target = (self.source.path.resolve().parent / ref).resolve()
        roots = [self.root] + ([fixtures] if fixtures else [])
        if not any(target.is_relative_to(r) for r in roots):
            allowed = " or ".join(str(r) for r in roots)
            self.problems.append(
                self.source.problem(
                    path, f"'{ref}' is outside the scenario root; allowed: {allowed}"
                )
            )
            return None
        if not target.is_file():
            self.problems.append(self.source.problem(path, f"no such file: {ref}"))
            return None
        return target

    def resolve(self, items: list[Any], base: FieldPath) -> list[Located]:
        out: list[Located] = []
        for index, item in enumerate(items):
            path = (*base, index)
            if "file" not in item:
                out.append(Located(item, self.source, path))
                continue
            target = self._target(item["file"], (*path, "file"))
            if target is None:
                continue
            try:
                other = read_source(target, self.limits)
            except SourceError as exc:
                self.problems.extend(exc.problems)
                continue
            values = other.data if isinstance(other.data, list) else [other.data]
            for i, value in enumerate(values):
                where: FieldPath = (i,) if isinstance(other.data, list) else ()
                if not isinstance(value, dict) or not isinstance(value.get("name"), str):
                    self.problems.append(other.problem(where, "a definition needs a 'name'"))
                    continue
                out.append(Located(value, other, where))
        return out


def check(
    source: Source,
    *,
    task_defs: list[Located],
    workflows: list[Located],
    worker_tasks: set[str],
    allow_outbound: bool,
    step_workflows: list[Located] | None = None,
    limits: Limits | None = None,
) -> list[Problem]:
    """Every problem no schema can express; ``step_workflows`` are those steps register."""
    doc = source.data
    limits = limits or Limits()
    problems: list[Problem] = []
    for flavor, rule in doc.get("applies_to", {}).items():
        text = rule if isinstance(rule, str) else rule["versions"]
        where = (
            ("applies_to", flavor) if isinstance(rule, str) else ("applies_to", flavor, "versions")
        )
        try:
            parse_versions(text)
        except ValueError as exc:
            problems.append(source.problem(where, str(exc)))
    for item in task_defs:
        problems += _system_name(item.source, (*item.path, "name"), item.data["name"])
    outbound = allow_outbound and bool(doc.get("allow_outbound"))
    refs: set[str] = set()
    for item in workflows:
        for i, task in iter_tasks_at(item.data.get("tasks"), (*item.path, "tasks")):
            refs.add(str(task.get("taskReferenceName")))
            if is_worker_task(task) and isinstance(task.get("name"), str):
                problems += _system_name(item.source, (*i, "name"), task["name"])
    every_workflow = [*workflows, *(step_workflows or [])]
    for item in every_workflow:
        problems += _size(item, limits)
    if not outbound:
        problems += _calls(every_workflow) + _run_time_data(source)
    for name in doc.get("workers", {}):
        if name not in worker_tasks:
            hint = did_you_mean(name, worker_tasks)
            problems.append(
                source.problem(("workers", name), f"no worker task named '{name}'{hint}", key=True)
            )
        problems += _system_name(source, ("workers", name), name, key=True)
    problems += _steps(source, {str(w.data["name"]) for w in workflows}, refs)
    return problems


def _size(item: Located, limits: Limits) -> list[Problem]:
    """A workflow of more tasks than the limit (nested ones counted) is refused."""
    count = sum(1 for _ in iter_tasks_at(item.data.get("tasks")))
    if count <= limits.max_tasks:
        return []
    message = (
        f"workflow '{item.data['name']}' has {count:,} tasks, more than the limit of "
        f"{limits.max_tasks:,}; raise it with --max-tasks or {TASKS_VARIABLE} if the workflow "
        "is meant to be this large"
    )
    return [item.source.problem((*item.path, "tasks"), message, key=True)]


def _calls(workflows: list[Located]) -> list[Problem]:
    """HTTP tasks of ``workflows`` (nested ones too) that call anything but the stub."""
    problems: list[Problem] = []
    for item in workflows:
        for i, task in iter_tasks_at(item.data.get("tasks"), (*item.path, "tasks")):
            for sub, uri in http_uris(task):
                problems += uri_problems(item.source, (*i, *sub), uri)
    return problems


def _run_time_data(source: Source) -> list[Problem]:
    """URLs and HTTP tasks in what the server reads at run time: steps, workers, stub routes."""
    doc = source.data
    problems: list[Problem] = []
    for index, step in enumerate(doc.get("steps", [])):
        for action, args in step.items():
            if action not in (*DEFINITION_STEPS, *STEP_OPTIONS):
                problems += run_time_problems(source, ("steps", index, action), args)
    for key in ("workers", "http_stub"):
        if key in doc:
            problems += run_time_problems(source, (key,), doc[key])
    return problems


def _system_name(source: Source, path: FieldPath, name: str, key: bool = False) -> list[Problem]:
    if name.upper() in SYSTEM_TASK_TYPES:
        message = (
            f"worker task '{name}' is named like the system task type {name.upper()}, "
            "which some Conductor version runs itself; choose another name"
        )
        return [source.problem(path, message, key=key)]
    return []


def _steps(source: Source, workflow_names: set[str], refs: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    aliases: set[str] = set()
    tags = set(source.data.get("tags", []))
    for index, step in enumerate(source.data["steps"]):
        path: FieldPath = ("steps", index)
        if "start" in step:
            start = step["start"]
            name = start["workflow"]
            if name not in workflow_names and "expect_status" not in step:
                hint = did_you_mean(name, workflow_names)
                problems.append(
                    source.problem(
                        (*path, "start", "workflow"), f"no workflow named '{name}'{hint}"
                    )
                )
            aliases.add(start.get("as", name))
        for action in WORKFLOW_STEPS:
            if action not in step:
                continue
            args = step[action]
            alias = args if isinstance(args, str) else args["workflow"]
            where = (*path, action) if isinstance(args, str) else (*path, action, "workflow")
            if alias not in aliases:
                hint = did_you_mean(alias, aliases)
                problems.append(
                    source.problem(where, f"no earlier step started a workflow as '{alias}'{hint}")
                )
            for key in ("task", "from_task"):
                ref = args.get(key) if isinstance(args, dict) else None
                if ref is not None and ref not in refs:
                    hint = did_you_mean(ref, refs)
                    problems.append(
                        source.problem(
                            (*path, action, key), f"no task with reference '{ref}'{hint}"
                        )
                    )
        if "child" in step:  # checked as a workflow step above, then names a new alias
            aliases.add(step["child"]["as"])
        if "as" in step.get("call", {}):  # a call that starts a workflow
            aliases.add(step["call"]["as"])
        if "sleep" in step and WALL_CLOCK_TAG not in tags:
            problems.append(
                source.problem(
                    (*path, "sleep"),
                    "sleep is only for scenarios about wall-clock timers "
                    f"(tag '{WALL_CLOCK_TAG}'); "
                    "wait for a status or force a decision instead",
                )
            )
    return problems
