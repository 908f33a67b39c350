"""A client's run on one server as a trace, so that the scrub, compare, classify and report
pipeline that compares scenarios compares clients too; and what broke it.

The client's script is the scenario (named after the client, ``python:2.0.0``); each call
of the script is a step. Each step has two kinds of exchange:

- what the SDK gave its caller: method ``SDK``, path the call's name, status 200 and the
  value it returned, or the HTTP status the exception carried (None if none) and
  ``{"raised": type, "message": ...}``;
- what the server answered while the call lasted, as the recording proxy saw it, with the
  real method and path, so that the catalog's changes of the REST API explain what they
  cause here as they do for scenarios.

A worker's polls and updates are worker traffic (``origin: worker``), as the runner's own
simulated workers' are: an empty poll depends on timing and is not compared. So are the
polls of a call that waits (``run_workers``, ``wait_*``: ``origin: wait``), whose number
depends on timing; what the wait ended with is its call's result. A body the proxy kept
only in part is left out (its size is kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness import __version__
from harness.clients.drive import DriverRun
from harness.clients.proxy import KEPT_IN_PART, Exchange
from harness.traces import TRACE_FORMAT

SDK = "SDK"  # the method of an exchange that is an SDK call's result
WORKER_PATHS = ("/api/tasks/poll", "/api/tasks/update-v2", "/api/tasks/ack")
WAITS = ("run_workers", "wait_")  # calls (or prefixes of calls) that poll until a state
NOT_CALLED = ("not_in_sdk", "skipped")  # records of calls the script did not make
_NO_ID = "00000000-0000-0000-0000-000000000000"  # the script's unknown id, the same everywhere
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class Breakage:
    """A call the SDK failed on: its exception, and the server's answer behind it."""

    call: str
    raised: str
    message: str
    status: int | None  # the HTTP status the exception carried
    response: str  # 'METHOD PATH -> STATUS: body' of the answer behind it, or why none

    def describe(self) -> str:
        return f"`{self.call}` raised {self.raised}: {self.message} ({self.response})"


def client_trace(
    run: DriverRun,
    target: Mapping[str, Any],
    *,
    description: str,
    file: str,
    digest: str,
    started_at: str,
    finished_at: str,
) -> dict[str, Any]:
    """``run`` as a trace of the scenario named after its client, on ``target``."""
    steps: list[dict[str, Any]] = []
    exchanges: list[dict[str, Any]] = []
    windows = _windows(run.records)
    for index, record in enumerate(run.records):
        steps.append(_step(index, record))
        exchanges.append(_result(index, record))
    waits = {i for i, r in enumerate(run.records) if str(r.get("call")).startswith(WAITS)}
    during: dict[int, int | None] = {}  # id() of an exchange -> the call it came in
    for answer in run.exchanges:
        call = _call_of(answer, windows)
        exchanges.append(_http(answer, call, waits))
        during[id(exchanges[-1])] = call
    exchanges.sort(key=_order)
    for seq, exchange in enumerate(exchanges):
        exchange["seq"] = seq
    calls = [str(r.get("call")) for r in run.records]
    named = _names(exchanges, [_call_name(e, during, calls) for e in exchanges])
    exchanges = [_renamed(e, named) for e in exchanges]
    return {
        "trace_format": TRACE_FORMAT,
        "harness_version": __version__,
        "scenario": {
            "name": run.client,
            "file": file,
            "digest": digest,
            "description": description,
            "tags": ["client"],
            # A server lists definitions, search hits and logs in an order of its own.
            "compare": {"levels": ["api"], "unordered": ["exchanges[*].body"]},
        },
        "target": dict(target),
        "namespace": {"prefix": run.prefix, "stub": ""},
        "started_at": started_at,
        "finished_at": finished_at,
        "outcome": _outcome(run),
        "definitions": {"task_defs": [], "workflows": []},
        "steps": steps,
        "exchanges": exchanges,
        "workers": [],
        "stub_requests": [],
        "timings": {"total_s": run.seconds},
    }


