"""conductor-compat client driver for the Python SDK `conductor-python` (1.x and 2.x).

Plays the standard client script of docs/client-drivers.md through the SDK's public clients
(OrkesClients: metadata, workflow and task clients) and its own worker framework
(TaskHandler), and writes one record per call to the --out JSON document.

Run with the interpreter of a venv that holds exactly one conductor-python version:

    python driver.py --server http://127.0.0.1:8080/api --prefix cc_py_1234 --out out.json

The worker functions live at module level: the SDK starts its workers as `spawn`
processes, which re-import this file (as `__mp_main__`) and look the functions up by name.
"""

import argparse
import contextlib
import ctypes
import json
import logging
import os
import platform
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import version as dist_version
from typing import Any

from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.context.task_context import TaskInProgress, get_task_context
from conductor.client.http.models.rerun_workflow_request import RerunWorkflowRequest
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task import Task
from conductor.client.http.models.task_def import TaskDef
from conductor.client.http.models.task_result import TaskResult
from conductor.client.http.models.workflow_def import WorkflowDef
from conductor.client.http.models.workflow_task import WorkflowTask
from conductor.client.orkes_clients import OrkesClients
from conductor.client.worker.worker import Worker

PACKAGE = "conductor-python"
ZERO_ID = "00000000-0000-0000-0000-000000000000"
OWNER = "compat@example.com"
TERMINAL = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
BODY_LIMIT = 2000
POLL_PAUSE = 0.5
# Environment variables the SDK (or httpx under it) reads and that could point it at
# another host or make it fetch a token: the driver talks to --server only.
FOREIGN_ENV = (
    "CONDUCTOR_SERVER_URL",
    "CONDUCTOR_UI_SERVER_URL",
    "CONDUCTOR_AUTH_KEY",
    "CONDUCTOR_AUTH_SECRET",
    "PROMETHEUS_MULTIPROC_DIR",
    "WORKER_CANONICAL_METRICS",
    "CONDUCTOR_WORKER_ISOLATION",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def _die_with_parent() -> None:
    """In a process the SDK spawned (a worker, its logger): the kernel ends it when the
    driver ends, however the driver ends, instead of leaving it polling."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


if __name__ == "__mp_main__":
    _die_with_parent()


# --- workers (module level: pickled by reference into the SDK's spawned processes) ---


def double_worker(task: Task) -> dict[str, Any]:
    """`{prefix}_task`: y = 2 * x, with one task log line through the SDK's task context."""
    get_task_context().add_log("doubled")
    x = (task.input_data or {}).get("x")
    return {"y": x * 2 if isinstance(x, int | float) else None}


def flaky_worker(task: Task) -> TaskResult:
    """`{prefix}_flaky`: the first attempt fails with "flaky", the retry completes."""
    result = TaskResult(
        task_id=task.task_id,
        workflow_instance_id=task.workflow_instance_id,
        worker_id=get_task_context().task_result.worker_id,
    )
    if not task.retry_count:
        result.status = "FAILED"
        result.reason_for_incompletion = "flaky"
    else:
        result.status = "COMPLETED"
        result.output_data = {"attempt": 2}
    return result


def slow_worker(task: Task) -> dict[str, Any] | TaskInProgress:
    """`{prefix}_slow`: IN_PROGRESS (callback after 1 s) on its first poll, then done."""
    if (task.poll_count or 0) <= 1:
        return TaskInProgress(callback_after_seconds=1)
    return {"done": True}


# --- recording ---


class Timeout(Exception):
    """A bounded wait ran out (recorded with type `timeout`)."""


class Stopped(BaseException):
    """SIGTERM/SIGINT: leave the script (stopping the workers) and write what was recorded."""


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:BODY_LIMIT]


