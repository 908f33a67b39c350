"""Facts about Conductor definitions that scenarios and the runner share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Task types that a server runs itself, on any version the harness knows. A worker
# task named like one of these would be taken for a system task on some version
# (conductor-oss 3.32 registers the AI and agent ones: seen in 3.32.1's start log).
SYSTEM_TASK_TYPES: frozenset[str] = frozenset(
    {
        # Netflix 3.15.0 and every later version
        "DECISION", "SWITCH", "DYNAMIC", "FORK_JOIN", "FORK", "FORK_JOIN_DYNAMIC", "JOIN",
        "EXCLUSIVE_JOIN", "SUB_WORKFLOW", "START_WORKFLOW", "EVENT", "WAIT", "HUMAN", "HTTP",
        "LAMBDA", "INLINE", "JSON_JQ_TRANSFORM", "KAFKA_PUBLISH", "DO_WHILE", "TERMINATE",
        "SET_VARIABLE", "NOOP", "USER_DEFINED", "SIMPLE",
        # conductor-oss 3.32.1
        "AGENT", "CALL_MCP_TOOL", "CANCEL_AGENT", "GENERATE_AUDIO", "GENERATE_IMAGE",
        "GENERATE_PDF", "GENERATE_VIDEO", "GET_AGENT_CARD", "JDBC", "LIST_MCP_TOOLS",
        "LLM_CHAT_COMPLETE", "LLM_GENERATE_EMBEDDINGS", "LLM_GET_EMBEDDINGS", "LLM_INDEX_TEXT",
        "LLM_INDEX_DOCUMENT", "LLM_SEARCH_EMBEDDINGS", "LLM_SEARCH_INDEX",
        "LLM_STORE_EMBEDDINGS", "LLM_TEXT_COMPLETE", "PULL_WORKFLOW_MESSAGES", "HELLO",
    }
)  # fmt: skip

# System tasks a decision runs to their end at once: one seen not yet ended belongs to a
# decision still under way (conductor-oss 3.30+ decides a sub-workflow's child from a
# queue, and a snapshot can catch its INLINE IN_PROGRESS).
IMMEDIATE_SYSTEM_TASKS: frozenset[str] = frozenset(
    {"INLINE", "JSON_JQ_TRANSFORM", "SET_VARIABLE", "TERMINATE", "NOOP", "LAMBDA"}
)

# System tasks that run on the server's background workers, not inside the call that
# scheduled them: a snapshot with one of them SCHEDULED is not settled yet.
ASYNC_SYSTEM_TASKS: frozenset[str] = frozenset(
    {"SUB_WORKFLOW", "START_WORKFLOW", "HTTP", "JOIN", "EVENT", "KAFKA_PUBLISH", "WAIT"}
)

# What the harness registers for a task definition the scenario only names
# (CATALOG §3.0 F-TD): no retries and no delays unless the scenario asks for them.
HARNESS_TASK_DEFAULTS: dict[str, Any] = {
    "retryCount": 0,
    "retryDelaySeconds": 0,
    "retryLogic": "FIXED",
    "timeoutSeconds": 0,
    "responseTimeoutSeconds": 3600,
    "timeoutPolicy": "TIME_OUT_WF",
    "ownerEmail": "compat@example.org",
}

WORKFLOW_DEFAULTS: dict[str, Any] = {
    "version": 1,
    "schemaVersion": 2,
    "ownerEmail": "compat@example.org",
}


TaskPath = tuple[str | int, ...]


def iter_tasks_at(tasks: Any, base: TaskPath = ()) -> Iterator[tuple[TaskPath, dict[str, Any]]]:
    """Every workflow task in ``tasks``, nested ones included (depth first), with its path.

    Definitions are free-form JSON to the schema, so any part may have another shape
    than Conductor's: such parts hold no tasks.

    Nested means inside a SWITCH or DECISION, a FORK, a DO_WHILE, and the inline
    definition of a SUB_WORKFLOW (``subWorkflowParam.workflowDefinition``): its worker
    tasks need definitions and workers, and its HTTP tasks must call the stub too.
    """
    if not isinstance(tasks, list):
        return
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            continue
        path = (*base, index)
        yield path, task
        cases = task.get("decisionCases")
        for case, branch in cases.items() if isinstance(cases, dict) else ():
            yield from iter_tasks_at(branch, (*path, "decisionCases", case))
        yield from iter_tasks_at(task.get("defaultCase"), (*path, "defaultCase"))
        forks = task.get("forkTasks")
        for fork_index, fork in enumerate(forks if isinstance(forks, list) else ()):
            yield from iter_tasks_at(fork, (*path, "forkTasks", fork_index))
        yield from iter_tasks_at(task.get("loopOver"), (*path, "loopOver"))
        sub = task.get("subWorkflowParam")
        inline = sub.get("workflowDefinition") if isinstance(sub, dict) else None
        if isinstance(inline, dict):  # a child defined in place: its tasks run too
            yield from iter_tasks_at(
                inline.get("tasks"), (*path, "subWorkflowParam", "workflowDefinition", "tasks")
            )


def iter_tasks(tasks: Any) -> Iterator[dict[str, Any]]:
    """Every workflow task in ``tasks``, nested ones included (depth first)."""
    for _, task in iter_tasks_at(tasks):
        yield task


def is_worker_task(task: dict[str, Any]) -> bool:
    """A task a worker polls for: SIMPLE (the default type)."""
    return str(task.get("type", "SIMPLE")) == "SIMPLE"
