"""The tests a catalogued change makes beyond a difference's level, kind and path.

- ``Predicate``: one value (absent, equals, one_of, type, matches, empty);
- ``Condition``: some value at a path of what the scenario defined and sent passes a
  predicate (``uses``: only workflows that use a feature reach the change);
- ``Clause``: some value (with ``none``: no value) at a path of the object the difference
  is in passes a predicate, on one side (``where``): the exchange for an API difference
  (its status, content type and body; a call that got no answer also carries
  ``unanswered``: its error), the task for a task-level one (a JOIN's also carries
  ``joined_ended``: every task it joins on had ended in that snapshot), the workflow for a
  status or data one (with ``tasks``, its task set with each task's ``executed``, and
  ``timed`` for one that waits on a time;
  ``tasks_ended``: every task had ended, nothing was left to run; ``undecided``: the types of
  its ended tasks not marked executed, which no decision has followed); for the run's outcome
  (``scenario``), the status level of its step: ``scenario.outcome``, ``scenario.reason``
  (why the run ended), ``scenario.runaway`` (the run, played alone, kept a server thread
  running without pause) and each workflow's ``status`` there.

``Scene`` holds what those tests read for one scenario: what it defined and sent
(``scene_document``: its definitions, and under ``requests`` the bodies of its own calls),
and the views of one baseline run and one candidate run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.compare import Difference, View
from harness.normalize import Pattern
from harness.statuses import TERMINAL_TASK, joined_ended

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}
ABSENT: Any = object()
BASELINE, CANDIDATE = "baseline", "candidate"


@dataclass(frozen=True, slots=True)
class Predicate:
    """A test on one value; ``ABSENT`` stands for "no value on that side"."""

    spec: Mapping[str, Any]

    def holds(self, value: Any) -> bool:
        spec = self.spec
        absent = value is ABSENT
        if "absent" in spec and spec["absent"] != absent:
            return False
        if absent:
            return set(spec) <= {"absent"}
        if "equals" in spec and not _same(value, spec["equals"]):
            return False
        if "one_of" in spec and not any(_same(value, v) for v in spec["one_of"]):
            return False
        if "type" in spec:
            kinds = _TYPES[spec["type"]]
            if not isinstance(value, kinds) or (
                isinstance(value, bool) and spec["type"] in ("number", "integer")
            ):
                return False
        if "empty" in spec and spec["empty"] != (value in ([], {}, "")):
            return False
        if "multiple_of" in spec and not _multiple(value, spec["multiple_of"]):
            return False
        if "matches" in spec:
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            if not re.search(spec["matches"], text):
                return False
        return True

    def holds_somewhere(self, found: list[Any]) -> bool:
        """For the values found at a path: with ``absent``, that there are none."""
        if self.spec.get("absent"):
            return not found
        return any(self.holds(v) for v in found)


def _multiple(value: Any, of: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value % of == 0


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    return bool(value == wanted)


def predicate(raw: Mapping[str, Any], *, without: tuple[str, ...] = ()) -> Predicate:
    return Predicate({k: v for k, v in raw.items() if k not in without})


@dataclass(frozen=True, slots=True)
class Condition:
    """Holds when some value at ``path`` in the definitions passes ``test`` (with ``absent``:
    when no value is there)."""

    path: Pattern
    test: Predicate

    def holds(self, scene: Scene) -> bool:
        memo = scene.memo
        if id(self) not in memo:
            found = [v for p, v in scene.nodes() if self.path.matches(p)]
            memo[id(self)] = self.test.holds_somewhere(found)
        return memo[id(self)]


@dataclass(frozen=True, slots=True)
class Clause:
    """Holds when some value at ``path`` in the object holding the difference, on ``side``
    (``old``: the side without the change, ``new``: the side with it), passes ``test``."""

    side: str
    path: Pattern
    test: Predicate
    none: bool = False  # holds when no value at the path passes the test
    of: str = ""  # "workflow": the workflow a task-level difference is in, not the task

    def holds(self, difference: Difference, forward: bool, scene: Scene) -> bool:
        """For a difference seen in several places at once (the same values in two tasks,
        say), the clause holds when it holds in one of them."""
        side = BASELINE if (self.side == "old") == forward else CANDIDATE
        for holder in scene.holders(difference, side, of=self.of):
            found = [v for p, v in walk(holder, ()) if self.path.matches(p)]
            if self.none and not any(self.test.holds(v) for v in found):
                return True
            if not self.none and self.test.holds_somewhere(found):
                return True
        return False


def scene_document(trace: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's scenario defined and sent, as ``Condition`` reads it: its definitions
    (``workflows``, ``task_defs``) and ``requests``, the bodies of its own calls (setup and
    steps: an ``extendLease`` a step sent, say)."""
    definitions = trace.get("definitions")
    out = dict(definitions) if isinstance(definitions, Mapping) else {}
    out["requests"] = [
        e.get("request_body")
        for e in trace.get("exchanges") or []
        if e.get("origin") in ("setup", "step") and e.get("request_body") is not None
    ]
    return out