def error_of(exc: BaseException) -> dict[str, Any]:
    """The contract's error object: class name, message, HTTP status and body if exposed."""
    if isinstance(exc, Timeout):
        return {"type": "timeout", "message": str(exc), "status": None, "body": None}
    message = getattr(exc, "message", None)
    if not isinstance(message, str) or not message:
        message = str(exc)
    status = getattr(exc, "status", None)
    return {
        "type": type(exc).__name__,
        "message": _text(message),
        "status": status if isinstance(status, int) and not isinstance(status, bool) else None,
        "body": _text(getattr(exc, "body", None)),
    }


def now_ms() -> int:
    return int(time.time() * 1000)


def span(began: int) -> dict[str, int]:
    """``at_ms`` and ``end_ms`` of a call that began at ``began``."""
    return {"at_ms": began, "end_ms": now_ms()}


class Recorder:
    def __init__(self, serialize: Callable[[Any], Any]) -> None:
        self.records: list[dict[str, Any]] = []
        self._serialize = serialize

    def call(
        self, name: str, fn: Callable[[], Any], shape: Callable[[Any], Any] | None = None
    ) -> Any:
        """Run one script call; record its (serialized) value or error, and when it began
        and ended (wall-clock ms, to match the server's answers to it). None on error."""
        began = now_ms()
        try:
            raw = fn()
        except Exception as exc:  # noqa: BLE001 - whatever the SDK raised is the record
            self.records.append({"call": name, "ok": False, "error": error_of(exc), **span(began)})
            return None
        value = shape(raw) if shape is not None else raw
        self.records.append(
            {"call": name, "ok": True, "value": self._serialize(value), **span(began)}
        )
        return raw

    def not_in_sdk(self, name: str, what: str) -> None:
        message = f"{PACKAGE} {dist_version(PACKAGE)} offers no {what}"
        error = {"type": "not_in_sdk", "message": message, "status": None, "body": None}
        self.records.append({"call": name, "ok": False, "error": error})

    def skipped(self, name: str, reason: str) -> None:
        """A call that could not be made because an earlier call it depends on failed."""
        error = {"type": "skipped", "message": reason, "status": None, "body": None}
        self.records.append({"call": name, "ok": False, "error": error})


# --- the script ---


