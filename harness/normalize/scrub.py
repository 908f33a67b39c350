"""Apply a scrub spec to a trace: the same document, with what legitimately varies made equal.

Pure: the input trace is not changed. Idempotent: scrubbing a scrubbed trace changes
nothing, because every rule's output is a fixed point of every rule (symbols are not
UUIDs, ``<time>`` is not a number, sorted lists stay sorted). Each change is counted per
rule, with the (generalized) paths it touched, so reports can show what was equated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.normalize.collect import collection_paused
from harness.normalize.paths import Path
from harness.normalize.plan import MAX_PATHS, Bumps, Node, Plan, RuleCount
from harness.normalize.reuse import Reuse
from harness.normalize.siblings import COUNT, NOTHING, Siblings, is_number
from harness.normalize.spec import Rule, ScrubSpec
from harness.normalize.symbols import SymbolTable, assign

__all__ = ["MAX_PATHS", "RuleCount", "Scrubbed", "scrub_trace", "scrub_value"]

TIME = "<time>"
UNSET = "<unset>"


@dataclass(frozen=True, slots=True)
class Scrubbed:
    trace: dict[str, Any]
    counts: dict[str, RuleCount]
    symbols: dict[str, str]

    def summary(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"count": c.count, "paths": list(c.paths)}
            for name, c in self.counts.items()
            if c.count
        }


def scrub_trace(trace: Mapping[str, Any], spec: ScrubSpec) -> Scrubbed:
    """``trace`` normalized by ``spec`` (the rules that hold on the trace's backend)."""
    target = trace.get("target")
    spec = spec.on_backend(target.get("backend") if isinstance(target, Mapping) else None)
    ids = spec.of_kind("ids")
    with collection_paused():
        tables = [assign(trace, rule.pattern) for rule in ids if rule.pattern is not None]
        walker = _Walker(spec, list(zip(ids, tables, strict=False)))
        result = walker.top(trace, ())
    symbols = {k: v for table in tables for k, v in table.symbols.items()}
    return Scrubbed(result, walker.counts, symbols)


class _Walker:
    def __init__(self, spec: ScrubSpec, ids: list[tuple[Rule, SymbolTable]]) -> None:
        self.spec = spec
        self.plan = Plan(spec, ids)
        self.counts = self.plan.counts
        self.rename = bool(ids)  # keys are scrubbed as text too, when there are ids
        self.decided: dict[Path, str] = {}
        self.exact_indices = any(part.isdigit() for pattern in spec.scope for part in pattern.parts)
        self.siblings = Siblings(spec, self.counts)
        # an object with none of these keys has no field decided by its siblings
        self.sibling_keys = self.siblings.keys
        self.always_late = self.siblings.always
        self.reuse = Reuse(self, list(self.counts.values()), self.siblings.deciders)

    def top(self, value: Any, path: Path) -> Any:
        """Copy down to the scope's roots; scrub below them."""
        where = self._where(path)
        if where == "in":
            return self.scrub(value, self.node(path))
        if where == "out":
            return value
        if isinstance(value, Mapping):
            return {k: self.top(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.top(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def node(self, path: Path) -> Node:
        found = self.plan.root
        for part in path:
            found = found.child(part)
        return found

    def _where(self, path: Path) -> str:
        """ "in" the scope, "out" of it, or "above" it; the same for every list index when
        no scope pattern names one (so each shape is decided once)."""
        key = path if self.exact_indices else tuple(p if isinstance(p, str) else 0 for p in path)
        known = self.decided.get(key)
        if known is None:
            if any(p.matches(path) for p in self.spec.scope):
                known = "in"
            elif any(p.matches_prefix(path) for p in self.spec.scope):
                known = "above"
            else:
                known = "out"
            self.decided[key] = known
        return known

    def scrub(self, value: Any, node: Node) -> Any:
        kind = type(value)  # the types of JSON first, by identity: most values are these
        if kind is dict:
            return self._mapping(value, node)
        if kind is str:
            return value if len(value) < node.cut else self._text(value, node)
        if kind is list:
            return self._list(value, node)
        if kind is int or kind is float:
            return self._number(value, node) if node.numeric else value
        if kind is bool or value is None:
            return value
        return self._other(value, node)

    def _other(self, value: Any, node: Node) -> Any:
        if isinstance(value, Mapping):
            return self._mapping(value, node)
        if isinstance(value, list):
            return self._list(value, node)
        if isinstance(value, str):
            return self._text(value, node)
        if is_number(value):
            return self._number(value, node)
        return value

    def _mapping(self, value: Mapping[str, Any], node: Node) -> dict[str, Any]:
        if type(value) is dict:  # objects alike are scrubbed once (reuse.py)
            keys = tuple(value)
            profile = node.profile
            if profile is None or profile.keys != keys:
                profile = node.shapes.get(keys)
                if profile is None and value.keys() <= node.passive_keys:
                    siblings = self.always_late or not value.keys().isdisjoint(self.sibling_keys)
                    profile = self.reuse.profile(value, node, keys, siblings)
            if profile is not None:
                node.profile = profile
                return self.reuse.mapping(profile, value, node)
        late = NOTHING
        if self.always_late or not value.keys().isdisjoint(self.sibling_keys):
            late = self.siblings.late(value, node)
        if not value.keys() <= node.passive_keys:
            return self._fields(value, node, late)
        return self.passive(value, node, late)

    def late(self, value: Mapping[str, Any], node: Node) -> Mapping[str, Any]:
        """The fields of ``value`` its siblings decide (none: empty)."""
        if self.always_late or not value.keys().isdisjoint(self.sibling_keys):
            return self.siblings.late(value, node)
        return NOTHING

    def passive(
        self, value: Mapping[str, Any], node: Node, late: Mapping[str, Any] = NOTHING
    ) -> dict[str, Any]:
        """``_mapping`` of an object whose keys all stay as they are: a copy, in which the
        values that may change are scrubbed (objects, lists, strings long enough to hold
        an id or where a rewrite applies, numbers where a rule takes them)."""
        out = dict(value)
        entries, numeric, cut = node.entries, node.numeric_keys, self.plan.cut
        rewritten = node.rewritten_keys
        for key, item in value.items():
            kind = type(item)
            if kind is int or kind is float:
                if key in numeric and not (late and key in late):
                    out[key] = self._number(item, numeric[key])
            elif kind is str:
                if len(item) >= cut or key in rewritten:
                    out[key] = self._text(item, entries[key][1])
            elif kind is dict:  # an empty one is copied: nothing in it to scrub
                out[key] = self._mapping(item, entries[key][1]) if item else {}
            elif kind is list:
                out[key] = self._list(item, entries[key][1]) if item else []
            elif not (kind is bool or item is None or (late and key in late)):
                out[key] = self.scrub(item, entries[key][1])
        if late:
            out.update(late)  # values decided by their siblings, in place
        return out

    def field(self, key: str, item: Any, node: Node) -> Any:
        """One field of ``passive`` (none decided by its siblings), scrubbed."""
        kind = type(item)
        if kind is int or kind is float:
            numeric = node.numeric_keys.get(key)
            return item if numeric is None else self._number(item, numeric)
        if kind is str:
            if len(item) >= self.plan.cut or key in node.rewritten_keys:
                return self._text(item, node.entries[key][1])
            return item
        if kind is dict:
            return self._mapping(item, node.entries[key][1]) if item else {}
        if kind is list:
            return self._list(item, node.entries[key][1]) if item else []
        if kind is bool or item is None:
            return item
        return self.scrub(item, node.entries[key][1])

    def _fields(
        self, value: Mapping[str, Any], node: Node, late: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``_mapping`` field by field: keys renamed or dropped, values decided by rules."""
        entries = node.entries
        out: dict[str, Any] = {}
        for key, item in value.items():
            entry = entries.get(key) if type(key) is str else None
            if entry is None:
                entry = self._entry(key, node)
            name, child, bumps = entry
            if bumps:
                self._bump(bumps, node)
            if late and key in late:
                out[name] = late[key]
                continue
            if child.dropping:
                self._field(out, name, item, child)
                continue
            # what ``scrub`` does, written out for the most frequent kinds of value
            kind = type(item)
            if kind is str:
                out[name] = item if len(item) < child.cut else self._text(item, child)
            elif kind is dict:
                out[name] = self._mapping(item, child) if item else {}
            elif kind is int or kind is float:
                out[name] = self._number(item, child) if child.numeric else item
            elif kind is bool or item is None:
                out[name] = item
            else:
                out[name] = self.scrub(item, child)
        return out

    def _field(self, out: dict[str, Any], name: Any, item: Any, node: Node) -> None:
        """One field of an object where values may be dropped: kept in ``out`` or not."""
        if self._default(item, node):
            return
        scrubbed = self.scrub(item, node)
        if not self._dropped(scrubbed, node):
            out[name] = scrubbed

    @staticmethod
    def _bump(bumps: Bumps, node: Node) -> None:
        for count, n in bumps:
            count.note(node, n)

    def _entry(self, key: Any, node: Node) -> tuple[Any, Node, Bumps]:
        """A key's scrubbed name, its node and what renaming it counted (kept per node)."""
        name, bumps = self._rewrite(key, node) if self.rename else (key, ())
        child = node.child(name)
        entry = (name, child, bumps)
        if type(key) is str:
            node.entries[key] = entry
            if name == key and not bumps and not child.dropping:
                node.passive_keys.add(key)
                if child.numeric:
                    node.numeric_keys[key] = child
                if child.rewrites:
                    node.rewritten_keys.add(key)
        return entry

    def _dropped(self, value: Any, node: Node) -> bool:
        for rule in node.drops:
            self.counts[rule.name].note(node)
            return True
        if value is None or (isinstance(value, dict | list) and not value):
            for rule in node.empties:
                self.counts[rule.name].note(node)
                return True
        return self._default(value, node)

    def _default(self, value: Any, node: Node) -> bool:
        if isinstance(value, dict | list):
            return False
        for rule, values in node.defaults:
            if (type(value), value) in values:
                self.counts[rule.name].note(node)
                return True
        return False

    def _list(self, value: list[Any], node: Node) -> list[Any]:
        if not value:
            return []  # nothing to sort either
        if self.plan.blind:
            child = node.child(0)  # every index has the same rules
            items = [self.scrub(v, child) for v in value]
        else:
            items = [self.scrub(v, node.child(i)) for i, v in enumerate(value)]
        for rule in node.sorts:
            ordered = sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
            if ordered != items:
                self.counts[rule.name].note(node)
            items = ordered
        return items

    def _text(self, value: str, node: Node) -> str:
        known = node.texts.get(value)
        if known is None:
            known = node.texts[value] = self._rewrite(value, node)
        text, bumps = known
        for count, n in bumps:  # _bump
            count.note(node, n)
        return text

    def _rewrite(self, value: Any, node: Node) -> tuple[Any, Bumps]:
        """``value`` with ids as symbols and the rewrites applied; what each rule changed."""
        if type(value) is str and len(value) < node.cut:
            return value, ()
        bumps: list[tuple[RuleCount, int]] = []
        for rule, table in node.ids:
            value, n = table.replace(value)
            if n:
                bumps.append((self.counts[rule.name], n))
        for rule in node.rewrites:
            assert rule.pattern is not None
            new = rule.pattern.sub(rule.replacement, value)
            if new != value:
                bumps.append((self.counts[rule.name], 1))
                value = new
        return value, tuple(bumps)

    def _number(self, value: float, node: Node) -> Any:
        if node.stamp_count is not None and value >= 0:
            node.stamp_count.note(node)
            return TIME if value > 0 else UNSET
        if node.counter is not None:
            self.counts[node.counter.name].note(node)
            return COUNT
        integral = node.integral
        if integral is not None and isinstance(value, float) and value.is_integer():
            self.counts[integral.name].note(node)
            return int(value)
        return value


def scrub_value(value: Any, spec: ScrubSpec, path: Sequence[str | int] = ()) -> Any:
    """Scrub a lone value (no ids: they need a whole trace to get symbols)."""
    walker = _Walker(spec, [])
    return walker.scrub(value, walker.node(tuple(path)))
