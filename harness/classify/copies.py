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
    workflow = d.shape_parts[0]
    sources = [(i, f.difference) for i, f in enumerate(findings) if _in_output(f, workflow)]
    for other, source in sources:
        if other == index or not _carries(d, source):
            continue
        if (
            len(source.shape_parts) - 3 >= _COMMON_KEYS
            or _shared(findings, sources) >= _COMMON_KEYS
        ):
            return other
    return None


def _in_output(finding: Finding, workflow: object) -> bool:
    """Is the finding's difference in the output of a task of ``workflow``?"""
    parts = finding.difference.shape_parts
    return (
        finding.difference.level == "attempts"
        and parts[:1] == (workflow,)
        and parts[2:3] == ("outputData",)
    )


def _carries(output: Difference, source: Difference) -> bool:
    """Does a workflow output's difference show the same change as a task output's, at the
    same keys?"""
    tail = source.shape_parts[3:]
    return (
        bool(tail) and output.shape_parts[2:][-len(tail) :] == tail and _same_change(source, output)
    )


def _shared(findings: Sequence[Finding], sources: list[tuple[int, Difference]]) -> int:
    """How many differences of the workflow's output carry one of ``sources`` (counted up
    to ``_COMMON_KEYS``: enough to tell a copy)."""
    workflow = sources[0][1].shape_parts[0]
    shared = 0
    for finding in findings:
        d = finding.difference
        if d.level != "data" or d.shape_parts[:2] != (workflow, "output"):
            continue
        if any(_carries(d, s) for _, s in sources):
            shared += 1
            if shared >= _COMMON_KEYS:
                break
    return shared
