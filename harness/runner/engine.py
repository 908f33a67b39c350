"""Play one scenario against one running target and return its raw trace.

setup (register the run's definitions) -> workers start -> for each step: do it,
settle, snapshot every workflow of the run (children included, recursively) ->
final capture (task logs, queue sizes, running lists) -> cleanup (terminate what is
still running). Whatever happens, the result is a trace with an outcome: completed,
failed_expectation, error (with the reason and the last snapshot) or not_applicable.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Any

from harness.conductor.client import ConductorClient, ConductorUnreachable
from harness.errors import HarnessError
from harness.runner.namespace import Namespace, new_prefix
from harness.runner.recorder import RecordingTransport, origin
from harness.runner.settle import (
    Document,
    Settled,
    child_ids,
    pending,
    settle,
)
from harness.runner.steps import ExpectationFailed, RunContext, WaitTimedOut, run_step
from harness.runner.stub import HttpStub, StubRoute
from harness.runner.switch import SwitchFailed, Switchover, switch_after
from harness.runner.trace import new_trace
from harness.runner.workers import WorkerPool
from harness.scenarios.model import Scenario
from harness.statuses import TERMINAL_WORKFLOW
from harness.targets.model import RunningTarget


class SetupFailed(Exception):
    """The server refused the scenario's definitions."""


def owned_names(scenario: Scenario) -> frozenset[str]:
    """Every definition name the scenario creates, and so prefixes."""
    names = {str(d["name"]) for d in (*scenario.task_defs, *scenario.workflows)}
    for step in scenario.steps:
        if step.action in ("register", "update"):
            names |= {str(d["name"]) for d in step.args.get("task_defs", [])}
            names |= {str(d["name"]) for d in step.args.get("workflows", [])}
        if step.action == "delete":
            if "task_def" in step.args:
                names.add(step.args["task_def"])
            if "workflow" in step.args:
                names.add(step.args["workflow"]["name"])
    return frozenset(names)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


async def run_scenario(
    scenario: Scenario,
    target: RunningTarget,
    *,
    keep_poll_bodies: bool = False,
    switchover: Switchover | None = None,
) -> dict[str, Any]:
    """Run ``scenario`` on ``target``; never raises for what the server does.

    ``keep_poll_bodies`` keeps the body of every settle and wait poll (for recording
    fixtures of intermediate states); by default those keep a digest only.
    ``switchover``: an upgrade's barrier; at its switch point the run waits there, then
    goes on with the server the switch gives (``switch.py``).
    """
    identity = target.identity
    trace = new_trace(scenario, identity.to_json())
    applies, why_not = scenario.applicability(identity.flavor, identity.version)
    if not applies:
        if switchover is not None:
            switchover.leave()
        trace["outcome"] = {"status": "not_applicable", "reason": why_not}
        trace["finished_at"] = _now()
        return trace
    names = Namespace(new_prefix(), owned_names(scenario))
    recorder = RecordingTransport(keep_poll_bodies=keep_poll_bodies)
    routes = [StubRoute(**route) for route in scenario.routes]
    began = time.monotonic()
    async with (
        HttpStub(routes, host=target.stub_host, listen=target.listen) as stub,
        ConductorClient(target.base_url, headers=target.headers, transport=recorder) as client,
    ):
        names.stub_url = stub.url
        pool = WorkerPool(client, scenario.workers, names)
        run = _Run(scenario, client, names, pool, trace, switchover=switchover)
        try:
            async with asyncio.timeout(scenario.scenario_s) as deadline:
                run.deadline = deadline
                await run.play()
            trace["outcome"] = {"status": "completed", "reason": None}
        except ExpectationFailed as exc:
            trace["outcome"] = run.outcome("failed_expectation", str(exc))
        except SwitchFailed as exc:
            trace["outcome"] = run.outcome(
                "failed_expectation", f"the new server did not take over: {exc}"
            )
        except TimeoutError:
            trace["outcome"] = run.outcome(
                "error",
                f"the scenario did not finish within its deadline of {scenario.scenario_s:g} s",
            )
        except SetupFailed as exc:
            trace["outcome"] = run.outcome("error", f"setup failed: {exc}")
        except (ConductorUnreachable, HarnessError) as exc:
            trace["outcome"] = run.outcome("error", str(exc))
        except asyncio.CancelledError:
            await pool.stop()
            raise
        await pool.stop()
        if run.started:
            await run.cleanup()
        trace["exchanges"] = recorder.exchanges
        trace["workers"] = pool.observations
        trace["stub_requests"] = [_stub_request(r) for r in stub.requests]
    trace["timings"]["total_s"] = round(time.monotonic() - began, 3)
    trace["finished_at"] = _now()
    trace["namespace"] = {"prefix": names.prefix, "stub": names.stub_url}
    unmapped: dict[str, Any] = names.unmap({k: v for k, v in trace.items() if k != "namespace"})
    unmapped["namespace"] = trace["namespace"]
    return unmapped


