"""Differences that follow from another one, by the structure of Conductor's data alone.

A consequence is shown under its root and counted once; it takes its root's change (or
stays unexplained with it). The relations, each between findings of one scenario:

- an exchange whose status code changed, or that only one side answered: every other
  difference of that exchange;
- a workflow whose status changed: tasks present on one side only, the workflow's
  ``endTime`` and its reason present on one side only, the running-workflow lists that
  name it;
- a SWITCH that chose another case: tasks present on one side only in its workflow;
- a workflow that ran other tasks (its task set differs): its own data (output,
  variables, failed task names, end time), which those tasks made;
- a task whose status changed: what its run made (output, start, end and update times,
  worker, poll count, reason), the worker calls that carried it on one side only, and its
  workflow's status and reason when that reason names the task on either side ("Task
  <wf1/t#0> failed ...") and the task went the workflow's way (from running, done or
  failed to another of those);
- a task present on one side only, or a workflow whose tasks one side never recorded:
  the worker calls that carried them;
- a failure workflow's ``input.failedWorkflow``, and a workflow's output that carries a
  task's output: the same difference where it was copied from (``copies``);
- a candidate run that ended at a step without completing (the step did not settle, or
  its call failed) where the baseline's went on: the run's outcome, what it never recorded
  (the snapshots and calls of the steps after that one, the captures at the end; after a
  call that failed, that step's own snapshots and answer too), from the status change of a
  workflow in that step's snapshots, or, with none, from the run's outcome;
- what a client SDK's call gave its caller (a client's trace: an ``SDK`` exchange): a
  server answer whose status code changed during that call, or the same difference (kind
  and place in the body) of a server answer during that call, which the SDK passed on
  (in its result, or in the body of the error it raised).

A root and its consequence are seen at the same steps, except for an exchange's own
fields, worker calls, the lists captured at the end and what a run that ended early lost.
A finding that its own catalogued change explains stays with that change unless the root
has it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.classify import copies
from harness.classify.model import Finding
from harness.compare import Difference

ADDED_REMOVED = ("added", "removed")
MADE = ("output", "variables", "failedReferenceTaskNames", "failedTaskNames", "endTime")
TASK_MADE: tuple[str, ...] = ("outputData", "startTime", "endTime", "updateTime")
TASK_MADE += ("workerId", "pollCount", "reasonForIncompletion")
_WORKER = re.compile(r"^worker \S+ \S+ (wf\d+)/(\S+) #\d+$")
_WORKFLOW = re.compile(r"^<(wf\d+)>$")
_PLAIN_ID = re.compile(r"^<id\d+>$")
_UNNAMED = re.compile(r"^worker \S+ \S+ id\d+ #\d+$")  # a worker's call, its workflow unnamed
_RUNNING = "/api/workflow/running/"
_SDK = "step SDK "  # a client's call, as harness/clients/trace.py records it
_NAMED_TASK = re.compile(r"<(wf\d+)/([^<>]+)>")
_TASK_WAY = {"SCHEDULED": "running", "IN_PROGRESS": "running", "COMPLETED": "done"}
_TASK_WAY |= {"COMPLETED_WITH_ERRORS": "done", "SKIPPED": "done"}
_WORKFLOW_WAY = {"RUNNING": "running", "PAUSED": "running", "COMPLETED": "done"}
_OUTCOME = ("scenario",)  # the status level's place for a run's outcome
_CAPTURE = "capture "

# shown on their own: what the baseline does by itself, what the scenario ignores, and
# what the candidate does only sometimes (a finding about the candidate, unless a
# catalogued cause that the same runs show explains it)
_OWN = ("noise", "ignored", "intermittent")

Parts = tuple[str | int, ...]
Roots = dict[tuple[str | int, ...], list[int]]


def places(d: Difference) -> list[Parts]:
    """Every place a difference occurs, with its workflow and task keys as recorded."""
    return list(d.all_parts) or [d.shape_parts]


def consequences(findings: Sequence[Finding]) -> dict[int, int]:
    """index of a finding -> index of the finding it follows from."""
    roots = _roots(findings)
    stop = _stop(findings)
    out: dict[int, int] = {}
    for index, finding in enumerate(findings):
        if finding.disposition in _OWN and finding.disposition != "intermittent":
            continue
        root = _root_of(findings, index, roots)
        if root is not None and _may_follow(findings[root], finding):
            out[index] = root
        elif root is None and stop is not None:
            # what a run lost by stopping follows from what it was then, in the runs that
            # stopped, whether or not the runs that went on were the same
            root = _after_stop(findings, index, stop)
            if root is not None and _may_follow(findings[root], finding, stopped=True):
                out[index] = root
    # an intermittent finding follows only from a catalogued cause: a run that sometimes
    # stops because of a known change is that change's, not a finding of its own
    final = resolve(out)
    return {
        index: root
        for index, root in out.items()
        if findings[index].disposition != "intermittent"
        or (index in final and findings[final[index]].change is not None)
    }


def _may_follow(root: Finding, this: Finding, *, stopped: bool = False) -> bool:
    """It takes its root's change (if it has its own, the same); an intermittent finding
    only from what the same candidate runs show (``stopped``: at least those runs)."""
    if this.disposition == "intermittent" and not (
        set(root.shown_by) >= set(this.shown_by)
        if stopped
        else root.disposition in ("intermittent", "consequence") and root.shown_by == this.shown_by
    ):
        return False
    mine, theirs = this.change, root.change
    return mine is None or (theirs is not None and mine["id"] == theirs["id"])


def _roots(findings: Sequence[Finding]) -> Roots:
    roots: Roots = defaultdict(list)
    for index, finding in enumerate(findings):
        d = finding.difference
        parts = d.shape_parts
        if finding.disposition in ("noise", "ignored"):
            continue
        if len(parts) == 2 and d.level == "api" and d.kind == "status_code":
            roots[("api", parts[0])].append(index)
            if not str(parts[0]).startswith(_SDK):
                roots[("call",)].append(index)
        elif parts[1:] == ("status",) and d.level == "api" and d.kind in ADDED_REMOVED:
            roots[("api", parts[0])].append(index)  # a call answered on one side only
        if d.level == "api" and len(parts) > 1 and not str(parts[0]).startswith(_SDK):
            roots[("passed", d.kind, *parts[1:])].append(index)
        elif len(parts) == 2 and d.level == "status" and parts[1] == "status":
            for key in ("tasks", "data", "running", "reason"):
                roots[(key, parts[0])].append(index)
        elif parts and d.level == "tasks":
            roots[("data", parts[0])].append(index)
        for place in places(d):
            for at in _place_keys(d, place):
                roots[at].append(index)
    return roots


def _place_keys(d: Difference, place: Parts) -> list[tuple[str | int, ...]]:
    """What one place of a difference is a root of: the tasks of another SWITCH case, what
    a task's run made and its worker calls on one side only (a task polled on one side
    only, say), the worker calls of a task or a workflow present on one side."""
    if (
        d.level == "attempts"
        and place[2:] == ("outputData", "selectedCase")
        and d.kind == "changed"  # another case; not the field new on one side
    ):
        return [("tasks", place[0])]
    if d.level != "tasks":
        return []
    if place[2:] == ("status",) and d.kind == "changed":
        calls = f"{place[0]}/{place[1]}"
        return [("task", *place[:2]), *(("worker", calls, kind) for kind in ADDED_REMOVED)]
    if len(place) == 2 and d.kind in ADDED_REMOVED:
        return [("worker", f"{place[0]}/{place[1]}", d.kind)]
    if len(place) == 1 and d.kind in ADDED_REMOVED:
        return [("worker", str(place[0]), d.kind)]  # a whole workflow
    return []


def _root_of(findings: Sequence[Finding], index: int, roots: Roots) -> int | None:
    d = findings[index].difference
    parts = d.shape_parts
    if not parts:
        return None
    if d.level == "api":
        found = _covering(findings, index, roots.get(("api", parts[0]), []))
        if found is None and str(parts[0]).startswith(_SDK):
            found = _covering(findings, index, [*roots.get(("call",), []), *_passed(d, roots)])
        if found is not None or d.kind not in ADDED_REMOVED:
            return found
        return _api_listing(findings, index, roots)
    if d.level == "data" and parts[1:2] == ("input",) and parts[2:3] == ("failedWorkflow",):
        return copies.failure_input(findings, index)
    if d.level == "data" and len(parts) > 1 and parts[1] in MADE:
        found = _covering(findings, index, roots.get(("data", parts[0]), []))
        if found is None and parts[1] == "output":
            found = copies.workflow_output(findings, index)
        return found
    if d.level == "tasks" and d.kind in ADDED_REMOVED:
        return _covering(findings, index, roots.get(("tasks", parts[0]), []))
    if d.level == "status" and len(parts) == 2:
        return _status_root(findings, index, roots)
    if d.level == "attempts":
        keys = [("task", *place[:2]) for place in places(d) if place[2:3] in _TASK_MADE]
        if keys and len(keys) == len(places(d)):
            return _covering(findings, index, [r for k in keys for r in roots.get(k, [])])
    return None


_TASK_MADE = [(field,) for field in TASK_MADE]


def _status_root(findings: Sequence[Finding], index: int, roots: Roots) -> int | None:
    """A workflow's status or reason: from a task's status change that it names; its reason
    present on one side only, from its own status change."""
    d = findings[index].difference
    workflow, field = d.shape_parts
    if field == "reasonForIncompletion" and d.kind in ADDED_REMOVED:
        found = _covering(findings, index, roots.get(("reason", workflow), []))
        if found is not None and _may_follow(findings[found], findings[index]):
            return found
    named = _named_tasks(findings, str(workflow), roots)
    if field == "status":
        named = [r for r in named if _same_way(findings[r].difference, d)]
    else:
        named = [
            r
            for r in named
            if _way(findings[r].difference.baseline, _TASK_WAY)
            != _way(findings[r].difference.candidate, _TASK_WAY)
        ]
    return _covering(findings, index, named)


def _passed(d: Difference, roots: Roots) -> list[int]:
    """The server answers' differences an SDK's result passes on: the same difference at
    the same place, in what it returned or in the body of the error it raised."""
    parts = d.shape_parts
    passed = roots.get(("passed", d.kind, *parts[1:]), [])
    if parts[1:3] == ("body", "body"):
        passed = passed + roots.get(("passed", d.kind, *parts[2:]), [])
    return passed


def _named_tasks(findings: Sequence[Finding], workflow: str, roots: Roots) -> list[int]:
    """The status changes of the tasks that a workflow's changed reason names."""
    out = []
    for finding in findings:
        d = finding.difference
        if d.level != "status" or d.shape_parts != (workflow, "reasonForIncompletion"):
            continue
        for value in (d.baseline, d.candidate):
            for named in _NAMED_TASK.finditer(value if isinstance(value, str) else ""):
                if named.group(1) == workflow:
                    out += roots.get(("task", workflow, named.group(2)), [])
    return out