class Scene:
    """What ``Condition`` and ``Clause`` read for one scenario."""

    def __init__(
        self, definitions: Any, baseline: View | None = None, candidate: View | None = None
    ) -> None:
        self.definitions = definitions
        self.views = {BASELINE: baseline, CANDIDATE: candidate}
        self.memo: dict[int, bool] = {}
        self._workflows: dict[tuple[Any, ...], Mapping[str, Any] | None] = {}
        self._parents: dict[str, str] | None = None  # sub-workflow -> the workflow it runs in
        self._nodes: list[tuple[tuple[str | int, ...], Any]] | None = None

    def nodes(self) -> list[tuple[tuple[str | int, ...], Any]]:
        if self._nodes is None:
            self._nodes = list(walk(self.definitions, ()))
        return self._nodes

    def within(self, inner: str, outer: str) -> bool:
        """Whether workflow ``inner`` is ``outer`` or one of its sub-workflows (a child's,
        a grandchild's ...), as a SUB_WORKFLOW task of either side names it."""
        if self._parents is None:
            self._parents = {}
            for view in self.views.values():
                for document in view.levels["attempts"].values() if view is not None else ():
                    _children(document, self._parents)
        seen = set()
        while inner != outer and inner not in seen:
            seen.add(inner)
            parent = self._parents.get(inner)
            if parent is None:
                return False
            inner = parent
        return inner == outer

    def holders(
        self, difference: Difference, side: str, *, of: str = ""
    ) -> list[Mapping[str, Any]]:
        """The exchanges, tasks or workflows that ``difference`` is in, on ``side`` (with
        ``of="workflow"``: the workflows its tasks are in)."""
        places = difference.all_parts or (difference.shape_parts,)
        found = [self._first(difference, side, parts, of) for parts in places]
        return [h for h in found if h is not None]

    def _first(
        self, difference: Difference, side: str, parts: tuple[str | int, ...], of: str
    ) -> Mapping[str, Any] | None:
        """The holder at ``parts`` in the first step of ``difference`` that has it (a task
        made by a later step, a second attempt say, is not in the first)."""
        for step in difference.steps:
            if of != WORKFLOW:
                found = self._holder(difference, side, parts, step)
            elif difference.level in ("tasks", "attempts") and parts:
                found = self._workflow(side, step, parts[0])
            else:
                return None
            if found is not None:
                return found
        return None

    def _holder(
        self, difference: Difference, side: str, parts: tuple[str | int, ...], step: Any
    ) -> Mapping[str, Any] | None:
        """The exchange, task or workflow at ``parts`` (a place of ``difference``) at
        ``step``."""
        view = self.views[side]
        if view is None or not parts:
            return None
        if difference.level == "api":
            exchange = _get(view.levels["api"], step, parts[0])
            error = view.unanswered.get((step, str(parts[0])))
            if exchange is None or error is None:
                return exchange
            return {**exchange, UNANSWERED: error}
        if difference.level == "status" and parts == OUTCOME:
            # the run's outcome: why it ended, beside every workflow's status at that step
            level = _get(view.levels, "status", step) or {}
            outcome = {**(level.get(OUTCOME[0]) or {}), "reason": view.reason}
            return {**level, OUTCOME[0]: {**outcome, "runaway": view.runaway}}
        if difference.level in ("tasks", "attempts") and len(parts) > 1:
            task = _merged(view, ("tasks", "attempts"), step, parts[0], parts[1])
            if task is not None and task.get("taskType") == "JOIN":
                siblings = _get(view.levels["tasks"], step, parts[0]) or {}
                return {**task, JOINED_ENDED: _joined_ended(task, str(parts[1]), siblings)}
            return task
        return self._workflow(side, step, parts[0])

    def _workflow(self, side: str, step: Any, key: Any) -> Mapping[str, Any] | None:
        """The workflow ``key`` at ``step`` on ``side``, with its task set, made once."""
        memo = (side, step, key)
        if memo in self._workflows:
            return self._workflows[memo]
        view = self.views[side]
        workflow = _merged(view, ("status", "data"), step, key) if view is not None else None
        tasks = _get(view.levels["tasks"], step, key) if view is not None else None
        if view is not None and workflow is not None and tasks is not None:
            task_set = _task_set(view, step, key)
            ended = all(t.get("status") in TERMINAL_TASK for t in tasks.values())
            undecided = _undecided(task_set)
            workflow = {**workflow, TASK_SET: task_set, TASKS_ENDED: ended, UNDECIDED: undecided}
        self._workflows[memo] = workflow
        return workflow


