"""What gets compared: a scrubbed trace cut into the comparison's levels.

Each level maps a *step* (the scenario step whose settled snapshot or REST call produced
it; ``-1`` for setup, ``None`` for worker traffic, which is not tied to a step) to a
document. Snapshot levels::

    status    {wf: {status, reasonForIncompletion}}, plus {"scenario": {outcome}}
    tasks     {wf: {ref#attempt: {taskType, status, iteration}}}     the task set
    attempts  {wf: {ref#attempt: every other task field}}          inputs, outputs, ...
    data      {wf: workflow fields but tasks, status and reason}   input, output, variables
    order     {wf: [ref#attempt in seq order]}                     when the scenario is sequential

and ``api``: {"<origin> <METHOD> <template> #n": {status, content_type, body}} for the
scenario's own calls (setup, steps, capture), plus worker calls that carried a task,
keyed by that task's symbol. Settle, wait and lookup polls are not compared (their
content is the snapshots); empty worker polls and cleanup calls neither: both depend
on timing. Every exchange left out is counted in ``View.omitted``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.normalize.collect import collection_paused
from harness.normalize.symbols import seq_of

_SYMBOL = re.compile(r"<([^<>]+)>")
LEVELS = ("status", "tasks", "attempts", "data", "order", "api")
STEP_LESS = None  # worker traffic
SETUP = -1
TASK_SET_FIELDS = ("taskType", "status", "iteration")
IDENTITY_FIELDS = ("taskId", "referenceTaskName", "retryCount", "workflowInstanceId")
STATUS_FIELDS = ("status", "reasonForIncompletion")
NOT_DATA = ("tasks", "workflowId", *STATUS_FIELDS)
_NOT_ATTEMPT = (*TASK_SET_FIELDS, *IDENTITY_FIELDS)
COMPARED_ORIGINS = ("setup", "step", "capture")

Step = int | None
LevelView = dict[Step, dict[str, Any]]


@dataclass(slots=True)
class View:
    """One trace, ready to compare: level -> step -> document. A run that stopped at a step
    with no snapshot of its own (a wait that gave up) keeps what it saw then: ``stopped_at``
    and ``seen`` (level -> document), for ``standing_in``. Read by the catalog's tests, never
    compared: why the run ended (``reason``), the calls that got no answer (``unanswered``:
    step and key -> the error, a read timeout say), and whether the run, played alone, kept
    a server thread running without pause (``runaway``: a decision that never ends)."""

    levels: dict[str, LevelView] = field(default_factory=lambda: {lv: {} for lv in LEVELS})
    omitted: Counter[str] = field(default_factory=Counter)
    stopped_at: int | None = None
    seen: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    unanswered: dict[tuple[Step, str], str] = field(default_factory=dict)
    runaway: bool = False


def symbol(value: Any) -> str:
    """``"<wf1>"`` -> ``"wf1"`` (a scrubbed id), anything else as text."""
    text = str(value)
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def task_key(task: Mapping[str, Any], workflow: str) -> str:
    """``ref#attempt`` from the task's symbol, so a restart's second id (``~2``) stays apart."""
    name = symbol(task.get("taskId"))
    prefix = f"{workflow}/"
    if name.startswith(prefix):
        return name[len(prefix) :]
    return f"{task.get('referenceTaskName')}#{task.get('retryCount')}"


def _task_keys(tasks: list[Mapping[str, Any]], workflow: str) -> list[str]:
    """``task_key`` of each task; a symbol under ``workflow`` (most tasks) is cut out as is."""
    opening = f"<{workflow}/"
    cut = len(opening)
    keys = []
    for task in tasks:
        name = task.get("taskId")
        if type(name) is str and name.startswith(opening) and name.endswith(">"):
            keys.append(name[cut:-1])
        else:
            keys.append(task_key(task, workflow))
    return keys


def build_view(trace: Mapping[str, Any], *, ordered: bool = True) -> View:
    """Cut a scrubbed trace into levels."""
    view = View()
    with collection_paused():
        for step in trace.get("steps") or []:
            documents = step.get("snapshots")
            if documents:
                _snapshots(view, step["index"], documents, ordered)
        outcome = trace.get("outcome") or {}
        last = outcome.get("step")
        seen = outcome.get("last_snapshot")
        if outcome.get("seen_at_stop") and seen and last not in view.levels["tasks"]:
            view.stopped_at, view.seen = last, _levels(seen, ordered)
        status = view.levels["status"].setdefault(last, {})
        status["scenario"] = {"outcome": outcome.get("status")}
        view.reason = outcome.get("reason")
        threads = outcome.get("runaway_threads") or []
        view.runaway = any(isinstance(t, Mapping) and t.get("alone") is True for t in threads)
        _exchanges(view, trace.get("exchanges") or [])
    return view


