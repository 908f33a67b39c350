"""The steps that play an imported workflow: start it, give the signals only a step can
give, and wait for it to end, or record where it stops.

Workers complete worker tasks by themselves; system tasks run on the server. What
needs a step is a task that waits for a signal: a WAIT without a short duration, a
HUMAN, a system task with asyncComplete. Those on the workflow's sure path (its own
sequence and FORK branches, and the children of SUB_WORKFLOWs on that path) are
completed by steps, in order. One inside a SWITCH or DO_WHILE may be reached never,
or many times: the harness cannot tell, so the scenario then records where the
workflow stops instead of waiting for its end, and says why. So does a dynamic fork,
whose tasks are named at run time. A WAIT of at most ``SHORT_WAIT_S`` seconds is left
to its timer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.scenarios.definitions import iter_tasks

SHORT_WAIT_S = 10.0
TERMINAL = ["COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"]
MAIN = "main"
SETTLE_S = 15.0
SETTLE_JOIN_S = 40.0  # netflix 3.15.0 re-checks a JOIN on a back-off of up to 30 s
# Before netflix 3.14.0 a timed WAIT ends only at its workflow's next decision, the sweep
# about 30 s later (a 2-second WAIT took 25 to 35 s on netflix 3.13.8): each WAIT the
# workflow sits through gets that much more time to end.
SWEEP_S = 35.0
_DURATION = re.compile(
    r"(\d+)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])", re.I
)
_UNIT_S = {"d": 86400, "h": 3600, "m": 60, "s": 1}

Resolve = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


def wait_seconds(task: Mapping[str, Any]) -> float | None:
    """A WAIT's duration in seconds, or None (no duration, an ``until``, computed)."""
    params = task.get("inputParameters") or {}
    text = params.get("duration") if isinstance(params, Mapping) else None
    if not isinstance(text, str) or "${" in text or not text.strip():
        return None
    total, end = 0.0, 0
    for match in _DURATION.finditer(text):
        if text[end : match.start()].strip(" ,"):
            return None
        unit = match.group(2).lower()
        total += int(match.group(1)) * _UNIT_S["m" if unit.startswith("mi") else unit[0]]
        end = match.end()
    return total if end and not text[end:].strip() else None


def needs_step(task: Mapping[str, Any]) -> bool:
    """Whether ``task`` waits for a signal that only a step can give."""
    kind = task.get("type", "SIMPLE")
    if kind == "WAIT":
        seconds = wait_seconds(task)
        return seconds is None or seconds > SHORT_WAIT_S
    return kind == "HUMAN" or (kind != "SIMPLE" and bool(task.get("asyncComplete")))


def _has_terminate(task: Mapping[str, Any]) -> bool:
    if task.get("type") == "TERMINATE":
        return True
    nested: list[Any] = [*(task.get("decisionCases") or {}).values(), task.get("defaultCase")]
    nested += [*(task.get("forkTasks") or []), task.get("loopOver")]
    return any(_has_terminate(t) for branch in nested if isinstance(branch, list) for t in branch)


@dataclass(slots=True)
class Drive:
    steps: list[dict[str, Any]] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # refs a step completes
    blockers: list[str] = field(default_factory=list)  # why the end is not awaited
    timed_s: float = 0.0  # short WAITs the workflow sits through
    timed_count: int = 0  # how many
    timers: list[tuple[str, str]] = field(default_factory=list)  # (alias, ref): sure WAITs
    unsure_timed_s: float = 0.0  # WAITs on a path that may not run: slept through
    joins: bool = False
    settle_s: float = SETTLE_S
    scenario_s: float = 90.0
    wait_s: float = 60.0


