"""Simulated workers: poll like real workers, answer as the scenario's script says.

One asyncio task per worker task type batch-polls with a short long-poll timeout
(100 ms: measured on 3.15.0 and 3.21.14, whose in-memory queue does not wake a
waiting poll when a task arrives, so a longer timeout only adds latency) and answers
at once, so a task a worker can complete never waits on the harness. The pool also
tells the settle loop which worker tasks it still owes an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from harness.conductor.client import ConductorClient, ConductorUnreachable
from harness.runner.namespace import Namespace
from harness.runner.recorder import ORIGIN, Origin
from harness.runner.templates import TemplateError, render
from harness.scenarios.model import LOOP_SUFFIX, WorkerRule, WorkerSpec

WORKER_ID = "conductor-compat-worker"
POLL_TIMEOUT_MS = 100
POLL_COUNT = 1
STATUS_OF = {
    "complete": "COMPLETED",
    "fail": "FAILED",
    "fail_terminal": "FAILED_WITH_TERMINAL_ERROR",
}


def default_output(task: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "worker": WORKER_ID,
        "ref": LOOP_SUFFIX.sub("", str(task.get("referenceTaskName", ""))),
        "attempt": task.get("retryCount", 0),
        "iteration": task.get("iteration", 0),
    }


class WorkerPool:
    """The workers of one scenario run. ``observations`` lists every delivery handled."""

    def __init__(
        self, client: ConductorClient, specs: Mapping[str, WorkerSpec], names: Namespace
    ) -> None:
        self._client = client
        self._specs = specs
        self._names = names
        self._tasks: list[asyncio.Task[None]] = []
        self._deliveries: Counter[str] = Counter()
        self._busy: set[str] = set()  # task ids received and not yet answered
        self.holding: set[str] = set()  # task ids left IN_PROGRESS on purpose
        self.observations: list[dict[str, Any]] = []
        self.failure: str | None = None
        self.current_step: int | None = None  # the step running now, for the record
        self._draining = False  # no new poll: the answers in flight finish (a switch)
        self._idle = asyncio.Event()  # no answer in flight
        self._idle.set()
        self._started = time.monotonic()

    def start(self) -> None:
        self._draining = False
        for spec in self._specs.values():
            if spec.poll:
                self._tasks.append(
                    asyncio.create_task(self._loop(spec), name=f"worker {spec.task}")
                )

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Stop polling, let every answer in flight reach the server, then stop: what an
        upgrade's switch needs, so that no delivery is cut between its poll and its answer."""
        self._draining = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        await self.stop()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def owes(self, task: Mapping[str, Any]) -> str | None:
        """Why the workers are not done with ``task`` yet, or None."""
        spec = self._specs.get(self._names.unmap(str(task.get("taskType"))))
        if spec is None or not spec.polls_at(self.current_step):
            return None
        task_id = str(task.get("taskId"))
        status = task.get("status")
        if task_id in self._busy:
            return f"a worker is answering {task.get('referenceTaskName')}"
        if status == "SCHEDULED" and not task.get("callbackAfterSeconds"):
            return f"{task.get('referenceTaskName')} waits for its worker"
        if status == "IN_PROGRESS" and task_id not in self.holding:
            return f"{task.get('referenceTaskName')} is being polled"
        return None

    async def _loop(self, spec: WorkerSpec) -> None:
        task_type = self._names.name(spec.task)
        params: dict[str, Any] = {
            "workerid": WORKER_ID,
            "count": POLL_COUNT,
            "timeout": POLL_TIMEOUT_MS,
        }
        if spec.domain:
            params["domain"] = spec.domain
        while True:
            ORIGIN.set(Origin("worker", self.current_step))
            if self._draining or not spec.polls_at(self.current_step):  # poll_from: not yet
                await asyncio.sleep(0.1)
                continue
            try:
                response = await self._client.request(
                    "GET",
                    f"/api/tasks/poll/batch/{task_type}",
                    params=params,
                    template="/api/tasks/poll/batch/{taskType}",
                    timeout_s=30,
                )
            except ConductorUnreachable as exc:
                self.failure = f"worker for {spec.task} lost the server: {exc}"
                return
            if response.status_code != 200 or not response.content:
                await asyncio.sleep(0.2 if response.status_code >= 300 else 0)
                continue
            for task in response.json():
                self._busy.add(str(task["taskId"]))
                self._idle.clear()
                try:
                    await self._handle(spec, task)
                except ConductorUnreachable as exc:  # its answer never arrived
                    self.failure = f"worker for {spec.task} lost the server: {exc}"
                    return
                finally:
                    self._busy.discard(str(task["taskId"]))
                    if not self._busy:
                        self._idle.set()

    async def _handle(self, spec: WorkerSpec, task: dict[str, Any]) -> None:
        task_id = str(task["taskId"])
        self._deliveries[task_id] += 1
        delivery = self._deliveries[task_id]
        ref = str(task.get("referenceTaskName", ""))
        attempt = int(task.get("retryCount") or 0)
        iteration = int(task.get("iteration") or 0)
        rule = spec.rule_for(ref, attempt, iteration, delivery)
        received = time.time() * 1000
        observation: dict[str, Any] = {
            "task_type": spec.task,
            "ref": ref,
            "task_id": task_id,
            "workflow_id": task.get("workflowInstanceId"),
            "attempt": attempt,
            "iteration": iteration,
            "delivery": delivery,
            "poll_count": task.get("pollCount"),
            "input": task.get("inputData"),
            "actions": list(rule.actions),
            "step": self.current_step,
            "at_s": round(time.monotonic() - self._started, 4),
            "scheduled_to_poll_ms": _since(task.get("scheduledTime"), received),
            "answers": [],
        }
        self.observations.append(observation)
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        for line in rule.logs:
            response = await self._client.request(
                "POST",
                f"/api/tasks/{task_id}/log",
                content=line,
                template="/api/tasks/{taskId}/log",
            )
            observation["answers"].append({"log": line, "status": response.status_code})
        for action in rule.actions:
            if action == "hold":
                self.holding.add(task_id)
                continue
            result = self._result(action, rule, task, observation)
            if result is None:
                return
            response = await self._client.request(
                "POST", "/api/tasks", json=result, template="/api/tasks"
            )
            observation["answers"].append(
                {
                    "action": action,
                    "status": response.status_code,
                    "result_status": result["status"],
                }
            )
            if action == "extend_lease" and action == rule.actions[-1]:
                self.holding.add(task_id)

    def _result(
        self, action: str, rule: WorkerRule, task: dict[str, Any], observation: dict[str, Any]
    ) -> dict[str, Any] | None:
        result: dict[str, Any] = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "workerId": WORKER_ID,
        }
        if action == "extend_lease":
            return {**result, "status": "IN_PROGRESS", "extendLease": True}
        context = {
            "input": task.get("inputData") or {},
            "task": {
                "ref": LOOP_SUFFIX.sub("", str(task.get("referenceTaskName", ""))),
                "attempt": task.get("retryCount", 0),
                "iteration": task.get("iteration", 0),
                "id": task["taskId"],
                "type": self._names.unmap(str(task.get("taskType"))),
            },
            "workflow": {"id": task["workflowInstanceId"]},
        }
        try:
            output = default_output(task) if rule.output is None else render(rule.output, context)
            reason = None if rule.reason is None else str(render(rule.reason, context))
        except TemplateError as exc:
            observation["error"] = str(exc)
            self.failure = f"worker for {observation['task_type']}: {exc}"
            return None
        result["outputData"] = output
        if action == "in_progress":
            result["status"] = "IN_PROGRESS"
            result["callbackAfterSeconds"] = rule.callback_after_seconds or 0
        else:
            result["status"] = STATUS_OF[action]
        if reason is not None:
            result["reasonForIncompletion"] = reason
        return result


def _since(scheduled_ms: Any, now_ms: float) -> float | None:
    if not isinstance(scheduled_ms, int | float) or scheduled_ms <= 0:
        return None
    return round(now_ms - scheduled_ms, 1)