def breakages(run: DriverRun) -> list[Breakage]:
    """Every call the SDK raised on (calls the SDK does not offer are not breakages), with
    the server's answer behind it: the last answer of 400 or more during the call, else the
    last answer during it."""
    found: list[Breakage] = []
    windows = _windows(run.records)
    for index, record in enumerate(run.records):
        error = record.get("error")
        if record.get("ok") or not isinstance(error, Mapping):
            continue
        if error.get("type") in NOT_CALLED:
            continue
        during = [e for e in run.exchanges if _call_of(e, windows) == index]
        failed = [e for e in during if e.status is None or e.status >= 400]
        behind = (failed or during)[-1:] if during else []
        response = _describe(behind[0]) if behind else "no request reached the server during it"
        status = error.get("status")
        found.append(
            Breakage(
                str(record.get("call")),
                str(error.get("type")),
                _short(str(error.get("message") or "")),
                status if isinstance(status, int) else None,
                response,
            )
        )
    return found


def _outcome(run: DriverRun) -> dict[str, Any]:
    problem = run.problem
    if problem is None:
        return {"status": "completed", "reason": None}
    tail = "; ".join(run.log_tail[-3:])
    return {"status": "error", "reason": problem + (f": {tail}" if tail else "")}


def _step(index: int, record: Mapping[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"index": index, "action": "call", "name": record.get("call")}
    step["line"] = index + 1
    at, end = record.get("at_ms"), record.get("end_ms")
    if isinstance(at, int | float) and isinstance(end, int | float):
        step["duration_s"] = round((end - at) / 1000, 3)
    return step


def _result(index: int, record: Mapping[str, Any]) -> dict[str, Any]:
    call = str(record.get("call"))
    exchange: dict[str, Any] = {
        "seq": 0,
        "origin": "step",
        "step": index,
        "method": SDK,
        "path_template": call,
        "path": call,
        "query": None,
        "content_type": None,
    }
    error = record.get("error")
    if record.get("ok") or not isinstance(error, Mapping):
        exchange.update(status=200, body=record.get("value"))
        return exchange
    status = error.get("status")
    exchange["status"] = status if isinstance(status, int) else None
    body: dict[str, Any] = {"raised": error.get("type"), "message": error.get("message")}
    if error.get("body") not in (None, ""):
        body["body"] = _parsed(str(error["body"]))
    exchange["body"] = body
    return exchange


def _is_worker(exchange: Exchange) -> bool:
    """A worker framework's own poll, ack or update."""
    return exchange.path.startswith(WORKER_PATHS) or (
        exchange.method == "POST" and exchange.path == "/api/tasks"
    )


def worker_errors(run: DriverRun) -> list[str]:
    """The worker framework's own requests the server refused (400 or more, or no
    answer), one line per kind: a worker that cannot update its tasks raises nothing its
    caller sees, and the task times out on the server."""
    kinds: dict[str, list[Exchange]] = {}
    for exchange in run.exchanges:
        if _is_worker(exchange) and (exchange.status is None or exchange.status >= 400):
            answer = "no answer" if exchange.status is None else str(exchange.status)
            key = f"{exchange.method} {_ID.sub('{id}', exchange.path)} -> {answer}"
            kinds.setdefault(key, []).append(exchange)
    return [
        f"{key} ({len(seen)} times): {_short(seen[0].body or seen[0].error or '')}"
        for key, seen in kinds.items()
    ]


def _http(exchange: Exchange, call: int | None, waits: set[int]) -> dict[str, Any]:
    worker = _is_worker(exchange)
    origin = "worker" if worker or call is None else ("wait" if call in waits else "step")
    document: dict[str, Any] = {
        "seq": 0,
        "origin": origin,
        "step": None if origin == "worker" else call,
        "method": exchange.method,
        "path_template": _ID.sub("{id}", exchange.path),
        "path": exchange.path,
        "query": exchange.query or None,
        "request_body": _parsed(exchange.request_body)
        if exchange.request_body and not exchange.request_body.endswith(KEPT_IN_PART)
        else None,
        "status": exchange.status,
        "content_type": exchange.content_type,
        "elapsed_ms": exchange.elapsed_ms,
    }
    if exchange.body.endswith(KEPT_IN_PART):
        document["body_size"] = len(exchange.body)
    elif exchange.body:
        document["body"] = _parsed(exchange.body)
    if exchange.error:
        document["error"] = exchange.error
    return document


def _call_name(exchange: dict[str, Any], during: dict[int, int | None], calls: list[str]) -> str:
    call = during.get(id(exchange), exchange.get("step"))
    return calls[call] if isinstance(call, int) else "worker"


def _names(exchanges: list[dict[str, Any]], calls: list[str]) -> dict[str, str]:
    """Each id, named after the call it first appeared in and its rank there
    (``start_workflow.1``): every id is random, and a call that makes one id more or fewer
    on one server must not rename every id after it, as numbering them all in one
    sequence would. A task's id is named as the runner names one, after its workflow,
    reference name and retry count (``start_workflow.1/t1#0``): where it first shows
    depends on timing (a poll, or a workflow's reason for failing)."""
    names: dict[str, str] = {_NO_ID: "<unknown-id>"}
    counts: dict[str, int] = {}
    tasks = _task_keys(exchanges)
    taken: set[str] = set()

    def name(found: str, call: str) -> None:
        if found in names:
            return
        if found in tasks:
            workflow, ref, retry = tasks[found]
            name(workflow, call)
            base = f"{names[workflow][1:-1]}/{ref}#{retry}"
            named, n = base, 1
            while named in taken:
                n += 1
                named = f"{base}~{n}"
            taken.add(named)
            names[found] = f"<{named}>"
            return
        counts[call] = counts.get(call, 0) + 1
        names[found] = f"<{call}.{counts[call]}>"

    for exchange, call in zip(exchanges, calls, strict=True):
        text = json.dumps([exchange.get(k) for k in ("path", "request_body", "body")])
        for found in _ID.findall(text):
            name(found, call)
    return names


def _task_keys(exchanges: list[dict[str, Any]]) -> dict[str, tuple[str, str, object]]:
    """task id -> (its workflow's id, reference name, retry count), from every task the
    server or the SDK showed."""
    keys: dict[str, tuple[str, str, object]] = {}
    stack: list[Any] = [e.get("body") for e in exchanges]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            task, workflow, ref = (
                value.get(k) for k in ("taskId", "workflowInstanceId", "referenceTaskName")
            )
            if all(isinstance(v, str) and v for v in (task, workflow, ref)) and _ID.fullmatch(
                str(workflow)
            ):
                keys.setdefault(str(task), (str(workflow), str(ref), value.get("retryCount")))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return keys


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _ID.sub(lambda m: names.get(m.group(0), m.group(0)), value)
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def _windows(records: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    return [
        (i, float(r["at_ms"]), float(r["end_ms"]))
        for i, r in enumerate(records)
        if isinstance(r.get("at_ms"), int | float) and isinstance(r.get("end_ms"), int | float)
    ]


def _call_of(exchange: Exchange, windows: list[tuple[int, float, float]]) -> int | None:
    """The call during which the proxy received ``exchange`` (None: between calls, as a
    worker framework's own threads poll). In the millisecond two calls share, one returning
    as the next begins, it is the later call's: a call's request cannot come after it
    returned."""
    found = None
    for index, at, end in windows:
        if at <= exchange.at_ms <= end:
            found = index
    return found


def _order(exchange: Mapping[str, Any]) -> tuple[int, int, int]:
    """Steps in order, each call's result before the answers behind it; worker traffic
    last (the proxy's own order is kept within each)."""
    step = exchange.get("step")
    return (
        1 if step is None else 0,
        step if isinstance(step, int) else 0,
        0 if exchange.get("method") == SDK else 1,
    )


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _describe(exchange: Exchange) -> str:
    answer = "no answer" if exchange.status is None else str(exchange.status)
    body = _short(exchange.body or exchange.error or "")
    path = exchange.path + (f"?{exchange.query}" if exchange.query else "")
    return f"{exchange.method} {path} -> {answer}" + (f": {body}" if body else "")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
