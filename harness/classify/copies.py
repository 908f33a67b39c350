"""Differences that are copies of another: the same change of value, carried from one
place to another by Conductor itself.

- a failure workflow's ``input.failedWorkflow``: the same difference in the workflow that
  failed;
- a workflow's output that carries a task's output (``outputParameters`` such as
  ``${join.output}``): the same difference at the same keys of that task's output in the
  same workflow (at least two keys in common, so that a lone key equal by chance is not
  taken for a copy).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.classify.model import Finding
from harness.compare import Difference

_COMMON_KEYS = 2  # the keys an output shares with a task's output to be its copy


def _same_change(a: Difference, b: Difference) -> bool:
    return (a.kind, a.missing, a.baseline, a.candidate) == (
        b.kind,
        b.missing,
        b.baseline,
        b.candidate,
    )


def failure_input(findings: Sequence[Finding], index: int) -> int | None:
    """The same difference in the failed workflow, for a failure workflow's input."""
    d = findings[index].difference
    rest = d.shape_parts[3:]
    for other, finding in enumerate(findings):
        o = finding.difference
        if (
            other != index
            and o.shape_parts[1:] == rest
            and o.level in ("data", "status")
            and _same_change(o, d)
        ):
            return other
    return None


def workflow_output(findings: Sequence[Finding], index: int) -> int | None:
    """The same difference in a task's output, for a workflow's output that carries it."""
    d = findings[index].difference
    workflow, keys = d.shape_parts[0], d.shape_parts[2:]
    for other, finding in enumerate(findings):
        o = finding.difference
        parts = o.shape_parts
        if other == index or o.level != "attempts" or parts[:1] != (workflow,):
            continue
        if parts[2:3] != ("outputData",) or not _same_change(o, d):
            continue
        tail = parts[3:]
        if len(tail) >= _COMMON_KEYS and keys[-len(tail) :] == tail:
            return other
    return None