def _children(document: Mapping[str, Any], parents: dict[str, str]) -> None:
    """Note in ``parents`` the sub-workflows that the tasks of a level's document name."""
    for workflow, tasks in document.items():
        for task in (tasks or {}).values() if isinstance(tasks, Mapping) else ():
            if not isinstance(task, Mapping):
                continue
            output = task.get("outputData")
            named = [task.get("subWorkflowId")]
            if isinstance(output, Mapping):
                named.append(output.get("subWorkflowId"))
            for child in named:
                found = _SUB_WORKFLOW.fullmatch(child) if isinstance(child, str) else None
                if found and found.group(1) != workflow:
                    parents.setdefault(found.group(1), str(workflow))


_SUB_WORKFLOW = re.compile(r"<(wf\d+)>")  # a sub-workflow's id, as the scrub writes it


def _task_set(view: View, step: Any, workflow: Any) -> dict[str, Any]:
    """A workflow's tasks at ``step``, ref#attempt -> the task with its ``executed`` flag."""
    tasks = _get(view.levels["tasks"], step, workflow) or {}
    attempts = _get(view.levels["attempts"], step, workflow) or {}
    return {key: {**task, **_flags(attempts.get(key))} for key, task in tasks.items()}


def _undecided(task_set: Mapping[str, Any]) -> list[str]:
    """The types of the ended tasks of a task set that no decision followed yet."""
    return sorted(
        {
            str(t.get("taskType"))
            for t in task_set.values()
            if t.get("status") in TERMINAL_TASK and t.get("executed") is False
        }
    )


WORKFLOW = "workflow"  # a clause's ``of``: the workflow a task is in
JOINED_ENDED = "joined_ended"  # a JOIN's: every task it joins on had ended in that snapshot
UNANSWERED = "unanswered"  # an exchange's: the error of a call that got no answer
TASK_SET = "tasks"  # a workflow's: its task set, ref#attempt -> taskType, status, iteration
# (and executed, timed: see _flags)
TASKS_ENDED = "tasks_ended"  # a workflow's: every task of it had ended (nothing left to run)
UNDECIDED = "undecided"  # a workflow's: the types of its ended tasks no decision followed yet


def _flags(attempt: Any) -> dict[str, Any]:
    """A task's ``executed`` flag (whether a decision has followed its end), where recorded,
    and ``timed`` for a task waiting on a time (a WAIT with a duration or an until)."""
    if not isinstance(attempt, Mapping):
        return {}
    flags = {"executed": attempt["executed"]} if "executed" in attempt else {}
    given = attempt.get("inputData")
    if isinstance(given, Mapping) and ("duration" in given or "until" in given):
        flags["timed"] = True
    return flags


OUTCOME = ("scenario",)  # the status level's place for a run's outcome


def _joined_ended(join: Mapping[str, Any], key: str, tasks: Mapping[str, Any]) -> bool:
    """Whether every task ``join`` (the task at ``key``, ``ref#attempt``) joins on has ended
    among ``tasks`` (its workflow's task set, keyed ``ref#attempt``): the latest attempt of
    each."""
    latest: dict[str, Any] = {}
    for name, task in tasks.items():
        latest[str(name).partition("#")[0]] = task
    join_on = (join.get("inputData") or {}).get("joinOn") or []
    return joined_ended(
        join_on, key.partition("#")[0], lambda r: (latest.get(r) or {}).get("status")
    )


def _get(level: Mapping[Any, Any], step: Any, *keys: Any) -> Mapping[str, Any] | None:
    node: Any = level.get(step)
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def _merged(view: View, levels: tuple[str, ...], step: Any, *keys: Any) -> Mapping[str, Any] | None:
    parts = [_get(view.levels[level], step, *keys) for level in levels]
    found = [p for p in parts if p is not None]
    return {k: v for p in found for k, v in p.items()} if found else None


def walk(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every (path, value) of a document, the document itself first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))
