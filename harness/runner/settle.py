"""Settle: decide when a workflow tree has stopped moving, so its snapshot means something.

A snapshot is settled when two consecutive polls show the same projection (statuses,
outputs, attempts) and nothing is known to be about to move it: an async system task
still SCHEDULED, a DO_WHILE whose current iteration has ended (nested tasks included),
a JOIN whose branches are all done or that waits on nothing (3.15.0 re-checks a JOIN on
a back-off of up to 30 s, so a stable-looking snapshot there is not final), a WAIT past
its ``until`` or ``duration``, a task a decision runs to its end at once (INLINE,
SET_VARIABLE, ...) not ended yet, a SUB_WORKFLOW whose child has ended, a RUNNING workflow
with nothing left to run or not decided yet (no task at all), or a worker task the
simulated workers still owe an answer.
Tasks waiting on a timer that has not fired (a callback, a WAIT, a HUMAN, an async
system task the server's executor has already taken and put back with a callback) are
settled: moving them is a step's job.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harness.scenarios.definitions import ASYNC_SYSTEM_TASKS, IMMEDIATE_SYSTEM_TASKS, iter_tasks
from harness.statuses import TERMINAL_TASK, TERMINAL_WORKFLOW, joined_ended

Document = dict[str, Any]
POLL_INTERVAL_S = 0.1
# A tree (or a wait's condition) unchanged this long is waiting on a server timer (a
# retry delay, a sweep, a WAIT, the event handlers' refresh): polled less often, since
# each poll costs both the harness and the server, and such timers fire seconds apart.
SLOWER_AFTER_S = ((5.0, 0.25), (15.0, 0.5))


Owes = Callable[[Mapping[str, Any]], str | None]


def poll_interval(still_s: float, fastest_s: float = POLL_INTERVAL_S) -> float:
    """The pause before polling again something that has not changed for ``still_s``."""
    interval = fastest_s
    for after_s, slower_s in SLOWER_AFTER_S:
        if still_s >= after_s:
            interval = max(fastest_s, slower_s)
    return interval


class Pacer:
    """The pauses of one polling loop: ``fastest_s`` while what it sees changes, longer
    once that has stood still (``poll_interval``)."""

    def __init__(self, fastest_s: float = POLL_INTERVAL_S) -> None:
        self._fastest_s = fastest_s
        self._seen: object = None
        self._since = time.monotonic()

    def saw(self, value: object) -> None:
        if value != self._seen:
            self._seen, self._since = value, time.monotonic()

    async def pause(self) -> None:
        await asyncio.sleep(poll_interval(time.monotonic() - self._since, self._fastest_s))


def child_ids(document: Mapping[str, Any]) -> list[str]:
    """Workflows this one started: sub-workflows, START_WORKFLOW targets, its failure workflow."""
    found: list[str] = []
    for task in document.get("tasks") or []:
        output = task.get("outputData") or {}
        for candidate in (task.get("subWorkflowId"), output.get("subWorkflowId")):
            if isinstance(candidate, str) and candidate:
                found.append(candidate)
        if task.get("taskType") == "START_WORKFLOW" and isinstance(output.get("workflowId"), str):
            found.append(output["workflowId"])
    failure = (document.get("output") or {}).get("conductor.failure_workflow")
    if isinstance(failure, str) and failure and not any(c.isspace() for c in failure):
        found.append(failure)  # an id; when the start failed, the server puts its error here
    return list(dict.fromkeys(found))


def pending(
    documents: Sequence[Mapping[str, Any]], owes: Owes, now_ms: float | None = None
) -> list[str]:
    """Reasons the tree is still moving (empty: nothing known to be pending).

    ``now_ms`` is the server's clock (epoch milliseconds), for WAIT deadlines; the local
    clock by default (the servers run on this machine)."""
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    by_id = {str(d.get("workflowId")): d for d in documents}
    reasons: list[str] = []
    for document in documents:
        tasks = document.get("tasks") or []
        latest = {t.get("referenceTaskName"): t for t in tasks}
        for task in tasks:
            why = _task_pending(task, latest, by_id, now_ms) or owes(task)
            if why:
                reasons.append(why)
        if document.get("status") == "RUNNING" and not tasks:
            reasons.append(f"workflow {document.get('workflowName')} has not been decided yet")
        elif document.get("status") == "RUNNING" and all(
            t.get("status") in TERMINAL_TASK for t in tasks
        ):
            reasons.append(f"workflow {document.get('workflowName')} has no task left to run")
    return reasons


def _task_pending(
    task: Mapping[str, Any],
    latest: Mapping[Any, Any],
    by_id: Mapping[str, Mapping[str, Any]],
    now_ms: float,
) -> str | None:
    """Why the server is about to move ``task`` by itself (None: nothing known)."""
    ref, kind, status = task.get("referenceTaskName"), task.get("taskType"), task.get("status")
    if kind in ASYNC_SYSTEM_TASKS and status == "SCHEDULED":
        return None if postponed(task) else f"{kind} {ref} is scheduled"
    if kind in IMMEDIATE_SYSTEM_TASKS and status in ("SCHEDULED", "IN_PROGRESS"):
        return f"{kind} {ref} is {status}, a task a decision ends at once"
    if kind == "JOIN" and status == "IN_PROGRESS" and _join_ready(task, latest):
        waits_on = (task.get("inputData") or {}).get("joinOn")
        return f"JOIN {ref} {'has all its branches done' if waits_on else 'waits on nothing'}"
    if kind == "DO_WHILE" and status == "IN_PROGRESS" and _iteration_done(task, latest):
        return f"DO_WHILE {ref} has finished iteration {task.get('iteration')}"
    if kind == "WAIT" and status == "IN_PROGRESS" and _wait_due(task, now_ms):
        return f"WAIT {ref} is past its time"
    if kind == "SUB_WORKFLOW" and status == "IN_PROGRESS":
        child = by_id.get(str(task.get("subWorkflowId") or ""))
        if child is not None and child.get("status") in TERMINAL_WORKFLOW:
            return f"SUB_WORKFLOW {ref} has a finished child"
    return None


def postponed(task: Mapping[str, Any]) -> bool:
    """An async system task the server's executor took and put back for later.

    Seen on netflix:3.15.0: a WAIT rescheduled by retry stays SCHEDULED for good, its
    executor re-polling it every 30 s (pollCount 1, 2, ..., callbackAfterSeconds 30);
    conductor-oss starts the same task at once. A JOIN is left to its own rule."""
    return (
        task.get("taskType") != "JOIN"
        and bool(task.get("pollCount"))
        and bool(task.get("callbackAfterSeconds"))
    )


def _join_ready(join: Mapping[str, Any], latest: Mapping[Any, Any]) -> bool:
    """Every task the JOIN waits on has ended: its next evaluation completes it.

    An empty ``joinOn`` (a dynamic fork of nothing, or a JOIN written so) is ready at
    once: 3.15.0 completes it in the same decision, conductor-oss 3.21 on its executor's
    next pass."""
    join_on = (join.get("inputData") or {}).get("joinOn") or []
    return joined_ended(
        join_on,
        str(join.get("referenceTaskName") or ""),
        lambda r: (latest.get(r) or {}).get("status"),
    )


def _iteration_done(loop: Mapping[str, Any], latest: Mapping[Any, Any]) -> bool:
    """Every task of the loop's current iteration has ended: its condition is next.

    Nested tasks count (a WAIT inside a SWITCH holds the iteration although the SWITCH
    itself has ended). Seen on netflix:3.15.0 under load: 3 s between the first
    iteration's task completing and the second one being scheduled, with the snapshot
    still in between."""
    body = list(iter_tasks(((loop.get("workflowTask") or {}).get("loopOver")) or []))
    refs = [f"{t.get('taskReferenceName')}__{loop.get('iteration')}" for t in body]
    present = [latest[r] for r in refs if r in latest]
    return bool(present) and all(t.get("status") in TERMINAL_TASK for t in present)


_UNITS_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}
_DURATION = re.compile(r"(\d+)\s*(d|days?|h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?)\b")
_UNTIL_FORMATS = ("%Y-%m-%d %H:%M %Z", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _wait_due(task: Mapping[str, Any], now_ms: float) -> bool:
    """A WAIT whose ``until`` or ``duration`` has passed: the server is about to end it.

    Seen on netflix:3.15.0: a WAIT until a past date stays IN_PROGRESS for seconds
    before its executor completes it (3.32.1 completes it at once)."""
    data = task.get("inputData") or {}
    until, duration = data.get("until"), data.get("duration")
    if isinstance(until, str):
        text = until.strip().replace("UTC", "GMT")
        for fmt in _UNTIL_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
            except ValueError:
                continue
            # Read as UTC. Without a zone the server reads it in its own zone: only a
            # date more than a day past is surely due there.
            slack = 0 if fmt.endswith("%Z") else _UNITS_MS["d"]
            return moment.replace(tzinfo=UTC).timestamp() * 1000 + slack <= now_ms
        return False
    if isinstance(duration, str) and isinstance(task.get("startTime"), int | float):
        parts = _DURATION.findall(duration.strip().lower())
        if not parts:
            return False
        total = sum(int(n) * _UNITS_MS[unit[0]] for n, unit in parts)
        return float(task["startTime"]) + total <= now_ms
    return False


def projection(documents: Sequence[Mapping[str, Any]]) -> str:
    """What must stay the same between two polls for the tree to count as still."""
    view = [
        [
            d.get("workflowId"),
            d.get("status"),
            d.get("output"),
            [
                [t.get("taskId"), t.get("status"), t.get("retryCount"), t.get("outputData")]
                for t in d.get("tasks") or []
            ],
        ]
        for d in documents
    ]
    return json.dumps(view, sort_keys=True, default=str)


@dataclass(slots=True)
class Settled:
    settled: bool
    polls: int
    seconds: float
    documents: list[Document]
    reasons: list[str] = field(default_factory=list)


async def settle(
    fetch: Callable[[], Awaitable[list[Document]]],
    owes: Owes,
    deadline_s: float,
    interval_s: float = POLL_INTERVAL_S,
) -> Settled:
    """Poll ``fetch`` until the tree is settled or ``deadline_s`` has passed: every
    ``interval_s`` while it moves, less often once it has stood still (``poll_interval``)."""
    began = time.monotonic()
    previous: str | None = None
    pacer = Pacer(interval_s)
    polls = 0
    while True:
        documents = await fetch()
        polls += 1
        current = projection(documents)
        reasons = pending(documents, owes)
        if not reasons and current == previous:
            return Settled(True, polls, round(time.monotonic() - began, 3), documents)
        if previous is not None and current != previous:
            reasons = [*reasons, "the snapshot changed since the last poll"]
        if time.monotonic() - began >= deadline_s:
            return Settled(False, polls, round(time.monotonic() - began, 3), documents, reasons)
        previous = current
        pacer.saw(current)
        await pacer.pause()