def _stub_request(request: Any) -> dict[str, Any]:
    # Only headers that say what was sent: never credentials.
    headers = {
        k: v
        for k, v in request.headers.items()
        if k in ("content-type", "accept") or k.startswith("x-")
    }
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": headers,
        "body": request.body,
        "route": request.route,
        "status": request.status,
    }


class _Run:
    """The state of one scenario run while it plays."""

    def __init__(
        self,
        scenario: Scenario,
        client: ConductorClient,
        names: Namespace,
        pool: WorkerPool,
        trace: dict[str, Any],
        *,
        switchover: Switchover | None = None,
    ) -> None:
        self.scenario = scenario
        self.client = client
        self.names = names
        self.pool = pool
        self.trace = trace
        self.ctx = RunContext(client, names)
        self.last: list[Document] = []
        self.seen_at_stop = False  # ``last`` was read when a wait gave up, not at a settle
        self.started = False
        self.switchover = switchover
        self.switched = False
        self.deadline: asyncio.Timeout | None = None

    def outcome(self, status: str, reason: str) -> dict[str, Any]:
        return {
            "status": status,
            "reason": reason,
            "step": self.trace["steps"][-1]["index"] if self.trace["steps"] else None,
            "last_snapshot": self.last,
            **({"seen_at_stop": True} if self.seen_at_stop else {}),
        }

    async def play(self) -> None:
        try:
            await self._play()
        finally:
            if self.switchover is not None and not self.switched:
                self.switchover.leave()

    async def _play(self) -> None:
        began = time.monotonic()
        with origin("setup"):
            await self.setup()
        self.trace["timings"]["setup_s"] = round(time.monotonic() - began, 3)
        self.started = True
        self.pool.start()
        for step in self.scenario.steps:
            entry: dict[str, Any] = {
                "index": step.index,
                "action": step.action,
                "name": step.name,
                "line": step.line,
                "args": step.args,
            }
            self.trace["steps"].append(entry)
            step_began = time.monotonic()
            entry["at_s"] = round(step_began - began, 3)
            self.pool.current_step = step.index
            with origin("step", step.index):
                try:
                    await run_step(step, self.ctx, self.scenario.settle_s)
                except WaitTimedOut:
                    if step.settle and self.ctx.aliases:
                        await self.gave_up(entry)
                    elif self.ctx.aliases:  # what the run's workflows were when it stopped
                        with origin("settle"):
                            self.last = await self.fetch_tree()
                        self.seen_at_stop = True
                    raise
                entry["statuses"] = [r.status_code for r in self.ctx.responses]
                if self.pool.failure:
                    raise ExpectationFailed(self.pool.failure)
                if step.settle and self.ctx.aliases:
                    with origin("settle"):
                        result = await settle(
                            self.fetch_tree, self.pool.owes, self.scenario.settle_s
                        )
                    self.record(entry, result)
                    if not result.settled:
                        raise ExpectationFailed(
                            f"step {step.index} ({step.label}) did not settle within "
                            f"{self.scenario.settle_s:g} s: "
                            f"{'; '.join(result.reasons) or 'still changing'}"
                        )
            entry["duration_s"] = round(time.monotonic() - step_began, 3)
            if (
                self.switchover is not None
                and not self.switched
                and switch_after(self.scenario, step, entry.get("snapshots", []))
            ):
                await self.switch(step.index)
        capture_began = time.monotonic()
        with origin("capture"):
            await self.capture()
        self.trace["timings"]["capture_s"] = round(time.monotonic() - capture_began, 3)

    async def switch(self, after_step: int) -> None:
        """Wait at the barrier with no worker polling, then go on with the new server; the
        wait does not count against the scenario's deadline."""
        assert self.switchover is not None
        self.switched = True
        await self.pool.drain()
        loop = asyncio.get_running_loop()
        when = self.deadline.when() if self.deadline is not None else None
        left = when - loop.time() if when is not None else None
        if self.deadline is not None:
            self.deadline.reschedule(None)
        try:
            got = await self.switchover.arrive(self.scenario.name)
        finally:
            if self.deadline is not None and left is not None:
                self.deadline.reschedule(loop.time() + left)
        self.client.retarget(got.server.base_url)
        record: dict[str, Any] = {
            "after_step": after_step,
            "waited_s": got.waited_s,
            "to": got.server.identity.to_json(),
        }
        self.trace["switch"] = record
        self.pool.start()
        if self.ctx.aliases:  # what the new server makes of the executions it took over
            with origin("settle"):
                result = await settle(self.fetch_tree, self.pool.owes, self.scenario.settle_s)
            self.last = result.documents
            record["settled"] = result.settled
            record["snapshots"] = result.documents

    async def gave_up(self, entry: dict[str, Any]) -> None:
        """A wait that would have settled gave up: its step's snapshots are what the run's
        workflows were when it did (unsettled), so the step compares with the other side's."""
        began = time.monotonic()
        with origin("settle"):
            documents = await self.fetch_tree()
        seconds = round(time.monotonic() - began, 3)
        reasons = ["the wait gave up", *pending(documents, self.pool.owes)]
        self.record(entry, Settled(False, 1, seconds, documents, reasons))

    def record(self, entry: dict[str, Any], result: Settled) -> None:
        self.last = result.documents
        entry["settle"] = {
            "settled": result.settled,
            "polls": result.polls,
            "seconds": result.seconds,
            "pending": result.reasons,
        }
        entry["snapshots"] = result.documents

    async def setup(self) -> None:
        task_defs = [self.names.task_def(d) for d in self.scenario.task_defs]
        workflows = [self.names.workflow(w) for w in self.scenario.workflows]
        self.trace["definitions"] = {"task_defs": task_defs, "workflows": workflows}
        if task_defs:
            response = await self.client.request(
                "POST", "/api/metadata/taskdefs", json=task_defs, template="/api/metadata/taskdefs"
            )
            if response.status_code >= 300:
                raise SetupFailed(f"task definitions: {response.status_code} {response.text[:400]}")
        if workflows:
            response = await self.client.request(
                "PUT", "/api/metadata/workflow", json=workflows, template="/api/metadata/workflow"
            )
            if response.status_code >= 300:
                raise SetupFailed(
                    f"workflow definitions: {response.status_code} {response.text[:400]}"
                )

    async def fetch_tree(self) -> list[Document]:
        """Every workflow of the run: the started ones and, recursively, their children."""
        documents: list[Document] = []
        queue = list(dict.fromkeys(self.ctx.aliases.values()))
        seen: set[str] = set()
        while queue:
            workflow_id = queue.pop(0)
            if workflow_id in seen:
                continue
            seen.add(workflow_id)
            response = await self.ctx.get_workflow(workflow_id)
            if response.status_code != 200:
                documents.append(
                    {"workflowId": workflow_id, "status": None, "http_status": response.status_code}
                )
                continue
            document: Document = response.json()
            documents.append(document)
            queue.extend(child_ids(document))
        return documents

    async def capture(self) -> None:
        wanted = self.scenario.capture
        if wanted.get("task_logs"):
            logged = dict.fromkeys(
                o["task_id"]
                for o in self.pool.observations
                if any("log" in a for a in o["answers"])
            )
            for task_id in logged:
                await self.client.request(
                    "GET", f"/api/tasks/{task_id}/log", template="/api/tasks/{taskId}/log"
                )
        if wanted.get("queue_sizes"):
            types = [self.names.name(n) for n, s in sorted(self.scenario.workers.items()) if s.poll]
            if types:
                await self.client.request(
                    "GET",
                    "/api/tasks/queue/sizes",
                    params=[("taskType", t) for t in types],
                    template="/api/tasks/queue/sizes",
                )
        if wanted.get("running"):
            for workflow in self.scenario.workflows:
                await self.client.request(
                    "GET",
                    f"/api/workflow/running/{self.names.name(workflow['name'])}",
                    params={"version": workflow.get("version", 1)},
                    template="/api/workflow/running/{name}",
                )

    async def cleanup(self) -> None:
        """Terminate what is still running, so nothing of this run keeps the server busy."""
        with origin("cleanup"):
            try:
                for document in await self.fetch_tree():
                    if document.get("status") not in TERMINAL_WORKFLOW and document.get("status"):
                        await self.client.request(
                            "DELETE",
                            f"/api/workflow/{document['workflowId']}",
                            params={"reason": "conductor-compat: scenario ended"},
                            template="/api/workflow/{workflowId}",
                        )
            except (ConductorUnreachable, TimeoutError):
                return
