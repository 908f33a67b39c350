"""Conductor's statuses: which ones have ended, and when a JOIN's branches all have.

A base layer: the runner reads them to know when a server has settled, and the
classifier to test what a JOIN saw in a recorded snapshot, so both read one definition."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

TERMINAL_TASK = frozenset(
    {"CANCELED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "COMPLETED", "COMPLETED_WITH_ERRORS",
     "TIMED_OUT", "SKIPPED"}
)  # fmt: skip
TERMINAL_WORKFLOW = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})

_ITERATION = re.compile(r"__\d+$")


def iteration_suffix(reference: str) -> str:
    """The DO_WHILE iteration a task reference carries (``__2`` in ``branch__2``), or ''."""
    found = _ITERATION.search(reference)
    return found.group(0) if found else ""


def joined_ended(
    join_on: Iterable[str], join_reference: str, status_of: Callable[[str], object]
) -> bool:
    """Whether every task a JOIN (``join_reference``) joins on has ended.

    ``status_of`` gives the status of the latest attempt of a task by its reference (None
    when there is none). Inside a DO_WHILE, ``joinOn`` names the plain references while the
    tasks carry the iteration's suffix of the JOIN itself (``branch__2`` for ``branch`` in
    iteration 2): that task is read when there is one, else the plain one. An empty ``joinOn`` (a
    dynamic fork of nothing) has ended at once."""
    suffix = iteration_suffix(join_reference)

    def status(reference: str) -> object:
        found = status_of(f"{reference}{suffix}") if suffix else None
        return status_of(reference) if found is None else found

    return all(status(r) in TERMINAL_TASK for r in join_on)
