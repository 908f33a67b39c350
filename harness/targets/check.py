"""The smoke check behind ``targets check``: one SIMPLE task, polled and completed.

Names carry a random prefix and are removed afterwards, so the check is safe on a
shared remote server.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass

from harness.conductor import ConductorClient
from harness.errors import HarnessError
from harness.targets.model import RunningTarget

WORKER_ID = "conductor-compat-check"
OWNER = "conductor-compat@example.invalid"


@dataclass(frozen=True, slots=True)
class CheckResult:
    target: str
    passed: bool
    detail: str
    seconds: float


async def run_check(target: RunningTarget, timeout_s: float = 60.0) -> CheckResult:
    started = time.monotonic()
    prefix = f"cc_check_{secrets.token_hex(4)}"
    task_name, wf_name = f"{prefix}_task", f"{prefix}_wf"
    async with ConductorClient(target.base_url, headers=target.headers) as client:
        workflow_id: str | None = None
        try:
            workflow_id, detail = await asyncio.wait_for(
                _exercise(client, task_name, wf_name), timeout=timeout_s
            )
            passed = detail == "COMPLETED"
        except TimeoutError:
            passed, detail = False, f"no COMPLETED workflow within {timeout_s:.0f} s"
        except HarnessError as exc:
            passed, detail = False, exc.message
        finally:
            await _cleanup(client, workflow_id, wf_name, task_name)
    return CheckResult(str(target.spec), passed, detail, time.monotonic() - started)


async def _exercise(client: ConductorClient, task_name: str, wf_name: str) -> tuple[str, str]:
    await client.register_task_defs(
        [
            {
                "name": task_name,
                "retryCount": 0,
                "timeoutSeconds": 60,
                "responseTimeoutSeconds": 30,
                "ownerEmail": OWNER,
            }
        ]
    )
    await client.register_workflow_def(
        {
            "name": wf_name,
            "version": 1,
            "schemaVersion": 2,
            "ownerEmail": OWNER,
            "tasks": [
                {
                    "name": task_name,
                    "taskReferenceName": "only",
                    "type": "SIMPLE",
                    "inputParameters": {"x": "${workflow.input.x}"},
                }
            ],
            "outputParameters": {"y": "${only.output.y}"},
        }
    )
    workflow_id = await client.start_workflow(wf_name, {"x": 41})
    polled: list[dict[str, object]] = []
    while not polled:
        polled = await client.poll_batch(task_name, WORKER_ID, count=1, timeout_ms=1000)
    task = polled[0]
    if task.get("inputData") != {"x": 41}:
        return (
            workflow_id,
            f"the task received input {task.get('inputData')!r}, expected {{'x': 41}}",
        )
    await client.update_task(
        {
            "workflowInstanceId": workflow_id,
            "taskId": task["taskId"],
            "workerId": WORKER_ID,
            "status": "COMPLETED",
            "outputData": {"y": 42},
        }
    )
    while True:
        workflow = await client.get_workflow(workflow_id, include_tasks=False)
        status = workflow.get("status")
        if status == "COMPLETED":
            if workflow.get("output") != {"y": 42}:
                return (
                    workflow_id,
                    f"COMPLETED with output {workflow.get('output')!r}, expected {{'y': 42}}",
                )
            return workflow_id, "COMPLETED"
        if status in ("FAILED", "TERMINATED", "TIMED_OUT"):
            return workflow_id, f"workflow ended {status}: {workflow.get('reasonForIncompletion')}"
        await asyncio.sleep(0.05)


async def _cleanup(
    client: ConductorClient, workflow_id: str | None, wf_name: str, task_name: str
) -> None:
    steps = []
    if workflow_id:
        steps.append(client.remove_workflow(workflow_id))
    steps += [client.delete_workflow_def(wf_name, 1), client.delete_task_def(task_name)]
    for step in steps:  # in order: a definition in use cannot always be deleted
        with contextlib.suppress(HarnessError):
            await step
