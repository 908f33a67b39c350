"""Settle: decide when a workflow tree has stopped moving, so its snapshot means something.

A snapshot is settled when two consecutive polls show the same projection (statuses,
outputs, attempts) and nothing is known to be about to move it: an async system task
still SCHEDULED, a DO_WHILE whose current iteration has ended, a JOIN whose branches
are all done (3.15.0 re-checks a JOIN on a back-off of up to 30 s, so a stable-looking
snapshot there is not final), a
SUB_WORKFLOW whose child has ended, a RUNNING workflow with nothing left to run, or
a worker task the simulated workers still owe an answer. Tasks waiting on a timer
(a callback, a WAIT, a HUMAN, an async system task the server's executor has already
taken and put back with a callback) are settled: moving them is a step's job.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.scenarios.definitions import ASYNC_SYSTEM_TASKS

Document = dict[str, Any]
TERMINAL_TASK = frozenset(
    {"CANCELED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "COMPLETED", "COMPLETED_WITH_ERRORS",
     "TIMED_OUT", "SKIPPED"}
)  # fmt: skip
TERMINAL_WORKFLOW = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
POLL_INTERVAL_S = 0.1

Owes = Callable[[Mapping[str, Any]], str | None]


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
    if isinstance(failure, str) and failure:
        found.append(failure)
    return list(dict.fromkeys(found))


def pending(documents: Sequence[Mapping[str, Any]], owes: Owes) -> list[str]:
    """Reasons the tree is still moving (empty: nothing known to be pending)."""
    by_id = {str(d.get("workflowId")): d for d in documents}
    reasons: list[str] = []
    for document in documents:
        tasks = document.get("tasks") or []
        latest = {t.get("referenceTaskName"): t for t in tasks}
        for task in tasks:
            ref, kind, status = (
                task.get("referenceTaskName"),
                task.get("taskType"),
                task.get("status"),
            )
            if kind in ASYNC_SYSTEM_TASKS and status == "SCHEDULED":
                if not postponed(task):
                    reasons.append(f"{kind} {ref} is scheduled")
            elif kind == "JOIN" and status == "IN_PROGRESS":
                join_on = (task.get("inputData") or {}).get("joinOn") or []
                if join_on and all(
                    latest.get(r, {}).get("status") in TERMINAL_TASK for r in join_on
                ):
                    reasons.append(f"JOIN {ref} has all its branches done")
            elif kind == "DO_WHILE" and status == "IN_PROGRESS" and _iteration_done(task, latest):
                reasons.append(f"DO_WHILE {ref} has finished iteration {task.get('iteration')}")
            elif kind == "SUB_WORKFLOW" and status == "IN_PROGRESS":
                child = by_id.get(str(task.get("subWorkflowId") or ""))
                if child is not None and child.get("status") in TERMINAL_WORKFLOW:
                    reasons.append(f"SUB_WORKFLOW {ref} has a finished child")
            else:
                why = owes(task)
                if why:
                    reasons.append(why)
        if (
            document.get("status") == "RUNNING"
            and tasks
            and all(t.get("status") in TERMINAL_TASK for t in tasks)
        ):
            reasons.append(f"workflow {document.get('workflowName')} has no task left to run")
    return reasons


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


def _iteration_done(loop: Mapping[str, Any], latest: Mapping[Any, Any]) -> bool:
    """Every task of the loop's current iteration has ended: its condition is next.

    Seen on netflix:3.15.0 under load: 3 s between the first iteration's task completing
    and the second one being scheduled, with the snapshot still in between."""
    body = ((loop.get("workflowTask") or {}).get("loopOver")) or []
    refs = [f"{t.get('taskReferenceName')}__{loop.get('iteration')}" for t in body]
    present = [latest[r] for r in refs if r in latest]
    return bool(present) and all(t.get("status") in TERMINAL_TASK for t in present)


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
    """Poll ``fetch`` until the tree is settled or ``deadline_s`` has passed."""
    began = time.monotonic()
    previous: str | None = None
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
        await asyncio.sleep(interval_s)