def _way(status: object, ways: dict[str, str]) -> str:
    """running, done or failed (any other end: FAILED, TIMED_OUT, CANCELED, TERMINATED)."""
    return ways.get(str(status), "failed")


def _same_way(task: Difference, workflow: Difference) -> bool:
    """A task status change that the workflow's follows: both from the same way to the
    same other way."""
    before = _way(task.baseline, _TASK_WAY), _way(task.candidate, _TASK_WAY)
    after = _way(workflow.baseline, _WORKFLOW_WAY), _way(workflow.candidate, _WORKFLOW_WAY)
    return before == after and before[0] != before[1]


def _api_listing(findings: Sequence[Finding], index: int, roots: Roots) -> int | None:
    """A worker call that carried a task present on one side only, or a running list
    that names a workflow whose status changed."""
    d = findings[index].difference
    worker = _WORKER.match(str(d.shape_parts[0]))
    if worker and len(d.shape_parts) == 1:
        task = roots.get(("worker", f"{worker.group(1)}/{worker.group(2)}", d.kind), [])
        whole = roots.get(("worker", worker.group(1), d.kind), [])
        return next(iter([*task, *whole]), None)
    value = d.baseline if d.missing == "candidate" else d.candidate
    named = _WORKFLOW.match(value) if isinstance(value, str) else None
    if named and _RUNNING in str(d.shape_parts[0]):  # captured once, at the end
        return next(iter(roots.get(("running", named.group(1)), [])), None)
    return None