@dataclass(slots=True)
class _Walk:
    resolve: Resolve
    child_step: bool  # the scenario format has the `child` step
    drive: Drive = field(default_factory=Drive)
    stack: list[str] = field(default_factory=list)

    def tasks(self, tasks: Any, alias: str, sure: bool, where: str) -> None:
        for task in tasks if isinstance(tasks, list) else []:
            if isinstance(task, dict):
                blocked = len(self.drive.blockers)
                self.task(task, alias, sure, where)
                if _has_terminate(task) and task.get("type") != "TERMINATE":
                    sure = False  # a branch may end the workflow: what follows may not run
                if len(self.drive.blockers) > blocked:
                    sure = False  # the workflow may stop there: what follows may not run

    def task(self, task: dict[str, Any], alias: str, sure: bool, where: str) -> None:
        kind = task.get("type", "SIMPLE")
        ref = str(task.get("taskReferenceName"))
        if kind in ("JOIN", "EXCLUSIVE_JOIN", "DO_WHILE"):
            self.drive.joins = True
        if needs_step(task):
            if sure:
                self.complete(alias, ref)
            else:
                self.drive.blockers.append(
                    f"{kind} {ref}{where} waits for a signal only a step can give, and "
                    "whether (or how often) it is reached depends on run-time values"
                )
            return
        if kind == "WAIT":
            self.timer(task, alias, ref, sure)
        elif kind in ("FORK_JOIN", "FORK"):
            for branch in task.get("forkTasks") or []:
                self.tasks(branch, alias, sure, where)
        elif kind in ("SWITCH", "DECISION"):
            inside = f" (in {kind} {ref})"
            for branch in (task.get("decisionCases") or {}).values():
                self.tasks(branch, alias, False, inside)
            self.tasks(task.get("defaultCase"), alias, False, inside)
        elif kind == "DO_WHILE":
            self.tasks(task.get("loopOver"), alias, False, f" (in DO_WHILE {ref})")
        elif kind == "FORK_JOIN_DYNAMIC":
            self.drive.joins = True
            self.drive.blockers.append(
                f"FORK_JOIN_DYNAMIC {ref}{where} forks tasks named at run time: the "
                "simulated workers poll only the worker tasks the definitions name (under "
                "the run's prefix), so a forked worker task waits for ever"
            )
        elif kind == "SUB_WORKFLOW":
            self.child(task, alias, sure, where)

    def timer(self, task: dict[str, Any], alias: str, ref: str, sure: bool) -> None:
        """A WAIT that ends by itself: awaited on the sure path, slept through elsewhere."""
        seconds = wait_seconds(task) or 0.0
        self.drive.timed_s += seconds
        self.drive.timed_count += 1
        if sure:
            self.drive.timers.append((alias, ref))
        else:
            self.drive.unsure_timed_s += seconds

    def complete(self, alias: str, ref: str) -> None:
        self.drive.completed.append(ref)
        self.drive.steps += [
            {"wait": {"workflow": alias, "status": "RUNNING", "task": ref,
                      "task_status": "IN_PROGRESS"}},
            {"complete_task": {"workflow": alias, "task": ref, "output": {}}},
        ]  # fmt: skip

    def child(self, task: dict[str, Any], alias: str, sure: bool, where: str) -> None:
        definition = self.resolve(task)
        name = str((definition or {}).get("name"))
        if definition is None or name in self.stack:
            return
        ref = str(task.get("taskReferenceName"))
        self.stack.append(name)
        inside = f" (in {name}, the child of SUB_WORKFLOW {ref})"
        waits = any(needs_step(t) for t in iter_tasks(definition.get("tasks")))
        if waits and sure and self.child_step:
            child_alias = re.sub(r"[^A-Za-z0-9_-]", "_", f"{alias}__{ref}")
            self.drive.steps += [
                {"wait": {"workflow": alias, "status": "RUNNING", "task": ref,
                          "task_status": "IN_PROGRESS"}},
                {"child": {"workflow": alias, "task": ref, "as": child_alias}},
            ]  # fmt: skip
            self.tasks(definition.get("tasks"), child_alias, True, inside)
        else:
            self.tasks(definition.get("tasks"), alias, sure and not waits, inside)
        self.stack.pop()


def plan_drive(workflow: Mapping[str, Any], resolve: Resolve, *, child_step: bool) -> Drive:
    """The steps after the start step, and the timeouts they need."""
    walk = _Walk(resolve, child_step, stack=[str(workflow.get("name"))])
    walk.tasks(workflow.get("tasks"), MAIN, True, "")
    drive = walk.drive
    drive.settle_s = SETTLE_JOIN_S if drive.joins else SETTLE_S
    drive.wait_s = min(600.0, 60.0 + 3 * drive.timed_s + SWEEP_S * drive.timed_count)
    for step in drive.steps:
        if "wait" in step:
            step["wait"]["timeout_s"] = drive.wait_s
    if drive.blockers:
        # a timer on the sure path is awaited; one that may not run is slept through
        drive.steps += [
            {"name": f"WAIT {ref} ends",
             "wait": {"workflow": alias, "task": ref, "task_status": "COMPLETED",
                      "timeout_s": drive.wait_s}}
            for alias, ref in drive.timers
        ]  # fmt: skip
        if drive.unsure_timed_s:
            sleep = min(300.0, drive.unsure_timed_s + 3)
            drive.steps.append({"name": "sit through the WAIT timers", "sleep": sleep})
        drive.steps.append({"name": "record where the workflow stops", "wait": {"workflow": MAIN}})
    else:
        drive.steps.append(
            {"name": "the workflow ends",
             "wait": {"workflow": MAIN, "status": TERMINAL, "timeout_s": drive.wait_s}}
        )  # fmt: skip
    sleeps = sum(float(s.get("sleep", 0)) for s in drive.steps)
    drive.scenario_s = min(
        3600.0, 60.0 + (len(drive.steps) + 1) * (drive.settle_s + 5) + drive.wait_s + sleeps
    )
    return drive