def standing_in(view: View, reference: View) -> View:
    """``view``, or, when its run stopped at a step with no snapshot of its own, a copy in
    which what it saw then stands at the first later step that ``reference`` has snapshots
    of (the step it never reached): where the reference went on, what the stopped run was."""
    if view.stopped_at is None:
        return view
    stop = view.stopped_at
    later = sorted(s for s in reference.levels["tasks"] if s is not None and s > stop)
    if not later or later[0] in view.levels["tasks"]:
        return view
    levels = {level: dict(steps) for level, steps in view.levels.items()}
    for level, document in view.seen.items():
        levels[level][later[0]] = document
    return View(
        levels, view.omitted, reason=view.reason, unanswered=view.unanswered, runaway=view.runaway
    )


def _snapshots(view: View, step: int, documents: list[Mapping[str, Any]], ordered: bool) -> None:
    for level, document in _levels(documents, ordered).items():
        view.levels[level][step] = document


def _levels(documents: list[Mapping[str, Any]], ordered: bool) -> dict[str, Any]:
    """The snapshot levels of one step's documents."""
    status: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    attempts: dict[str, Any] = {}
    data: dict[str, Any] = {}
    order: dict[str, Any] = {}
    for document in documents:
        workflow = symbol(document.get("workflowId"))
        status[workflow] = {k: document.get(k) for k in STATUS_FIELDS if k in document}
        if "http_status" in document:
            status[workflow]["http_status"] = document["http_status"]
        data[workflow] = {k: v for k, v in document.items() if k not in NOT_DATA}
        listed = sorted(
            (t for t in document.get("tasks") or [] if isinstance(t, Mapping)), key=seq_of
        )
        keys = _task_keys(listed, workflow)
        task_set: dict[str, Any] = {}
        attempt: dict[str, Any] = {}
        tasks[workflow], attempts[workflow] = task_set, attempt
        pop = dict.pop
        for key, task in zip(keys, listed, strict=True):
            task_set[key] = {k: task.get(k) for k in TASK_SET_FIELDS}
            fields = dict(task)  # every other field, in the task's order
            for k in _NOT_ATTEMPT:
                pop(fields, k, None)
            attempt[key] = fields
        if ordered:
            order[workflow] = keys
    return {"status": status, "tasks": tasks, "attempts": attempts, "data": data, "order": order}


def _exchanges(view: View, exchanges: list[Mapping[str, Any]]) -> None:
    seen: Counter[tuple[Step, str]] = Counter()
    api = view.levels["api"]
    for exchange in sorted(exchanges, key=lambda e: e.get("seq", 0)):
        origin = str(exchange.get("origin"))
        label = f"{exchange.get('method')} {exchange.get('path_template')}"
        step: Step
        if origin in COMPARED_ORIGINS:
            step = SETUP if exchange.get("step") is None else exchange["step"]
            name = f"{origin} {label}"
        elif origin == "worker" and _carries_task(exchange):
            step = STEP_LESS
            name = f"worker {label} {_task_of(exchange)}"
        else:
            view.omitted[_why_omitted(origin)] += 1
            continue
        seen[(step, name)] += 1
        answer = {
            "status": exchange.get("status"),
            "content_type": exchange.get("content_type"),
            "body": exchange.get("body", exchange.get("body_sha256")),
        }  # a missing body or header is absent, not null: "removed", not a type change
        key = f"{name} #{seen[(step, name)]}"
        api.setdefault(step, {})[key] = {k: v for k, v in answer.items() if v is not None}
        if exchange.get("status") is None and exchange.get("error"):
            view.unanswered[(step, key)] = str(exchange["error"])


def _carries_task(exchange: Mapping[str, Any]) -> bool:
    if exchange.get("method") == "GET":
        return bool(exchange.get("body"))
    return True


def _task_of(exchange: Mapping[str, Any]) -> str:
    body = exchange.get("body")
    if exchange.get("method") == "GET" and isinstance(body, list) and body:
        first = body[0]
        return symbol(first.get("taskId")) if isinstance(first, Mapping) else "?"
    request = exchange.get("request_body")
    if isinstance(request, Mapping) and "taskId" in request:
        return symbol(request["taskId"])
    found = _SYMBOL.search(str(exchange.get("path") or ""))
    return found.group(1) if found else "?"


def _why_omitted(origin: str) -> str:
    if origin == "worker":
        return "empty worker polls (timing)"
    if origin == "cleanup":
        return "cleanup calls (depend on what was still running)"
    return f"{origin} polls (their content is the step snapshots)"
