"""Pairs of objects diffed once: the same pair again at the same place replays what the
first walk found.

Objects repeat in a trace: a task's definition copied into every task, the same task in
snapshot after snapshot, and a scrub shares one object wherever the same one comes out
(``harness/normalize/reuse.py``). Two views of a 10,000-task trace then diff the same
pair of definitions 10,000 times, alike in every task. ``Walked`` is a fold that
remembers, for a pair of objects (the very objects, kept alive with the record) at one
generalized path (one ``Shape``: task keys and indices written ``*``), the differences
found under it: each one's group, and its path and text after the pair's. Met again, the
pair adds the same differences under its own path, in the same order, to the same
groups, without walking. They are those the walk would find: the same objects at the
same generalized path make the same groups; only their paths and steps differ.

A shape whose pairs never came back (a task's own object, new in each snapshot) is no
longer recorded after a few.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.compare.fold import At, Fold, Path, Shape, Taped

TRIES = 32  # pairs recorded at a shape before it is given up if none came back
Append = Callable[[Any], None]


class Found:
    """What the walk found under one pair: per difference its group and where its path
    and text go, its path and text after the pair's."""

    __slots__ = ("a", "b", "each", "step", "steps", "taped")

    def __init__(self, a: Any, b: Any, tape: Taped, n: int, m: int) -> None:
        self.a, self.b = a, b  # kept alive: their ids are the key
        self.taped: list[tuple[Append, Append, Path, str, Any]] = [
            (g.paths.append, g.texts.append, where[n:], rendered[m:], g)
            for g, where, rendered in tape
        ]
        self.each = [entry[:4] for entry in self.taped]
        self.steps = list({id(g): g.steps for g, _, _ in tape}.values())
        self.step: Any = ...  # the step it was last replayed in (none yet)


class Walked(Fold):
    """A fold that records what it finds under pairs of objects, and replays it."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: dict[tuple[int, int, Shape], Found] = {}
        self.tries: dict[Shape, int] = {}  # pairs recorded at a shape
        self.back: set[Shape] = set()  # shapes where a pair came back

    def enter(self, level: str) -> None:
        super().enter(level)
        self.pairs, self.tries, self.back = {}, {}, set()

    def replay(self, at: At, a: Any, b: Any) -> bool:
        """Add what the pair ``a``, ``b`` at ``at`` was found to hold, if it was walked."""
        path, shape, text = at
        found = self.pairs.get((id(a), id(b), shape))  # type: ignore[arg-type]
        if found is None or text is None:
            return False
        step = self.step
        if found.step != step:  # each group's steps end with this one from then on
            for steps in found.steps:  # never empty: noted when the pair was walked
                if steps[-1] != step:
                    steps.append(step)
            found.step = step
        tape = self.tape
        if tape is None:
            for paths, texts, tail, written in found.each:
                paths(path + tail)
                texts(text + written)
        else:
            for paths, texts, tail, written, group in found.taped:
                where, rendered = path + tail, text + written
                paths(where)
                texts(rendered)
                tape.append((group, where, rendered))
        self.back.add(shape)  # type: ignore[arg-type]
        return True

    def wanted(self, shape: Shape) -> bool:
        """Whether pairs at ``shape`` may have been recorded, or are worth recording."""
        if shape in self.back:
            return True
        tries = self.tries.get(shape, 0)
        if tries >= TRIES:
            return False
        self.tries[shape] = tries + 1
        return True

    def start(self) -> Taped | None:
        """Record from here; returns the record that was open (nested pairs add to it)."""
        outer = self.tape
        self.tape = []
        return outer

    def keep(self, at: At, a: Any, b: Any, outer: Taped | None) -> None:
        """Close the record opened by ``start`` for the pair ``a``, ``b`` at ``at``."""
        tape, self.tape = self.tape, outer
        path, shape, text = at
        if tape is None or shape is None or text is None:
            return
        self.pairs[(id(a), id(b), shape)] = Found(a, b, tape, len(path), len(text))
        if outer is not None:
            outer.extend(tape)
