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
        if other == index or not _in_output(o, workflow) or not _same_change(o, d):
            continue
        tail = parts[3:]
        if not tail or keys[-len(tail) :] != tail:
            continue
        if len(tail) >= _COMMON_KEYS or _shared(findings, workflow, parts[1]) >= _COMMON_KEYS:
            return other
    return None


def _in_output(d: Difference, workflow: object, task: object = None) -> bool:
    """Is ``d`` in the output of a task of ``workflow`` (of ``task``, when given)?"""
    parts = d.shape_parts
    return (
        d.level == "attempts"
        and parts[:1] == (workflow,)
        and parts[2:3] == ("outputData",)
        and (task is None or parts[1] == task)
    )


def _shared(findings: Sequence[Finding], workflow: object, task: object) -> int:
    """How many differences of the workflow's output have the same at the same keys of
    ``task``'s output (counted up to ``_COMMON_KEYS``: enough to tell a copy)."""
    sources = [f.difference for f in findings if _in_output(f.difference, workflow, task)]
    shared = 0
    for finding in findings:
        d = finding.difference
        if d.level != "data" or d.shape_parts[:2] != (workflow, "output"):
            continue
        keys = d.shape_parts[2:]
        if any(
            len(s.shape_parts) > 3
            and keys[-len(s.shape_parts[3:]) :] == s.shape_parts[3:]
            and _same_change(s, d)
            for s in sources
        ):
            shared += 1
            if shared >= _COMMON_KEYS:
                break
    return shared