@dataclass(frozen=True, slots=True)
class _Stop:
    """Where and how the candidate's run ended without completing: ``finding`` is its
    outcome's."""

    step: int
    outcome: object
    finding: int


def _stop(findings: Sequence[Finding]) -> _Stop | None:
    """The step at which the candidate's run ended without completing, when the baseline's
    compared run went on (its outcome is recorded at that step on one side only)."""
    for index, finding in enumerate(findings):
        d = finding.difference
        if d.level != "status" or d.shape_parts != _OUTCOME or d.missing != "baseline":
            continue
        ended = d.candidate.get("outcome") if isinstance(d.candidate, Mapping) else None
        if ended != "completed" and len(d.steps) == 1 and d.steps[0] is not None:
            return _Stop(d.steps[0], ended, index)
    return None


def _after_stop(findings: Sequence[Finding], index: int, stop: _Stop) -> int | None:
    """For what a candidate run that ended at step ``stop`` lost by ending there: the
    status change of a workflow at that step (or, for a run whose last snapshot stands at
    the next step the baseline has snapshots of, at that one: the earliest after it); with
    none, the run's outcome itself (a call at that step that got no answer, say)."""
    if not _lost(findings[index].difference, stop):
        return None
    found = [
        (min(s for s in d.steps if s is not None), root)
        for root, finding in enumerate(findings)
        if root != index
        and finding.disposition not in ("noise", "ignored")
        and (d := finding.difference).level == "status"
        and d.kind == "changed"
        and len(d.shape_parts) == 2
        and d.shape_parts[1] == "status"
        and any(s is not None and s >= stop.step for s in d.steps)
    ]
    at_stop = [root for _, root in found if stop.step in findings[root].difference.steps]
    later = [root for _, root in sorted(found)]
    outcome = [stop.finding] if stop.finding != index else []
    return next(iter(at_stop or later or outcome), None)


