"""The search: Hypothesis draws scenarios, a ``check`` plays each and names the
unexplained differences it shows, and each new one is shrunk to a small scenario.

    a round       one Hypothesis run with its own seed (the run's seed, plus the round)
    generate      drawings until one shows a difference no earlier finding has (of those
                  it shows, the most severe is the one the round shrinks)
    shrink        Hypothesis's shrinker; an example counts as failing only when it shows
                  that same difference (``check`` has already asked it to reproduce)
    the end       the smallest failing example of the round is the finding; the next
                  round looks for a difference not found yet

``check`` is deterministic for one drawing (the caller plays each scenario once and
remembers what it showed), so Hypothesis's own replay of the final example agrees with
the search. The search ends when the budget is spent, or when ``stop`` is set: a drawing
in progress finishes, and the round's best example so far is kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as with_seed
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import Flaky

from harness.explore.strategies import Drawn, Node, drawn

MAX_SHRINK_EXAMPLES = 120  # drawings played while shrinking one finding, at most


class Abort(BaseException):
    """Raised by a ``check`` that cannot go on (a server died): the search ends and
    ``error`` (None: it was told to stop) reaches the caller."""

    def __init__(self, error: BaseException | None) -> None:
        super().__init__(str(error) if error else "stopped")
        self.error = error


class _Stop(BaseException):
    """The budget is spent, or the search was told to stop: ends the round at once."""


class _ShrinkDone(BaseException):
    """Shrinking played its allowance: the best example so far is the finding."""


class _Unexplained(Exception):
    """The example shows the difference the round is after."""


@dataclass(frozen=True, slots=True)
class Found:
    """One unexplained difference and the smallest drawing that showed it."""

    signature: str
    drawn: Drawn
    size: int
    shrink_examples: int  # drawings played while shrinking it
    shrunk: bool  # False: the search ended (or the allowance ran out) before shrinking did

    @property
    def shrinking(self) -> str:
        """complete, partial (stopped on the way: the smallest example so far) or none."""
        if self.shrunk:
            return "complete"
        return "partial" if self.shrink_examples else "none"


@dataclass(slots=True)
class Tally:
    examples: int = 0  # drawings played (each on both targets)
    shrink_examples: int = 0
    rounds: int = 0
    pending: dict[str, Drawn] = field(default_factory=dict)  # seen, not shrunk yet


Check = Callable[[Drawn, str], tuple[str, ...]]  # unexplained differences, worst first


def size(value: Drawn | tuple[Node, ...]) -> int:
    """Tasks in a drawing (composite ones count their contents), plus its workers."""
    if isinstance(value, Drawn):
        return size(value.tasks) + size(value.child) + len(value.workers)
    return sum(1 + sum(size(inner) for inner in node.lists) for node in value)


@dataclass(slots=True)
class _Round:
    sought: str | None = None
    best: Drawn | None = None
    shrinks: int = 0


class Search:
    def __init__(
        self,
        check: Check,
        *,
        seed: int,
        budget_s: float,
        database: Path | None = None,
        on_example: Callable[[str, Tally, int], None] | None = None,
        max_shrink_examples: int = MAX_SHRINK_EXAMPLES,
    ) -> None:
        self.check = check
        self.seed = seed
        self.deadline = time.monotonic() + budget_s
        self.database: ExampleDatabase | None = (
            DirectoryBasedExampleDatabase(str(database)) if database is not None else None
        )
        self.on_example = on_example
        self.max_shrink_examples = max_shrink_examples
        self.stop = threading.Event()
        self.tally = Tally()
        self.found: list[Found] = []

    @property
    def known(self) -> set[str]:
        return {f.signature for f in self.found}

    def run(self, rounds: int | None = None, findings: int | None = None) -> list[Found]:
        """Rounds until the budget is spent (or ``rounds`` of them, or ``findings`` found);
        every finding, in the order found."""
        while not self._over() and (rounds is None or self.tally.rounds < rounds):
            if findings is not None and len(self.found) >= findings:
                break
            finding = self._round(self.seed + self.tally.rounds)
            self.tally.rounds += 1
            if finding is not None:
                self.found.append(finding)
                self.tally.pending.pop(finding.signature, None)
        for signature, example in sorted(self.tally.pending.items()):
            if signature not in self.known:  # seen while shrinking another, never its own round
                self.found.append(Found(signature, example, size(example), 0, False))
        return self.found

    def _over(self) -> bool:
        return self.stop.is_set() or time.monotonic() >= self.deadline

    def _round(self, seed: int) -> Found | None:
        state = _Round()

        def probe(example: Drawn) -> None:
            if self._over():
                raise _Stop
            if state.sought is not None:
                if state.shrinks >= self.max_shrink_examples:
                    raise _ShrinkDone
                state.shrinks += 1
                self.tally.shrink_examples += 1
            self.tally.examples += 1
            shown = self.check(example, "search" if state.sought is None else "shrink")
            new = [s for s in shown if s not in self.known]
            if self.on_example is not None:
                self.on_example(
                    "search" if state.sought is None else "shrink", self.tally, len(new)
                )
            if state.sought is None and new:
                state.sought = new[0]  # the worst: shrunk first
            if state.sought is not None and state.sought in shown:
                if state.best is None or size(example) <= size(state.best):
                    state.best = example
                raise _Unexplained(state.sought)
            for signature in new:
                self.tally.pending.setdefault(signature, example)

        # ``@seed`` turns the example database off in the settings it finds, so the
        # settings come after it: failing examples are saved, and replayed by the next run.
        test = settings(
            database=self.database,
            max_examples=1_000_000,
            deadline=None,
            derandomize=False,
            report_multiple_bugs=False,
            print_blob=False,
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
        )(with_seed(seed)(given(drawn)(probe)))
        shrunk = False
        try:
            test()
        except (_Unexplained, Flaky):
            shrunk = True
        except (_Stop, _ShrinkDone):
            pass
        if state.sought is None or state.best is None:
            return None
        return Found(state.sought, state.best, size(state.best), state.shrinks, shrunk)
