"""Carry out one scenario step against the server, through its REST API only.

Every call a step makes is recorded by the transport. An error status is recorded
and the scenario goes on (the difference will show in the comparison), except where
nothing sensible can follow: a start that fails, or an ``expect_status`` the server
did not answer, end the scenario as a failed expectation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from harness.conductor.client import ConductorClient
from harness.runner.namespace import Namespace
from harness.runner.recorder import origin
from harness.runner.settle import Pacer
from harness.runner.templates import TemplateError, render
from harness.scenarios.model import LOOP_SUFFIX, Step
from harness.statuses import TERMINAL_WORKFLOW

# Workflow operations that are one call: action -> (method, path template, the step's
# options as {scenario key: (query parameter, default)}).
WORKFLOW_CALLS: dict[str, tuple[str, str, dict[str, tuple[str, Any]]]] = {
    "pause": ("PUT", "/api/workflow/{workflowId}/pause", {}),
    "resume": ("PUT", "/api/workflow/{workflowId}/resume", {}),
    "decide": ("PUT", "/api/workflow/decide/{workflowId}", {}),
    "reset_callbacks": ("POST", "/api/workflow/{workflowId}/resetcallbacks", {}),
    "terminate": ("DELETE", "/api/workflow/{workflowId}", {"reason": ("reason", None)}),
    "restart": (
        "POST",
        "/api/workflow/{workflowId}/restart",
        {"use_latest_definitions": ("useLatestDefinitions", False)},
    ),
    "retry": (
        "POST",
        "/api/workflow/{workflowId}/retry",
        {"resume_subworkflow_tasks": ("resumeSubworkflowTasks", False)},
    ),
    "remove": (
        "DELETE",
        "/api/workflow/{workflowId}/remove",
        {"archive": ("archiveWorkflow", True)},
    ),
}


class ExpectationFailed(Exception):
    """The server did not do what the scenario says it must (a finding, not a bug)."""


class WaitTimedOut(ExpectationFailed):
    """A ``wait`` step gave up: what it waited for did not happen within its time."""


@dataclass(slots=True)
class RunContext:
    client: ConductorClient
    names: Namespace
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> workflow id
    responses: list[httpx.Response] = field(default_factory=list)

    async def call(
        self, method: str, template: str, *, path: Mapping[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        url = template
        for key, value in (path or {}).items():
            url = url.replace("{" + key + "}", quote(value, safe=""))
        response = await self.client.request(method, url, template=template, **kwargs)
        self.responses.append(response)
        return response

    async def get_workflow(self, workflow_id: str) -> httpx.Response:
        """GET the workflow with its tasks (not counted as the step's own answer)."""
        return await self.client.request(
            "GET",
            f"/api/workflow/{quote(workflow_id, safe='')}",
            params={"includeTasks": "true"},
            template="/api/workflow/{workflowId}",
        )

    def workflow_id(self, args: Any) -> str:
        alias = args if isinstance(args, str) else args["workflow"]
        if alias not in self.aliases:  # a call named it, but started no workflow
            raise ExpectationFailed(f"no workflow was started as '{alias}'")
        return self.aliases[alias]

    async def latest_task(self, workflow_id: str, ref: str) -> dict[str, Any]:
        with origin("lookup"):
            response = await self.get_workflow(workflow_id)
        tasks = [
            t
            for t in (response.json().get("tasks") or [])
            if LOOP_SUFFIX.sub("", str(t.get("referenceTaskName"))) == ref
            or t.get("referenceTaskName") == ref
        ]
        if not tasks:
            raise ExpectationFailed(f"the workflow has no task '{ref}' (yet)")
        task: dict[str, Any] = tasks[-1]
        return task

    def template_context(self) -> dict[str, Any]:
        return {
            "workflow": dict(self.aliases),
            "name": {n: self.names.name(n) for n in self.names.names},
        }


async def run_step(step: Step, ctx: RunContext, settle_s: float) -> None:
    """Carry out ``step``; raises ``ExpectationFailed`` when the scenario cannot go on."""
    ctx.responses.clear()
    handler = _HANDLERS[step.action]
    try:
        await handler(step, ctx, settle_s)
    except TemplateError as exc:
        raise ExpectationFailed(str(exc)) from exc
    if step.expect_status is not None:
        got = [
            r.status_code
            for r in ctx.responses
            if r.request.method != "GET" or step.action == "call"
        ]
        got = got or [r.status_code for r in ctx.responses]
        last = got[-1] if got else None
        if last != step.expect_status:
            raise ExpectationFailed(
                f"expected status {step.expect_status}, the server answered {last}"
            )


async def _start(step: Step, ctx: RunContext, settle_s: float) -> None:
    args = step.args
    name = ctx.names.name(args["workflow"])
    workflow_input = render(args.get("input", {}), ctx.template_context())
    if args.get("by", "body") == "name":
        params: dict[str, Any] = {}
        for key, param in (
            ("version", "version"),
            ("correlation_id", "correlationId"),
            ("priority", "priority"),
        ):
            if key in args:
                params[param] = args[key]
        response = await ctx.call(
            "POST", "/api/workflow/{name}", path={"name": name}, json=workflow_input, params=params
        )
    else:
        body: dict[str, Any] = {"name": name, "input": workflow_input}
        for key, field_name in (
            ("version", "version"),
            ("correlation_id", "correlationId"),
            ("priority", "priority"),
        ):
            if key in args:
                body[field_name] = args[key]
        if "task_to_domain" in args:  # keyed by task name, so by this run's names
            body["taskToDomain"] = {ctx.names.name(k): v for k, v in args["task_to_domain"].items()}
        response = await ctx.call("POST", "/api/workflow", json=body)
    if response.status_code >= 300:
        if step.expect_status == response.status_code:
            return
        raise ExpectationFailed(
            f"starting {args['workflow']} answered {response.status_code}: {response.text[:300]}"
        )
    ctx.aliases[args.get("as", args["workflow"])] = _started(response)


async def _wait(step: Step, ctx: RunContext, settle_s: float) -> None:
    args = step.args
    workflow_id = ctx.workflow_id(args)
    statuses = _as_set(args.get("status"))
    task_statuses = _as_set(args.get("task_status"))
    ref = args.get("task")
    timeout = float(args.get("timeout_s", settle_s))
    began = time.monotonic()
    pacer = Pacer()
    seen = "nothing"
    while True:
        with origin("wait"):
            response = await ctx.call(
                "GET",
                "/api/workflow/{workflowId}",
                path={"workflowId": workflow_id},
                params={"includeTasks": "true"},
            )
        document = response.json() if response.status_code == 200 else {}
        status = document.get("status")
        ok = statuses is None or status in statuses
        seen = f"workflow {status}"
        if statuses is not None and not ok and status in TERMINAL_WORKFLOW:
            raise ExpectationFailed(
                f"waited for {_describe_wait(args)}; the workflow ended {status}"
            )
        if ref is not None:
            tasks = [
                t
                for t in document.get("tasks") or []
                if LOOP_SUFFIX.sub("", str(t.get("referenceTaskName"))) == ref
            ]
            task_status = tasks[-1].get("status") if tasks else None
            seen += f", task {ref} {task_status}"
            ok = ok and tasks != [] and (task_statuses is None or task_status in task_statuses)
        if ok:
            return
        if time.monotonic() - began > timeout:
            raise WaitTimedOut(f"waited {timeout:g} s for {_describe_wait(args)}; saw {seen}")
        pacer.saw(seen)
        await pacer.pause()


def _as_set(value: Any) -> set[str] | None:
    if value is None:
        return None
    return set(value if isinstance(value, list) else [value])


def _describe_wait(args: Mapping[str, Any]) -> str:
    parts = []
    if "status" in args:
        parts.append(f"workflow {args['status']}")
    if "task" in args:
        parts.append(f"task {args['task']} {args.get('task_status', 'to appear')}")
    return " and ".join(parts) or "the workflow"


async def _workflow_call(step: Step, ctx: RunContext, settle_s: float) -> None:
    method, template, options = WORKFLOW_CALLS[step.action]
    args = step.args if isinstance(step.args, dict) else {}
    params: dict[str, Any] = {}
    for key, (param, default) in options.items():
        value = args.get(key, default)
        if value is not None:
            params[param] = str(value).lower() if isinstance(value, bool) else value
    await ctx.call(
        method, template, path={"workflowId": ctx.workflow_id(step.args)}, params=params or None
    )


async def _rerun(step: Step, ctx: RunContext, settle_s: float) -> None:
    workflow_id = ctx.workflow_id(step.args)
    body: dict[str, Any] = {"reRunFromWorkflowId": workflow_id}
    if "from_task" in step.args:
        body["reRunFromTaskId"] = (await ctx.latest_task(workflow_id, step.args["from_task"]))[
            "taskId"
        ]
    if "task_input" in step.args:
        body["taskInput"] = step.args["task_input"]
    if "workflow_input" in step.args:
        body["workflowInput"] = step.args["workflow_input"]
    await ctx.call(
        "POST", "/api/workflow/{workflowId}/rerun", path={"workflowId": workflow_id}, json=body
    )


async def _skip(step: Step, ctx: RunContext, settle_s: float) -> None:
    body = {"taskInput": step.args.get("input", {}), "taskOutput": step.args.get("output", {})}
    await ctx.call(
        "PUT",
        "/api/workflow/{workflowId}/skiptask/{taskReferenceName}",
        path={"workflowId": ctx.workflow_id(step.args), "taskReferenceName": step.args["task"]},
        json=body,
    )


async def _task_update(step: Step, ctx: RunContext, settle_s: float) -> None:
    workflow_id = ctx.workflow_id(step.args)
    task = await ctx.latest_task(workflow_id, step.args["task"])
    if step.action == "complete_task":
        status = "COMPLETED"
    else:
        status = "FAILED_WITH_TERMINAL_ERROR" if step.args.get("terminal") else "FAILED"
    body: dict[str, Any] = {
        "workflowInstanceId": workflow_id,
        "taskId": task["taskId"],
        "status": status,
        "outputData": render(step.args.get("output", {}), ctx.template_context()),
    }
    if "reason" in step.args:
        body["reasonForIncompletion"] = step.args["reason"]
    await ctx.call("POST", "/api/tasks", json=body)


async def _definitions(step: Step, ctx: RunContext, settle_s: float) -> None:
    task_defs = [ctx.names.task_def(d) for d in step.args.get("task_defs", [])]
    workflows = [ctx.names.workflow(w) for w in step.args.get("workflows", [])]
    if step.action == "register":
        if task_defs:
            await ctx.call("POST", "/api/metadata/taskdefs", json=task_defs)
        for workflow in workflows:
            await ctx.call("POST", "/api/metadata/workflow", json=workflow)
    else:
        for task_def in task_defs:
            await ctx.call("PUT", "/api/metadata/taskdefs", json=task_def)
        if workflows:
            await ctx.call("PUT", "/api/metadata/workflow", json=workflows)


async def _delete(step: Step, ctx: RunContext, settle_s: float) -> None:
    if "workflow" in step.args:
        target = step.args["workflow"]
        await ctx.call(
            "DELETE",
            "/api/metadata/workflow/{name}/{version}",
            path={"name": ctx.names.name(target["name"]), "version": str(target["version"])},
        )
    if "task_def" in step.args:
        await ctx.call(
            "DELETE",
            "/api/metadata/taskdefs/{tdName}",
            path={"tdName": ctx.names.name(step.args["task_def"])},
        )


async def _call(step: Step, ctx: RunContext, settle_s: float) -> None:
    args = step.args
    context = ctx.template_context()
    for alias, workflow_id in ctx.aliases.items():
        context.setdefault("task", {})[alias] = await _task_ids(ctx, workflow_id)
    path = str(render(args["path"], context))
    kwargs: dict[str, Any] = {}
    if "query" in args:
        kwargs["params"] = render(args["query"], context)
    if "body" in args:
        kwargs["json"] = render(args["body"], context)
    if "text" in args:
        kwargs["content"] = str(render(args["text"], context))
    response = await ctx.client.request(args["method"], path, template=args["path"], **kwargs)
    ctx.responses.append(response)
    if "as" in args and response.is_success:  # a call that started a workflow: its id
        started = _started(response)
        if started and len(started) <= 200 and not any(c.isspace() for c in started):
            ctx.aliases[args["as"]] = started


def _started(response: httpx.Response) -> str:
    """The id a start request answered (plain text, or a JSON string)."""
    return response.text.strip().strip('"')


async def _task_ids(ctx: RunContext, workflow_id: str) -> dict[str, str]:
    with origin("lookup"):
        response = await ctx.get_workflow(workflow_id)
    if response.status_code != 200:
        return {}
    return {
        LOOP_SUFFIX.sub("", str(t.get("referenceTaskName"))): str(t.get("taskId"))
        for t in response.json().get("tasks") or []
    }


async def _child(step: Step, ctx: RunContext, settle_s: float) -> None:
    """Name the workflow that task REF of a workflow started (a SUB_WORKFLOW's child)."""
    task = await ctx.latest_task(ctx.workflow_id(step.args), step.args["task"])
    output = task.get("outputData") or {}
    child = task.get("subWorkflowId") or output.get("subWorkflowId") or output.get("workflowId")
    if not isinstance(child, str) or not child:
        raise ExpectationFailed(f"task '{step.args['task']}' has started no workflow (yet)")
    ctx.aliases[step.args["as"]] = child


async def _sleep(step: Step, ctx: RunContext, settle_s: float) -> None:
    await asyncio.sleep(float(step.args))


_HANDLERS = {
    **dict.fromkeys(WORKFLOW_CALLS, _workflow_call),
    "start": _start,
    "wait": _wait,
    "rerun": _rerun,
    "skip": _skip,
    "complete_task": _task_update,
    "fail_task": _task_update,
    "register": _definitions,
    "update": _definitions,
    "delete": _delete,
    "call": _call,
    "child": _child,
    "sleep": _sleep,
}
