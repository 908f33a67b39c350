"""Apply a scrub spec to a trace: the same document, with what legitimately varies made equal.

Pure: the input trace is not changed. Idempotent: scrubbing a scrubbed trace changes
nothing, because every rule's output is a fixed point of every rule (symbols are not
UUIDs, ``<time>`` is not a number, sorted lists stay sorted). Each change is counted per
rule, with the (generalized) paths it touched, so reports can show what was equated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from harness.normalize.collect import collection_paused
from harness.normalize.paths import Path
from harness.normalize.plan import MAX_PATHS, Bumps, Node, Plan, RuleCount
from harness.normalize.spec import Rule, ScrubSpec
from harness.normalize.symbols import SymbolTable, assign

__all__ = ["MAX_PATHS", "RuleCount", "Scrubbed", "scrub_trace", "scrub_value"]

TIME = "<time>"
UNSET = "<unset>"
COUNT = "<count>"
FLAG = "<timing>"  # a true/false the server sets on its own schedule
_NOTHING: dict[str, Any] = {}  # no field decided by its siblings (never written)


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


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_flag(value: Any) -> TypeGuard[bool]:
    return isinstance(value, bool)


class _Walker:
    def __init__(self, spec: ScrubSpec, ids: list[tuple[Rule, SymbolTable]]) -> None:
        self.spec = spec
        self.plan = Plan(spec, ids)
        self.counts = self.plan.counts
        self.rename = bool(ids)  # keys are scrubbed as text too, when there are ids
        self.decided: dict[Path, str] = {}
        self.exact_indices = any(part.isdigit() for pattern in spec.scope for part in pattern.parts)
        stamps = spec.of_kind("timestamps")
        self.chains = [(rule, chain) for rule in stamps for chain in rule.order]
        self.chain_keys = frozenset(key for _, chain in self.chains for key in chain)
        self.chain_order = tuple(dict.fromkeys(key for _, chain in self.chains for key in chain))
        # the chains with two keys or more among an object's chain keys (else none is broken)
        self.chains_for: dict[tuple[str, ...], list[tuple[Rule, tuple[str, ...]]]] = {}
        # rules that look at a value's siblings (taskType): what they take, what they give
        self.conditional: list[tuple[Rule, Callable[[Any], bool], str]] = [
            *((r, _is_number, COUNT) for r in spec.of_kind("counters") if r.when),
            *((r, _is_flag, FLAG) for r in spec.of_kind("flags")),
        ]
        self.when_keys = _when_keys([rule for rule, _, _ in self.conditional])
        # an object with none of these keys has no field decided by its siblings
        self.sibling_keys = self.chain_keys | (self.when_keys or frozenset())
        self.always_late = self.when_keys is None

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
        if _is_number(value):
            return self._number(value, node)
        return value

    def _mapping(self, value: Mapping[str, Any], node: Node) -> dict[str, Any]:
        late = _NOTHING
        if self.always_late or not value.keys().isdisjoint(self.sibling_keys):
            late = self._late(value, node)
        if not value.keys() <= node.passive_keys:
            return self._fields(value, node, late)
        # every key stays as it is: copy, then scrub the values that may change (objects,
        # lists, strings long enough to hold an id or where a rewrite applies, numbers where
        # a rule takes them)
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

    def _late(self, value: Mapping[str, Any], node: Node) -> dict[str, Any]:
        """Fields whose value is decided by their siblings: order violations, conditions."""
        keys = value.keys()
        late = _NOTHING
        if not keys.isdisjoint(self.chain_keys):
            late = self._order_violations(value, node)
        if self.when_keys is None or not keys.isdisjoint(self.when_keys):
            late = self._conditions(value, node, late or {})
        return late

    def _conditions(
        self, value: Mapping[str, Any], node: Node, late: dict[str, Any]
    ) -> dict[str, Any]:
        get = value.get
        for rule, takes, gives in self.conditional:
            for key, values in rule.when:  # rule.holds_in, without a generator
                if get(key) not in values:
                    break
            else:
                for key, item in value.items():
                    if takes(item) and key not in late:
                        child = node.child(key)
                        if rule.applies(child.path):
                            late[key] = gives
                            self.counts[rule.name].note(child)
        return late

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

    def _order_violations(self, value: Mapping[str, Any], node: Node) -> dict[str, Any]:
        present = tuple([key for key in self.chain_order if key in value])
        chains = self.chains_for.get(present)
        if chains is None:
            chains = self.chains_for[present] = [
                (rule, chain) for rule, chain in self.chains if len(set(chain) & set(present)) > 1
            ]
        late: dict[str, Any] = {}
        get = value.get
        for rule, chain in chains:
            previous: str | None = None  # the chain's last timestamp so far: its key, value
            since = 0.0
            for key in chain:
                current: Any = get(key)
                if current is None:
                    continue
                kind = type(current)
                if not (kind is int or kind is float or _is_number(current)) or not current > 0:
                    continue
                if previous is not None and current < since:
                    child = node.child(key)
                    if rule.applies(child.path):
                        late[key] = f"<time:before {previous}>"
                        self.counts[rule.name].note(child)
                previous, since = key, float(current)
        return late

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


def _when_keys(rules: list[Rule]) -> frozenset[str] | None:
    """The sibling keys the conditional rules look at, when an object with none of them
    holds no rule's condition (so it needs no check); None when it may."""
    for rule in rules:
        if not any(None not in values for _, values in rule.when):
            return None
    return frozenset(key for rule in rules for key, _ in rule.when)


def scrub_value(value: Any, spec: ScrubSpec, path: Sequence[str | int] = ()) -> Any:
    """Scrub a lone value (no ids: they need a whole trace to get symbols)."""
    walker = _Walker(spec, [])
    return walker.scrub(value, walker.node(tuple(path)))
