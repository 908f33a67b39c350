"""Scrubbed objects reused: an object like one already scrubbed at the same place is not
walked again.

Tasks repeat: the same task in snapshot after snapshot, tasks of one type alike but for
their ids, and each task's definition copied into it. At one node of the plan, objects
with the same keys in the same order, none of them renamed or dropped, share a
``Profile``. Its fields are *stable* (those that held a string, number, boolean or null
in the first object) or *varying* (objects, lists, and the fields that took a new value
on every object, as ids and sequence numbers do). Objects whose stable fields are
byte-equal (``marshal``: the same values of the same types, so 1, 1.0 and true, or 0.0
and -0.0, stay apart) share a ``Template``: the scrubbed object and what scrubbing its
stable fields counted. Another such object adds those counts again and scrubs only its
varying fields (objects and lists are reused in turn at their own nodes); when every one
of them comes out the same, the scrubbed object itself is shared. So a scrubbed trace
may hold one object in several places: it is read, never changed.

Counts are replayed as numbers only: the paths a rule lists were noted when the template
was made, in the same trace, and a rule's list of paths only grows. An object with a
field decided by its siblings (``harness/normalize/siblings.py``) is scrubbed as it
comes; the siblings are not looked at again when the fields they read are stable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from marshal import dumps
from operator import itemgetter
from typing import Any, Protocol

PLAIN = frozenset({str, int, float, bool, type(None)})  # the values that key templates
LEARN = 8  # misses between two looks for fields that changed on every object
SHAPES = 64  # profiles a node keeps (objects with other keys are scrubbed as they come)
GIVE_UP = 512  # misses after which a profile that hits less often than it misses stops


class Count(Protocol):
    count: int


class Walk(Protocol):
    """What a scrub offers: one field scrubbed, an object scrubbed as it comes (with the
    fields its siblings decide), and those fields."""

    def field(self, key: str, item: Any, node: Any) -> Any: ...

    def passive(
        self, value: Mapping[str, Any], node: Any, late: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    def late(self, value: Mapping[str, Any], node: Any) -> Mapping[str, Any]: ...


Delta = tuple[tuple[Count, int], ...]  # what a template counted: rule, changes


class Template:
    """One scrubbed object, and what scrubbing its stable fields counted."""

    __slots__ = ("delta", "out")

    def __init__(self, out: dict[str, Any], delta: Delta) -> None:
        self.out, self.delta = out, delta


class Profile:
    """Objects with one sequence of keys at one node: which fields key their templates."""

    __slots__ = (
        "deciders",
        "fixed",
        "get",
        "hits",
        "keys",
        "memo",
        "misses",
        "off",
        "seen",
        "siblings",
        "stable",
        "varying",
    )

    def __init__(
        self,
        keys: tuple[str, ...],
        value: Mapping[str, Any],
        siblings: bool,
        deciders: frozenset[str],
    ) -> None:
        self.keys = keys
        self.siblings = siblings  # whether its siblings may decide a field
        self.deciders = deciders  # the keys they read
        self.hits = self.misses = 0
        self.off = False
        self._split(tuple(k for k in keys if type(value[k]) in PLAIN))

    def _split(self, stable: tuple[str, ...]) -> None:
        self.stable = stable
        self.varying = tuple(k for k in self.keys if k not in stable)
        self.get = _getter(stable)
        # the siblings decide nothing in an object whose template's siblings decided nothing
        self.fixed = not self.siblings or self.deciders.issubset(stable)
        self.memo: dict[bytes, Template] = {}
        self.seen: list[set[Any]] = [set() for _ in stable]  # values since the last look

    def learn(self, values: tuple[Any, ...]) -> None:
        """After a miss: fields that took a new value on each of the last LEARN misses
        become varying (templates are made anew)."""
        try:
            for seen, item in zip(self.seen, values, strict=True):
                seen.add(item)
        except TypeError:  # an object or a list where the first had a plain value
            pass
        self.misses += 1
        if self.misses % LEARN:
            return
        fresh = {k for k, seen in zip(self.stable, self.seen, strict=True) if len(seen) >= LEARN}
        if fresh:
            self._split(tuple(k for k in self.stable if k not in fresh))
        else:
            self.seen = [set() for _ in self.stable]
        if self.misses >= GIVE_UP and self.hits < self.misses:
            self.off = True
            self.memo = {}


def _getter(keys: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if len(keys) > 1:
        return itemgetter(*keys)
    if keys:
        key = keys[0]
        return lambda value: (value[key],)
    return lambda value: ()


class Reuse:
    """Templates of one trace's scrub, per node (``Node.shapes``) and sequence of keys."""

    def __init__(self, walk: Walk, counts: Sequence[Count], deciders: frozenset[str]) -> None:
        self.walk = walk
        self.counts = tuple(counts)
        self.deciders = deciders  # the keys the rules that read siblings read
        self.field = walk.field

    def profile(
        self, value: dict[str, Any], node: Any, keys: tuple[str, ...], siblings: bool
    ) -> Profile | None:
        """The profile of objects with ``keys`` at ``node`` (whose keys all stay as they
        are), made on first sight; None when the node has seen too many sequences."""
        shapes = node.shapes
        found: Profile | None = shapes.get(keys)
        if found is None and len(shapes) < SHAPES:
            deciders = self.deciders.intersection(keys)
            found = shapes[keys] = Profile(keys, value, siblings, deciders)
        node.profile = found
        return found

    def mapping(self, profile: Profile, value: dict[str, Any], node: Any) -> dict[str, Any]:
        """``value`` scrubbed at ``node``: from a template when one fits."""
        if profile.off:
            return self.walk.passive(value, node, self.walk.late(value, node))
        values = profile.get(value)
        try:
            key = dumps(values, 2)  # the same bytes: the same values, of the same types
        except ValueError:  # not a JSON value
            return self.walk.passive(value, node, self.walk.late(value, node))
        if not profile.fixed:
            late = self.walk.late(value, node)
            if late:
                return self.walk.passive(value, node, late)
        template = profile.memo.get(key)
        if template is None:
            return self._miss(profile, value, node, key, values)
        profile.hits += 1
        for count, n in template.delta:
            count.count += n
        out = template.out
        if not profile.varying:
            return out
        field = self.field
        copied = False
        for k in profile.varying:
            item, old = value[k], out[k]
            kind = type(item)
            if (kind is dict or kind is list) and not item and type(old) is kind and not old:
                continue  # an empty one, as the template's
            new = field(k, item, node)
            if new is not old:
                if not copied:
                    out, copied = dict(out), True
                out[k] = new
        return out

    def _miss(
        self,
        profile: Profile,
        value: dict[str, Any],
        node: Any,
        key: bytes,
        values: tuple[Any, ...],
    ) -> dict[str, Any]:
        """Scrub ``value`` whole, field by field in order, and keep it as the template of
        its stable fields (what its varying fields counted is left out)."""
        if profile.fixed and profile.siblings:
            late = self.walk.late(value, node)
            if late:  # decided by stable fields: every object of this template would be
                return self.walk.passive(value, node, late)
        field, counts = self.field, self.counts
        varying = set(profile.varying)
        out = dict(value)
        start = [c.count for c in counts]
        apart = [0] * len(counts)  # what the varying fields counted
        for k, item in value.items():
            if k in varying:
                before = [c.count for c in counts]
                out[k] = field(k, item, node)
                for i, c in enumerate(counts):
                    apart[i] += c.count - before[i]
            else:
                out[k] = field(k, item, node)
        delta = tuple(
            (c, n)
            for c, n in ((c, c.count - s - a) for c, s, a in zip(counts, start, apart, strict=True))
            if n
        )
        profile.memo[key] = Template(out, delta)
        profile.learn(values)
        return out
