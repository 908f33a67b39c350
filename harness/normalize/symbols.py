"""Ids to symbols: the same role gets the same name on every run and every version.

Symbols are assigned by walking the trace in an order that does not depend on timing or
on the ids' values: settled snapshots step by step (workflows in the order the runner
listed them, tasks by ``seq``), then the scenario's own REST calls in step order, then
everything else. Workflows become ``wf1``, ``wf2``...; a task becomes
``<workflow>/<reference>#<retryCount>`` (``~2`` for a second id with the same name, as
after a restart); any other id ``id1``, ``id2``... A symbol is written ``<wf1>`` wherever
the id was, inside text too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

ORIGIN_RANK = {
    "setup": 0,
    "step": 1,
    "capture": 2,
    "worker": 3,
    "lookup": 4,
    "wait": 5,
    "settle": 6,
    "cleanup": 7,
}


class SymbolTable:
    """Assigns and remembers symbols for one trace."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.symbols: dict[str, str] = {}
        self._taken: set[str] = set()
        self._workflows = 0
        self._others = 0

    def workflow(self, value: Any) -> None:
        if self._fresh(value):
            self._workflows += 1
            self._bind(value, f"wf{self._workflows}")

    def task(self, value: Any, workflow_id: Any, ref: Any, retry: Any) -> None:
        if not self._fresh(value):
            return
        owner = self.symbols.get(str(workflow_id), "wf?")
        base = f"{owner}/{ref}#{retry if isinstance(retry, int) else '?'}"
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}~{n}"
        self._bind(value, name)

    def text(self, value: str) -> None:
        for match in self.pattern.finditer(value):
            if self._fresh(match.group(0)):
                self._others += 1
                self._bind(match.group(0), f"id{self._others}")

    def replace(self, value: str) -> tuple[str, int]:
        """``value`` with every known id written as its symbol, and how many were replaced."""
        whole = self.pattern.match(value)
        if whole is not None and whole.end() == len(value) and "" not in self.symbols:
            # one id and nothing else (most ids): what the substitution below gives
            symbol = self.symbols.get(value)
            return (value, 0) if symbol is None else (f"<{symbol}>", 1)
        count = 0

        def swap(match: re.Match[str]) -> str:
            nonlocal count
            symbol = self.symbols.get(match.group(0))
            if symbol is None:
                return match.group(0)
            count += 1
            return f"<{symbol}>"

        return self.pattern.sub(swap, value), count

    def _fresh(self, value: Any) -> bool:
        return (
            isinstance(value, str)
            and value not in self.symbols
            and self.pattern.fullmatch(value) is not None
        )

    def _bind(self, value: str, name: str) -> None:
        self.symbols[value] = name
        self._taken.add(name)


def assign(trace: Mapping[str, Any], pattern: re.Pattern[str]) -> SymbolTable:
    table = SymbolTable(pattern)
    documents = [d for s in trace.get("steps") or [] for d in s.get("snapshots") or []]
    documents += list((trace.get("outcome") or {}).get("last_snapshot") or [])
    for document in documents:
        _document(table, document)
    exchanges = sorted(
        trace.get("exchanges") or [],
        key=lambda e: (_when(e), ORIGIN_RANK.get(str(e.get("origin")), 9), e.get("seq", 0)),
    )
    for exchange in exchanges:
        for part in ("path", "query", "request_body", "body"):
            for text in _strings(exchange.get(part)):
                table.text(text)
    for rest in ("workers", "stub_requests", "outcome"):
        for text in _strings(trace.get(rest)):
            table.text(text)
    return table


def _when(exchange: Mapping[str, Any]) -> float:
    """Where an exchange falls among the steps: its step's index; setup before every step,
    and the calls of no step (the capture at the end, workers between steps) after them, so
    that what a capture lists (running workflows, say, in the server's order) does not
    number the ids the steps' answers name."""
    step = exchange.get("step")
    if step is not None:
        return float(step)
    return -1.0 if exchange.get("origin") == "setup" else math.inf


def _document(table: SymbolTable, document: Mapping[str, Any]) -> None:
    workflow_id = document.get("workflowId")
    table.workflow(workflow_id)
    tasks = [t for t in document.get("tasks") or [] if isinstance(t, Mapping)]
    for task in sorted(tasks, key=seq_of):
        table.task(
            task.get("taskId"), workflow_id, task.get("referenceTaskName"), task.get("retryCount")
        )
        for key in ("subWorkflowId",):
            table.workflow(task.get(key))
        table.workflow((task.get("outputData") or {}).get("subWorkflowId"))


def seq_of(task: Mapping[str, Any]) -> int:
    """A task's ``seq`` (the order the server scheduled it), 0 when missing."""
    seq = task.get("seq")
    return seq if isinstance(seq, int) else 0


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
