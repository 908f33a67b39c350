"""Read workflow and task definitions from JSON files, whatever shape they come in.

Accepted shapes, per file: one workflow definition; one task definition; a list of
either, mixed; or an export of a server's metadata, an object holding lists under
``workflowDefs``/``workflows`` and ``taskDefs``/``taskDefinitions`` (what
``GET /api/metadata/workflow`` and ``GET /api/metadata/taskdefs`` answer, side by
side). A workflow is an object with a string ``name`` and a list of ``tasks``; a
task definition is an object with a string ``name`` and no ``tasks``. Anything else
is refused with the file and what is wrong, every problem at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import BadInputError

# Fields a server sets on every definition it stores; they say nothing about behaviour.
AUDIT_FIELDS = frozenset({"createTime", "updateTime", "createdBy", "updatedBy"})
WORKFLOW_LIST_KEYS = ("workflowDefs", "workflows", "workflowDefinitions")
TASK_DEF_LIST_KEYS = ("taskDefs", "taskDefinitions")


class DefinitionError(BadInputError):
    """Input that is not JSON, or not workflow or task definitions (exit 2)."""

    def __init__(self, problems: Sequence[str]) -> None:
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' * (count != 1)} in the definitions to import; nothing "
            "was written",
            details=list(problems),
        )
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Definition:
    """One definition and where it came from (``file`` or ``file[3]``)."""

    data: dict[str, Any]
    origin: str  # the file (or server) it was read from
    where: str  # origin plus the place inside it, for messages

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def version(self) -> int:
        version = self.data.get("version", 1)
        return version if isinstance(version, int) and not isinstance(version, bool) else 1


@dataclass(slots=True)
class DefinitionSet:
    """Every workflow and task definition of an import, in input order."""

    workflows: list[Definition] = field(default_factory=list)
    task_defs: list[Definition] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # --skip-invalid: each file left out, why

    def extend(self, other: DefinitionSet) -> None:
        self.workflows += other.workflows
        self.task_defs += other.task_defs
        self.skipped += other.skipped


def without_audit(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in AUDIT_FIELDS}


def read_files(paths: Iterable[Path], *, skip_invalid: bool = False) -> DefinitionSet:
    """The definitions in ``paths``; raises ``DefinitionError`` listing every problem of
    every file, or with ``skip_invalid`` leaves out each file that has one and lists its
    problems in ``skipped``."""
    found = DefinitionSet()
    for path in paths:
        definitions, problems = _read(path)
        if problems:
            found.skipped += problems
        else:
            found.extend(definitions)
    if found.skipped and not skip_invalid:
        raise DefinitionError(found.skipped)
    return found


def _read(path: Path) -> tuple[DefinitionSet, list[str]]:
    """One file's definitions, and its problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DefinitionSet(), [f"{path}: no such file"]
    except (OSError, UnicodeDecodeError) as exc:
        return DefinitionSet(), [f"{path}: cannot be read: {exc}"]
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return DefinitionSet(), [
            f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg} (a definition file "
            "is the JSON a Conductor server takes or answers)"
        ]
    return classify(document, str(path))


def classify(
    document: Any, origin: str, *, indexed: bool = True
) -> tuple[DefinitionSet, list[str]]:
    """Sort ``document`` (already parsed JSON) into workflows and task definitions.

    ``indexed``: say where in ``origin`` each definition was (``file[3]``); a server's
    listing has no order worth naming."""
    found = DefinitionSet()
    problems: list[str] = []
    if isinstance(document, dict) and not isinstance(document.get("name"), str):
        keys = [k for k in (*WORKFLOW_LIST_KEYS, *TASK_DEF_LIST_KEYS) if k in document]
        if not keys:
            return found, [
                f"{origin}: not a definition: a workflow is an object with 'name' and "
                "'tasks', a task definition an object with 'name'; an export holds lists "
                f"under {' or '.join(WORKFLOW_LIST_KEYS + TASK_DEF_LIST_KEYS)} "
                f"(found keys: {', '.join(sorted(document)[:8]) or 'none'})"
            ]
        for key in keys:
            items = document[key]
            if not isinstance(items, list):
                problems.append(f"{origin}: '{key}' is not a list")
                continue
            for index, item in enumerate(items):
                _one(item, origin, f"{origin}: {key}[{index}]", found, problems)
        return found, problems
    if isinstance(document, list):
        if not document:
            return found, [f"{origin}: an empty list holds no definition"]
        for index, item in enumerate(document):
            _one(item, origin, f"{origin}[{index}]" if indexed else origin, found, problems)
        return found, problems
    _one(document, origin, origin, found, problems)
    return found, problems


def _one(item: Any, origin: str, where: str, found: DefinitionSet, problems: list[str]) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        kind = type(item).__name__ if not isinstance(item, dict) else "an object without 'name'"
        problems.append(
            f"{where}: not a definition ({kind}): a workflow or task definition is an "
            "object with a 'name'"
        )
        return
    if "tasks" not in item:
        found.task_defs.append(Definition(without_audit(item), origin, where))
        return
    before = len(problems)
    _check_tasks(item["tasks"], f"{where} (workflow '{item['name']}')", "tasks", problems)
    if len(problems) == before:
        found.workflows.append(Definition(without_audit(item), origin, where))


def _check_tasks(tasks: Any, where: str, path: str, problems: list[str]) -> None:
    """Each workflow task needs a name and a taskReferenceName; nested lists too."""
    if not isinstance(tasks, list):
        problems.append(f"{where}: {path} is not a list of tasks")
        return
    for index, task in enumerate(tasks):
        here = f"{path}[{index}]"
        if not isinstance(task, dict):
            problems.append(f"{where}: {here} is not a task object")
            continue
        missing = [
            key
            for key in ("name", "taskReferenceName")
            if not isinstance(task.get(key), str) or not task[key]
        ]
        if missing:
            problems.append(f"{where}: {here} has no {' and no '.join(missing)}")
        cases = task.get("decisionCases") or {}
        if not isinstance(cases, dict):
            problems.append(f"{where}: {here}.decisionCases is not an object")
            cases = {}
        for case, branch in cases.items():
            _check_tasks(branch, where, f"{here}.decisionCases.{case}", problems)
        if task.get("defaultCase"):
            _check_tasks(task["defaultCase"], where, f"{here}.defaultCase", problems)
        forks = task.get("forkTasks") or []
        if not isinstance(forks, list):
            problems.append(f"{where}: {here}.forkTasks is not a list of branches")
            forks = []
        for fork_index, fork in enumerate(forks):
            _check_tasks(fork, where, f"{here}.forkTasks[{fork_index}]", problems)
        if task.get("loopOver"):
            _check_tasks(task["loopOver"], where, f"{here}.loopOver", problems)


def read_inputs(path: Path, workflows: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``--input FILE``: a start input per workflow name. The file (JSON) holds one input,
    for every workflow, or a map of workflow name to input: a map when every key names a
    workflow of the import and every value is an object. Raises ``BadInputError``."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(f"--input {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"--input {path}: cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"--input {path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}"
        ) from None
    if not isinstance(document, dict):
        raise BadInputError(
            f"--input {path}: a start input is a JSON object (one input, or workflow name -> "
            f"input), not {type(document).__name__}"
        )
    names = set(workflows)
    if document and set(document) <= names and all(isinstance(v, dict) for v in document.values()):
        return {str(k): v for k, v in document.items()}
    return {name: document for name in names}