def _lost(d: Difference, stop: _Stop) -> bool:
    """The run's outcome, or a whole snapshot or call the candidate never recorded: of a
    step after the stop, or captured at the end; for a run that ended in an error (a call
    that failed), what it never recorded of the stop's own step too (its snapshots, the
    answer it never got)."""
    if d.level == "status" and d.shape_parts == _OUTCOME:
        return True
    if _unseen_workflow(d) or _unnamed_call(d):
        return True
    if d.missing != "candidate":
        return False
    failed = stop.outcome == "error"  # its call failed: the step recorded nothing after it
    if failed and d.steps and all(s == stop.step for s in d.steps):
        return True
    if len(d.shape_parts) != 1:
        return False
    if d.level == "api" and str(d.shape_parts[0]).startswith(_CAPTURE):
        return True
    # a workflow the stopped run never saw: its last snapshots were not settled
    first = stop.step if failed or d.level != "api" else stop.step + 1
    return bool(d.steps) and all(s is not None and s >= first for s in d.steps)


def _unseen_workflow(d: Difference) -> bool:
    """An answer naming a workflow that the baseline's run saw and the stopped run never did
    (no snapshot of it, so its id kept a plain symbol)."""
    return (
        d.level == "api"
        and d.kind == "changed"
        and isinstance(d.baseline, str)
        and isinstance(d.candidate, str)
        and _WORKFLOW.match(d.baseline) is not None
        and _PLAIN_ID.match(d.candidate) is not None
    )


def _unnamed_call(d: Difference) -> bool:
    """A worker's call on a workflow that the stopped run never named (no snapshot of it, so
    the call's key keeps a plain id where the baseline's names the workflow and task)."""
    key = str(d.shape_parts[0]) if d.shape_parts else ""
    return d.level == "api" and d.missing == "baseline" and _UNNAMED.match(key) is not None


def _covering(findings: Sequence[Finding], index: int, candidates: list[int]) -> int | None:
    """The first root at the same steps as finding ``index`` (or, together with the other
    roots, covering all of its steps)."""
    steps = set(findings[index].difference.steps)
    others = [r for r in candidates if r != index]
    for root in others:
        if steps <= set(findings[root].difference.steps):
            return root
    covered = set().union(*(findings[r].difference.steps for r in others)) if others else set()
    if others and steps <= covered:
        return next(r for r in others if steps & set(findings[r].difference.steps))
    return None


def resolve(follows: dict[int, int]) -> dict[int, int]:
    """Each consequence pointed at the root of its chain (a cycle is left out)."""
    out: dict[int, int] = {}
    for index, first in follows.items():
        seen = {index}
        root = first
        while root in follows and root not in seen:
            seen.add(root)
            root = follows[root]
        if root not in seen:
            out[index] = root
    return out
