"""Which rules apply where: a tree of the paths a scrub visits, each node knowing its rules.

Testing every rule against the path of every value was most of a scrub's cost. A walk
descends this tree instead: a node is made the first time its path is seen and asks each
rule once whether it applies there; later values at the same path reuse the answer. List
indices share one node when no pattern can tell them apart (``*`` and ``**`` match every
index, a part with a letter matches none; with parts like ``1`` or ``[0-4]``, the indices
that match the same parts share one), so the tasks of a 10,000-task list share the nodes
of their fields. A node also remembers what its strings became (an id seen again is not
searched for again) and which keys of its objects need no rule but a value's own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from harness.normalize.paths import Path, generalize
from harness.normalize.reuse import Profile
from harness.normalize.spec import Rule, ScrubSpec
from harness.normalize.symbols import SymbolTable

MAX_PATHS = 12


@dataclass(slots=True)
class RuleCount:
    """What one rule changed in one trace."""

    count: int = 0
    paths: list[str] = field(default_factory=list)

    def add(self, path: Path, n: int = 1) -> None:
        self.count += n
        if len(self.paths) < MAX_PATHS:
            shape = generalize(path)
            if shape not in self.paths:
                self.paths.append(shape)

    def note(self, node: Node, n: int = 1) -> None:
        """``add`` for the path of ``node``."""
        self.count += n
        if len(self.paths) < MAX_PATHS:
            shape = node.shape
            if shape not in self.paths:
                self.paths.append(shape)


Bumps = tuple[tuple[RuleCount, int], ...]  # what one string counted: rule, changes
Defaults = tuple[tuple[Rule, frozenset[tuple[type, Any]]], ...]


class Plan:
    """The spec's rules sorted by what they do, and the root of the path tree."""

    def __init__(self, spec: ScrubSpec, ids: Sequence[tuple[Rule, SymbolTable]]) -> None:
        self.counts = {r.name: RuleCount() for r in spec.rules}
        self.ids = tuple(ids)
        # the length of the shortest id each table knows: shorter strings hold none
        self.shortest = {id(t): min(map(len, t.symbols), default=sys.maxsize) for _, t in ids}
        self.cut = min(self.shortest.values(), default=sys.maxsize)  # the least of any node
        self.rewrites = tuple(r for r in spec.of_kind("rewrite") if r.pattern is not None)
        self.stamps = spec.of_kind("timestamps")
        self.counters = tuple(r for r in spec.of_kind("counters") if not r.when)
        self.integral = spec.of_kind("integral-numbers")
        self.sorts = spec.of_kind("sort")
        self.drops = spec.of_kind("drop")
        self.empties = spec.of_kind("drop-empty")
        self.defaults: Defaults = tuple(
            (rule, frozenset((type(d), d) for d in rule.defaults if not isinstance(d, dict | list)))
            for rule in spec.of_kind("drop-default")
        )
        # pattern parts that match some list indices and not others ("1", "[0-4]", "?")
        parts = {part for r in spec.rules for p in r.fields for part in p.parts}
        self.telling = tuple(sorted(part for part in parts if not _index_blind(part)))
        self.blind = not self.telling  # then every index of a list has the same rules
        self.kinds: dict[int, tuple[bool, ...]] = {}  # index -> which telling parts it matches
        self.root = Node(self, ())


class Node:
    """One path (one shape of paths when indices are blind) and the rules that apply there."""

    __slots__ = (
        "_index",
        "_indices",
        "_others",
        "_shape",
        "counter",
        "cut",
        "defaults",
        "dropping",
        "drops",
        "empties",
        "entries",
        "ids",
        "integral",
        "keys",
        "numeric",
        "numeric_keys",
        "passive_keys",
        "path",
        "plan",
        "profile",
        "rewrites",
        "rewritten_keys",
        "shapes",
        "sorts",
        "stamp",
        "stamp_count",
        "texts",
    )

    def __init__(self, plan: Plan, path: Path) -> None:
        self.plan = plan
        self.path = path
        self._shape: str | None = None
        self.keys: dict[str, Node] = {}
        # a key of an object here: its scrubbed name, its node, what renaming it counted
        self.entries: dict[str, tuple[Any, Node, Bumps]] = {}
        # keys that stay as they are here, of fields no rule drops (passive: see _mapping)
        self.passive_keys: set[str] = set()
        self.numeric_keys: dict[str, Node] = {}  # those of them a number rule applies to
        self.rewritten_keys: set[str] = set()  # and those a rewrite applies to
        self._index: Node | None = None
        self._indices: dict[tuple[bool, ...], Node] = {}
        self._others: dict[tuple[type, Any], Node] = {}
        # objects here by their sequence of keys, and the last one's (reuse.py)
        self.shapes: dict[tuple[str, ...], Profile] = {}
        self.profile: Profile | None = None
        # a string's scrubbed text and what it counted (only strings that can change)
        self.texts: dict[str, tuple[str, Bumps]] = {}
        self.ids = tuple((r, t) for r, t in plan.ids if r.applies(path))
        self.rewrites = _applying(plan.rewrites, path)
        # strings shorter than ``cut`` stay as they are: too short for any known id
        shortest = (plan.shortest[id(t)] for _, t in self.ids)
        self.cut = 0 if self.rewrites else min(shortest, default=sys.maxsize)
        self.stamp = _first(plan.stamps, path)
        self.stamp_count = None if self.stamp is None else plan.counts[self.stamp.name]
        self.counter = _first(plan.counters, path)
        self.integral = _first(plan.integral, path)
        self.numeric = not (self.stamp is None and self.counter is None and self.integral is None)
        self.sorts = _applying(plan.sorts, path)
        self.drops = _applying(plan.drops, path)
        self.empties = _applying(plan.empties, path)
        self.defaults = tuple((r, values) for r, values in plan.defaults if r.applies(path))
        self.dropping = bool(self.drops or self.empties or self.defaults)

    @property
    def shape(self) -> str:
        """The path with list indices as ``[*]``: what counts record."""
        if self._shape is None:
            self._shape = generalize(self.path)
        return self._shape

    def child(self, key: str | int) -> Node:
        if type(key) is str:
            found = self.keys.get(key)
            if found is None:
                found = self.keys[key] = Node(self.plan, (*self.path, key))
            return found
        if type(key) is int:
            return self._item(key)
        other = self._others.get((type(key), key))
        if other is None:
            other = self._others[(type(key), key)] = Node(self.plan, (*self.path, key))
        return other

    def _item(self, index: int) -> Node:
        plan = self.plan
        if plan.blind:
            if self._index is None:
                self._index = Node(plan, (*self.path, index))
            return self._index
        kind = plan.kinds.get(index)  # indices that match the same parts share a node
        if kind is None:
            text = str(index)
            kind = plan.kinds[index] = tuple(fnmatchcase(text, p) for p in plan.telling)
        found = self._indices.get(kind)
        if found is None:
            found = self._indices[kind] = Node(plan, (*self.path, index))
        return found


def _index_blind(part: str) -> bool:
    """True when ``part`` matches every list index or none (so indices need no nodes of
    their own): ``*``, ``**``, or a part with a literal character no index is written with."""
    if part.strip("*") == "":
        return True
    return "[" not in part and any(c not in "*?-" and not c.isdigit() for c in part)


def _applying(rules: Iterable[Rule], path: Path) -> tuple[Rule, ...]:
    return tuple(r for r in rules if r.applies(path))


def _first(rules: Iterable[Rule], path: Path) -> Rule | None:
    return next((r for r in rules if r.applies(path)), None)