class Script:
    def __init__(self, server: str, prefix: str, timeout: float) -> None:
        self.prefix = prefix
        self.timeout = timeout
        self.config = Configuration(server_api_url=server)
        clients = OrkesClients(configuration=self.config)
        self.metadata = clients.get_metadata_client()
        self.workflows = clients.get_workflow_client()
        self.tasks = clients.get_task_client()
        api_client = self.workflows.api_client
        self.rec = Recorder(api_client.sanitize_for_serialization)
        self.handler: TaskHandler | None = None
        self.name_task = f"{prefix}_task"
        self.name_flaky = f"{prefix}_flaky"
        self.name_slow = f"{prefix}_slow"
        self.name_wf = f"{prefix}_wf"
        self.name_fail_wf = f"{prefix}_fail_wf"

    # helpers

    def _status(self, workflow_id: str) -> str | None:
        workflow = self.workflows.get_workflow(workflow_id, include_tasks=False)
        return workflow.status if workflow is not None else None

    def _wait(self, workflow_id: str, done: Callable[[str | None], bool]) -> dict[str, Any]:
        """Poll the workflow (bounded by --timeout) until `done(status)`."""
        deadline = time.monotonic() + self.timeout
        status: str | None = None
        last_error: Exception | None = None
        while True:
            try:
                status = self._status(workflow_id)
                last_error = None
                if done(status):
                    return {"status": status}
            except Exception as exc:  # noqa: BLE001 - keep polling until the bound
                last_error = exc
            if time.monotonic() >= deadline:
                seen = (
                    f"last status {status}" if last_error is None else f"last error {last_error!r}"
                )
                raise Timeout(f"workflow {workflow_id} not done after {self.timeout:g}s ({seen})")
            time.sleep(POLL_PAUSE)

    def _poll_one(self, task_type: str) -> Task:
        """Poll one task through the task client (bounded by --timeout)."""
        deadline = time.monotonic() + self.timeout
        while True:
            task = self.tasks.poll_task(task_type, worker_id="compat")
            if task is not None and task.task_id:
                return task
            if time.monotonic() >= deadline:
                raise Timeout(f"no {task_type} task polled within {self.timeout:g}s")
            time.sleep(POLL_PAUSE)

    def _start(self, name: str, workflow_input: dict[str, Any], correlation: str | None) -> Any:
        request = StartWorkflowRequest(
            name=name, version=1, input=workflow_input, correlation_id=correlation
        )
        return self.workflows.start_workflow(request)

    def _task_def(self, name: str, retry_count: int, **extra: Any) -> TaskDef:
        extra.setdefault("response_timeout_seconds", 60)  # below timeoutSeconds, as servers ask
        return TaskDef(
            name=name,
            retry_count=retry_count,
            timeout_seconds=120,
            owner_email=OWNER,
            **extra,
        )

    def _workflow_defs(self) -> tuple[WorkflowDef, WorkflowDef]:
        main = WorkflowDef(
            name=self.name_wf,
            version=1,
            schema_version=2,
            owner_email=OWNER,
            timeout_seconds=300,
            tasks=[
                WorkflowTask(
                    name=self.name_task,
                    task_reference_name="t1",
                    type="SIMPLE",
                    input_parameters={"x": "${workflow.input.x}"},
                ),
                WorkflowTask(name=self.name_flaky, task_reference_name="t2", type="SIMPLE"),
                WorkflowTask(name=self.name_slow, task_reference_name="t3", type="SIMPLE"),
            ],
            output_parameters={"result": "${t1.output.y}"},
        )
        fail = WorkflowDef(
            name=self.name_fail_wf,
            version=1,
            schema_version=2,
            owner_email=OWNER,
            timeout_seconds=300,
            tasks=[WorkflowTask(name=self.name_task, task_reference_name="f1", type="SIMPLE")],
        )
        return main, fail

    def _workers(self) -> list[Worker]:
        return [
            Worker(
                task_definition_name=name, execute_function=fn, poll_interval=100, thread_count=1
            )
            for name, fn in (
                (self.name_task, double_worker),
                (self.name_flaky, flaky_worker),
                (self.name_slow, slow_worker),
            )
        ]

    def stop_workers(self) -> None:
        handler, self.handler = self.handler, None
        if handler is None:
            return
        handler.stop_processes()
        # stop_processes() terminates the logger process without reaping it.
        logger_process = getattr(handler, "logger_process", None)
        if logger_process is not None:
            logger_process.join(timeout=5)
            if logger_process.is_alive():
                logger_process.kill()
                logger_process.join(timeout=2)

    # steps

    def metadata_setup(self) -> None:
        task_defs = [
            self._task_def(self.name_task, 0),
            self._task_def(self.name_flaky, 1, retry_logic="FIXED", retry_delay_seconds=0),
            self._task_def(self.name_slow, 0, response_timeout_seconds=30),
        ]
        # The metadata client registers one def per call; its resource API takes the list
        # (one POST /metadata/taskdefs, as the other SDKs' registerTaskDefs).
        resource = self.metadata.metadataResourceApi
        self.rec.call("register_task_defs", lambda: resource.register_task_def(task_defs))
        self.rec.call("get_task_def", lambda: self.metadata.get_task_def(self.name_task))
        main, fail = self._workflow_defs()

        def register() -> None:
            self.metadata.register_workflow_def(main, overwrite=True)
            self.metadata.register_workflow_def(fail, overwrite=True)

        self.rec.call("register_workflow_def", register)
        self.rec.call("get_workflow_def", lambda: self.metadata.get_workflow_def(self.name_wf, 1))

    def run_main(self) -> tuple[str | None, str | None]:
        """Steps 5-10; returns (step-5 workflow id, first task id)."""
        wf_id = self.rec.call(
            "start_workflow", lambda: self._start(self.name_wf, {"x": 21}, f"{self.prefix}-c1")
        )
        sync_request = StartWorkflowRequest(name=self.name_wf, version=1, input={"x": 1})
        self.rec.call(
            "start_workflow_sync",
            lambda: self.workflows.execute_workflow(sync_request, wait_for_seconds=10),
        )

        def run_workers() -> dict[str, Any]:
            self.handler = TaskHandler(
                workers=self._workers(),
                configuration=self.config,
                scan_for_annotated_workers=False,
                monitor_processes=False,
                restart_on_failure=False,
            )
            self.handler.start_processes()
            if wf_id is None:
                raise Timeout("no workflow to wait for: start_workflow failed")
            return self._wait(wf_id, lambda status: status in TERMINAL)

        self.rec.call("run_workers", run_workers)
        first_task_id: str | None = None
        t1_task_id: str | None = None
        if wf_id is not None:
            workflow = self.rec.call(
                "get_workflow_with_tasks", lambda: self.workflows.get_workflow(wf_id, True)
            )
            self.rec.call(
                "get_workflow_without_tasks", lambda: self.workflows.get_workflow(wf_id, False)
            )
            wf_tasks = list(getattr(workflow, "tasks", None) or [])
            if wf_tasks:
                first_task_id = wf_tasks[0].task_id
            t1_task_id = next((t.task_id for t in wf_tasks if t.reference_task_name == "t1"), None)
        else:
            for name in ("get_workflow_with_tasks", "get_workflow_without_tasks"):
                self.rec.skipped(name, "start_workflow failed")
        self.rec.call("stop_workers", self.stop_workers)

        if first_task_id is not None:
            self.rec.call("get_task", lambda: self.tasks.get_task(first_task_id))
        else:
            self.rec.skipped("get_task", "no task in the step-5 workflow")
        if t1_task_id is not None:
            self.rec.call("get_task_logs", lambda: self.tasks.get_task_logs(t1_task_id))
        else:
            self.rec.skipped("get_task_logs", "no t1 task in the step-5 workflow")
        self.rec.call(
            "search",
            lambda: self.workflows.search(
                start=0, size=10, free_text="*", query=f"workflowType IN ({self.name_wf})"
            ),
        )
        return wf_id, first_task_id

    def pause_resume(self) -> str | None:
        """Step 11; returns the workflow id (removed in step 15)."""
        wf_id = self.rec.call("start_for_pause", lambda: self._start(self.name_wf, {"x": 2}, None))
        names = (
            "pause",
            "get_after_pause",
            "resume",
            "get_after_resume",
            "terminate",
            "get_after_terminate",
        )
        if wf_id is None:
            for name in names:
                self.rec.skipped(name, "start_for_pause failed")
            return None

        def status() -> dict[str, Any]:
            return {"status": self._status(wf_id)}

        self.rec.call("pause", lambda: self.workflows.pause_workflow(wf_id))
        self.rec.call("get_after_pause", status)
        self.rec.call("resume", lambda: self.workflows.resume_workflow(wf_id))
        self.rec.call("get_after_resume", status)
        self.rec.call("terminate", lambda: self.workflows.terminate_workflow(wf_id, "compat"))
        self.rec.call("get_after_terminate", status)
        return wf_id if isinstance(wf_id, str) else None

    def _update(self, task: Task | None, status: str, **fields: Any) -> Any:
        if task is None:
            raise Timeout("no polled task to update")
        result = TaskResult(
            workflow_instance_id=task.workflow_instance_id,
            task_id=task.task_id,
            worker_id="compat",
            status=status,
            **fields,
        )
        return self.tasks.update_task(result)

    def fail_retry_rerun(self) -> None:
        """Step 12."""
        wf_id = self.rec.call("start_fail", lambda: self._start(self.name_fail_wf, {}, None))
        if wf_id is None:
            for name in (
                "poll_task",
                "update_task",
                "wait_failed",
                "retry",
                "poll_retried",
                "update_retried",
                "wait_retried",
                "rerun",
                "terminate_rerun",
            ):
                self.rec.skipped(name, "start_fail failed")
            return
        task = self.rec.call("poll_task", lambda: self._poll_one(self.name_task))
        self.rec.call(
            "update_task", lambda: self._update(task, "FAILED", reason_for_incompletion="boom")
        )
        self.rec.call("wait_failed", lambda: self._wait(wf_id, lambda s: s == "FAILED"))
        self.rec.call("retry", lambda: self.workflows.retry_workflow(wf_id))
        retried = self.rec.call("poll_retried", lambda: self._poll_one(self.name_task))
        self.rec.call(
            "update_retried", lambda: self._update(retried, "COMPLETED", output_data={"y": 0})
        )
        self.rec.call("wait_retried", lambda: self._wait(wf_id, lambda s: s in TERMINAL))
        request = RerunWorkflowRequest(re_run_from_workflow_id=wf_id)
        self.rec.call("rerun", lambda: self.workflows.rerun_workflow(wf_id, request))
        self.rec.call("terminate_rerun", lambda: self.workflows.terminate_workflow(wf_id, "compat"))

    def unknowns(self) -> None:
        """Steps 13-14."""
        ack = getattr(self.tasks, "ack", None) or getattr(self.tasks, "ack_task", None)
        if ack is None:
            self.rec.not_in_sdk("ack", "task ack call (TaskClient / TaskResourceApi)")
        else:
            self.rec.call("ack", lambda: ack(ZERO_ID, "compat"))
        self.rec.call("get_unknown_workflow", lambda: self.workflows.get_workflow(ZERO_ID))
        self.rec.call("get_unknown_task", lambda: self.tasks.get_task(ZERO_ID))

    def cleanup(self, paused_id: str | None) -> None:
        """Steps 15-16."""
        if paused_id is not None:
            self.rec.call(
                "remove", lambda: self.workflows.delete_workflow(paused_id, archive_workflow=False)
            )
        else:
            self.rec.skipped("remove", "start_for_pause failed")

        def ours(defs: Any) -> list[Any]:
            return [d for d in defs or [] if str(getattr(d, "name", "")).startswith(self.prefix)]

        self.rec.call("get_all_workflow_defs", self.metadata.get_all_workflow_defs, ours)
        for name in (self.name_wf, self.name_fail_wf):
            self.rec.call(
                "unregister_workflow_def",
                partial(self.metadata.unregister_workflow_def, name, 1),
            )
        for name in (self.name_task, self.name_flaky, self.name_slow):
            self.rec.call(
                "unregister_task_def",
                partial(self.metadata.unregister_task_def, name),
            )

    def play(self) -> None:
        try:
            self.metadata_setup()
            self.run_main()
            paused_id = self.pause_resume()
            self.fail_retry_rerun()
            self.unknowns()
            self.cleanup(paused_id)
        finally:
            self.stop_workers()


