"""Sharding a comparison: ``--shard I/N`` runs part I of N of the scenarios, so that N CI
jobs with the same arguments cover every scenario exactly once (``merge`` joins them).

The rule, the same on every machine and whatever order the files were found in: the
scenarios selected by the paths are sorted by name (scenario names are unique in a run;
code point order), and the k-th of them (counting from 0) goes to shard ``k mod N + 1``.
Shards differ in size by one scenario at most; a shard with no scenario (more shards
than scenarios) runs nothing and reports nothing.

A shard's run folder records which shard it is (the plan's ``shard``, in run.json) and
what it was cut from (``record``, beside the plan in run.json): the whole selection's
size and digest (every scenario's name and file digest), its own part, and the scenarios
of that part it compared (gate: those with a recorded baseline). ``merge`` checks the
parts against each other with them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import BadInputError

FORM = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")


@dataclass(frozen=True, slots=True)
class Shard:
    """Part ``index`` (from 1) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"``; anything else is bad input that names the option."""
        match = FORM.fullmatch(str(text))
        index, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not match or count < 1 or not 1 <= index <= count:
            raise BadInputError(
                f"--shard takes I/N, part I of N with 1 <= I <= N (as 2/4), not '{text}'"
            )
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def part(self, names: Iterable[str]) -> list[str]:
        """The names of ``names`` this shard takes, sorted."""
        return partition(names, self.count)[self.index - 1]


def partition(names: Iterable[str], count: int) -> list[list[str]]:
    """``names`` cut into ``count`` parts by the rule: sorted, dealt out in turn."""
    ordered = sorted(set(names))
    return [ordered[i::count] for i in range(count)]


def selection_digest(scenarios: Iterable[tuple[str, str]]) -> str:
    """The digest of a selection: every scenario's name and file digest, in name order."""
    lines = "".join(f"{name}\t{digest}\n" for name, digest in sorted(scenarios))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def record(
    shard: Shard, everything: Sequence[tuple[str, str]], compared: Iterable[str]
) -> dict[str, Any]:
    """run.json's ``shard``: which part of which selection (``everything``: name and
    digest of every scenario selected by the paths), and what this part compared."""
    part = shard.part(name for name, _ in everything)
    return {
        "index": shard.index,
        "count": shard.count,
        "selection": {"scenarios": len(everything), "digest": selection_digest(everything)},
        "scenarios": part,
        "compared": sorted(compared),
    }