def document(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "driver": {
            "sdk": "python",
            "package": PACKAGE,
            "version": dist_version(PACKAGE),
            "language": f"python {platform.python_version()}",
        },
        "records": records,
    }


def write(path: str, records: list[dict[str, Any]]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(document(records), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    os.replace(tmp, path)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="API root, e.g. http://127.0.0.1:8080/api")
    parser.add_argument("--prefix", required=True, help="prefix of every created name")
    parser.add_argument("--out", required=True, help="record document (JSON) to write")
    parser.add_argument("--timeout", type=float, default=120.0, help="bound of every wait (s)")
    args = parser.parse_args(argv)
    if not args.server.startswith(("http://", "https://")) or not args.server.rstrip("/").endswith(
        "/api"
    ):
        parser.error("--server must be an http(s) URL ending in /api")
    if not args.prefix or args.timeout <= 0:
        parser.error("--prefix must be non-empty and --timeout positive")
    args.server = args.server.rstrip("/")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    for name in FOREIGN_ENV:
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    script = Script(args.server, args.prefix, args.timeout)
    try:
        script.play()
    except (Exception, Stopped) as exc:  # noqa: BLE001 - write what was recorded, then fail
        write(args.out, script.rec.records)
        print(f"driver: could not go on: {exc!r}", file=sys.stderr)
        return 1
    write(args.out, script.rec.records)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
